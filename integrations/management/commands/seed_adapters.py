"""`manage.py seed_adapters`: configure the demo adapters beside the simulated legacy MES (idempotent).

One spec per adapter below; an adapter that exists already is left as it is (its settings may have
been changed in the admin). Run after seed_demo: an adapter's site must exist, and its source system is
the site's legacy system, whose operation aliases seed_demo loaded.

  wic-file-drop   Wichita's legacy MES drops B2MML/CSV files in var/dropbox/wic/inbox (then done/ or
                  failed/) and takes performance documents from var/dropbox/wic/outbox.
  tls-legacy-db   Toulouse's legacy MES database (the simulator's, `manage.py legacy_sim`): the DSN is
                  read from LEGACY_DB_URL; when that is unset the simulator's database on Traveler's
                  PostgreSQL server is used (integrations.sim.legacy.legacy_dsn sets it).
  qro-file-drop   Querétaro's ERP drops its V0600 ProductionSchedule exports in var/dropbox/qro/inbox and
                  takes completions as V0600 ProductionPerformance from var/dropbox/qro/outbox.

The three release travelers on import, as the account `legacy-mes` (made here, allowed to release
travelers and nothing else, no password), numbered by each site's numbering rule (made here when the site
has none: W26-00001 at WIC, T26-… at TLS, Q26-… at QRO), so the simulator's orders reach the stations'
queues at once. Adapters and rules that exist already are left as they are.

MQTT and OPC UA adapters are added to ADAPTERS by their own module's seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.models import Adapter
from integrations.sim.legacy.database import LEGACY_ENV, MAPPING
from integrations.sim.legacy.orders import PLANTS
from mes.masterdata.models import Site
from travelers.models import NumberingRule


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    kind: str
    site: str | None
    settings: Callable[[], dict] = field(default=dict)  # evaluated at seed time (paths under var/)
    inbound: bool = True
    outbound: bool = False
    secret_env: str = ""
    schedule_seconds: int = 60
    folders: tuple[str, ...] = ()  # settings keys naming folders to create
    release_on_import: bool = False


def dropbox(site: str) -> dict:
    root = Path(settings.VAR_DIR) / "dropbox" / site
    return {name: str(root / name) for name in ("inbox", "done", "failed", "outbox")}


ADAPTERS: list[AdapterSpec] = [
    AdapterSpec(
        name="wic-file-drop",
        kind=Adapter.Kind.FILE_DROP,
        site="WIC",
        outbound=True,
        schedule_seconds=10,
        folders=("inbox", "done", "failed", "outbox"),
        release_on_import=True,
        settings=lambda: {
            **dropbox("wic"),
            "site_codes": {PLANTS["WIC"]: "WIC"},
            "layout": {
                "number": "WO",
                "part": "PN",
                "revision": "REV",
                "quantity": "QTY",
                "due": "DUE",
                "operations": "OPS",
                "delimiter": ";",
                "date_format": "%Y-%m-%d",
                "operations_separator": "|",
            },
        },
    ),
    AdapterSpec(
        name="tls-legacy-db",
        kind=Adapter.Kind.LEGACY_DB,
        site="TLS",
        outbound=True,
        secret_env=LEGACY_ENV,
        schedule_seconds=15,
        settings=lambda: {**MAPPING, "plant": PLANTS["TLS"], "simulator": True, "lag_seconds": 1},
        release_on_import=True,
    ),
    AdapterSpec(  # Querétaro's ERP: V0600 ProductionSchedule exports without revision, in PCS
        name="qro-file-drop",
        kind=Adapter.Kind.FILE_DROP,
        site="QRO",
        outbound=True,
        schedule_seconds=10,
        folders=("inbox", "done", "failed", "outbox"),
        settings=lambda: {  # the ERP reads completions as V0600 ProductionPerformance
            **dropbox("qro"),
            "site_codes": {PLANTS["QRO"]: "QRO"},
            "performance_version": "V0600",
        },
        release_on_import=True,
    ),
    AdapterSpec(  # archives every closed traveler into the data lake (DATA_LAKE_URL, default var/lake)
        name="data-lake-archive",
        kind=Adapter.Kind.ARCHIVE,
        site=None,
        inbound=False,
        outbound=True,
        settings=dict,
    ),
]


RELEASE_ACCOUNT = "legacy-mes"
NUMBERING = {"WIC": "W{yy}-{seq:05d}", "TLS": "T{yy}-{seq:05d}", "QRO": "Q{yy}-{seq:05d}"}


def release_account():
    """The account the demo adapters release travelers as: allowed to do that and nothing else."""
    user, made = get_user_model().objects.get_or_create(
        username=RELEASE_ACCOUNT, defaults={"first_name": "Legacy MES", "last_name": "(integration)"}
    )
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="travelers", codename="release_traveler")
        )
    return user


class Command(BaseCommand):
    help = (
        "Configure the demo adapters (file drop for WIC and QRO, legacy database for TLS, data-lake archive) and "
        "the numbering rules they release travelers with; idempotent."
    )

    def handle(self, *args, **options):
        created = present = skipped = 0
        account = release_account()
        for spec in ADAPTERS:
            site = Site.objects.filter(code=spec.site).first() if spec.site else None
            if spec.site and site is None:
                skipped += 1
                self.stdout.write(f"  {spec.name:<16} skipped: site {spec.site} does not exist (run seed_demo first)")
                continue
            values = spec.settings()
            with transaction.atomic():
                adapter, made = Adapter.objects.get_or_create(
                    name=spec.name,
                    defaults={
                        "kind": spec.kind,
                        "site": site,
                        "source_system": site.legacy_system if site else spec.name,
                        "inbound": spec.inbound,
                        "outbound": spec.outbound,
                        "settings": values,
                        "secret_env": spec.secret_env,
                        "schedule_seconds": spec.schedule_seconds,
                        "release_policy": Adapter.ReleasePolicy.ON_IMPORT
                        if spec.release_on_import
                        else Adapter.ReleasePolicy.SUPERVISOR,
                        "release_as": account if spec.release_on_import else None,
                    },
                )
                if spec.release_on_import and site is not None:
                    NumberingRule.objects.get_or_create(
                        site=site, part=None, defaults={"pattern": NUMBERING[site.code]}
                    )
            for key in spec.folders:
                if adapter.settings.get(key):
                    Path(adapter.settings[key]).mkdir(parents=True, exist_ok=True)
            created += made
            present += not made
            self.stdout.write(f"  {spec.name:<16} {'created' if made else 'already present'} ({spec.kind})")
        self.stdout.write(f"Adapters: {created} created, {present} already present, {skipped} skipped.")
