"""Roles are Django groups with permissions. `roles_sync` makes the groups match ROLES (idempotent)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

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
    )
    for action in ("add", "change", "view")
] + ["masterdata.delete_routingstep", "masterdata.delete_characteristic", "masterdata.delete_stepattachment"]

ROLES: dict[str, list[str]] = {
    "Operator": VIEW_MASTERDATA,
    "Inspector": VIEW_MASTERDATA,
    "Supervisor": VIEW_MASTERDATA + ["masterdata.view_unmappedcode", "compliance.view_profile"],
    "Engineer": EDIT_MASTERDATA + ["masterdata.view_qualification"],
    "Administrator": EDIT_MASTERDATA
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


def sync_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # Run once, after the last installed app has migrated, when every permission exists.
    from django.apps import apps

    if app_config is None or app_config.label != list(apps.get_app_configs())[-1].label:
        return
    roles_sync()
