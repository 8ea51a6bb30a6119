"""Roles are Django groups with permissions. `roles_sync` makes the groups match ROLES (idempotent)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission

from .config_seal import config_seal_all
from .keys import IntegrityKeyMissing

VIEW_MASTERDATA = [
    "masterdata.view_site",
    "masterdata.view_workcenter",
    "masterdata.view_operation",
    "masterdata.view_operationalias",
    "masterdata.view_part",
    "masterdata.view_partrevision",
    "masterdata.view_routing",
    "masterdata.view_routingstep",
    "masterdata.view_characteristic",
    "masterdata.view_stepattachment",
    "masterdata.view_qualification",
    "masterdata.view_routingstepcomponent",
]
EDIT_MASTERDATA = [
    f"masterdata.{action}_{model}"
    for model in (
        "site",
        "workcenter",
        "operation",
        "operationalias",
        "unmappedcode",
        "part",
        "partrevision",
        "routing",
        "routingstep",
        "characteristic",
        "stepattachment",
        "routingstepcomponent",
    )
    for action in ("add", "change", "view")
] + [
    # Deleting is only possible for drafts (the database refuses it for released routings).
    f"masterdata.delete_{model}"
    for model in ("routing", "routingstep", "characteristic", "stepattachment", "routingstepcomponent")
]

VIEW_TRAVELERS = [
    f"travelers.view_{model}"
    for model in (
        "workorder",
        "item",
        "traveler",
        "travelerstep",
        "travelercharacteristic",
        "measurement",
        "attachment",
        "nonconformance",
        "consumption",
        "hold",
    )
]
OPERATOR = ["travelers.perform_step", "travelers.correct_measurement", "travelers.hold_traveler", "travelers.raise_ncr"]
INSPECTOR = [
    "compliance.view_integrity",
    "compliance.review_audit_trail",
    "masterdata.approve_routing_quality",
    "travelers.inspect_step",
    "travelers.correct_measurement",
    "travelers.hold_traveler",
    "travelers.release_hold",
    "travelers.raise_ncr",
    "travelers.disposition_ncr",
    "travelers.signoff_traveler",
]
SUPERVISOR = [
    "travelers.release_traveler",
    "travelers.skip_step",
    "travelers.hold_traveler",
    "travelers.release_hold",
    "travelers.raise_ncr",
    "travelers.replan_traveler",
    "compliance.unlock_signing",
]

ROLES: dict[str, list[str]] = {
    "Operator": VIEW_MASTERDATA + VIEW_TRAVELERS + OPERATOR,
    "Inspector": VIEW_MASTERDATA + VIEW_TRAVELERS + INSPECTOR + ["integrations.view_capability"],
    "Supervisor": VIEW_MASTERDATA
    + VIEW_TRAVELERS
    + SUPERVISOR
    + ["masterdata.view_unmappedcode", "compliance.view_profile"]
    + ["integrations.view_sync_status", "integrations.reprocess_message", "integrations.view_capability"],
    "Engineer": EDIT_MASTERDATA
    + VIEW_TRAVELERS
    + ["masterdata.view_qualification", "travelers.replan_traveler", "travelers.mrb_engineering"]
    + ["masterdata.approve_routing_engineering", "integrations.view_capability"],
    "Administrator": EDIT_MASTERDATA
    + VIEW_TRAVELERS
    + ["travelers.release_traveler", "compliance.unlock_signing", "archive.dispose_package"]
    + ["compliance.view_integrity", "compliance.view_apitoken", "compliance.revoke_apitoken"]
    + ["compliance.review_audit_trail", "integrations.view_capability"]
    + [
        "masterdata.add_qualification",
        "masterdata.change_qualification",
        "compliance.add_profile",
        "compliance.change_profile",
        "compliance.view_profile",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
    ],
}


def roles_sync() -> dict[str, int]:
    """Create or update every role's group; returns the permission count per role."""
    counts = {}
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                raise LookupError(f"role {role}: permission {dotted} does not exist")
            perms.append(perm)
        group.permissions.set(perms)
        counts[role] = len(perms)
    return counts


def sync_after_migrate(
    sender: object, app_config: AppConfig | None = None, using: str = "default", **kwargs: Any
) -> None:
    # Run once, after the last app with models (post_migrate skips the others) has migrated, when
    # every permission exists.
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if app_config is None or app_config.label != last.label:
        return
    roles_sync()
    # What the migration and the role sync changed is sealed now, not left for the beat to find. Without
    # an integrity key (a first install) the beat seals it once one is configured; migrating still works.
    try:
        config_seal_all()
    except IntegrityKeyMissing as missing:
        print(f"Configuration history not sealed yet: {missing}")
