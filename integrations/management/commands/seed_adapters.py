"""`manage.py seed_adapters`: configure the demo adapters beside the simulated legacy MES (idempotent).

One spec per adapter below; an adapter that exists already is left as it is (its settings may have
been changed in the admin). Run after seed_demo: an adapter's site must exist, and its source system is
the site's legacy system, whose operation aliases seed_demo loaded.

  wic-file-drop   Wichita's legacy MES drops B2MML/CSV files in var/dropbox/wic/inbox (then done/ or
                  failed/) and takes performance documents from var/dropbox/wic/outbox.
  tls-legacy-db   Toulouse's legacy MES database (the simulator's, `manage.py legacy_sim`): the DSN is
                  read from LEGACY_DB_URL; when that is unset the simulator's database on Traveler's
                  PostgreSQL server is used (integrations.sim.legacy.legacy_dsn sets it).

MQTT and OPC UA adapters are added to ADAPTERS by their own module's seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.models import Adapter
from integrations.sim import legacy
from mes.masterdata.models import Site


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
        settings=lambda: {
            **dropbox("wic"),
            "site_codes": {legacy.PLANTS["WIC"]: "WIC"},
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
        secret_env=legacy.LEGACY_ENV,
        schedule_seconds=15,
        settings=lambda: {**legacy.MAPPING, "plant": legacy.PLANTS["TLS"], "simulator": True, "lag_seconds": 1},
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


class Command(BaseCommand):
    help = "Configure the demo adapters (file drop for WIC, legacy database for TLS, data-lake archive); idempotent."

    def handle(self, *args, **options):
        created = present = skipped = 0
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
                    },
                )
            for key in spec.folders:
                if adapter.settings.get(key):
                    Path(adapter.settings[key]).mkdir(parents=True, exist_ok=True)
            created += made
            present += not made
            self.stdout.write(f"  {spec.name:<16} {'created' if made else 'already present'} ({spec.kind})")
        self.stdout.write(f"Adapters: {created} created, {present} already present, {skipped} skipped.")
