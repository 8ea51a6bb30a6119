"""Sealing a generated history with the integrity key, in processes: each `manage.py generate_history
--seal-shard i/n` keys the signatures and audit chains of a shard of the travelers
(integrations.traceability.history_seal), then the work orders' chains are sealed here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from integrations.traceability.history_seal import seal_travelers, seal_work_orders
from mes.compliance.models import Profile
from travelers.models import Traveler


def printed_names() -> dict[int, str]:
    """Every signer's printed name, by user id, for the signatures' manifestation."""
    return dict(Profile.objects.values_list("user_id", "printed_name"))


def database_url() -> str:
    """The database this process generates into, as a DATABASE_URL for the sealing processes: the one
    the connection uses (a test database, say), not whatever the environment names."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{quote(db['NAME'])}"


def seal(workers: int, say: Callable[[str], None]) -> None:
    """Seal in `workers` processes (each a shard of the travelers), then the work orders' chains here."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.pop("TEST_DATABASE_NAME", None)
    connection.close()
    workers = max(1, workers)
    procs = [
        subprocess.Popen(  # noqa: S603 - our own manage.py with our own arguments
            [sys.executable, "manage.py", "generate_history", "--seal-shard", f"{i}/{workers}"],
            cwd=str(Path(settings.BASE_DIR)),
            env=env,
        )
        for i in range(workers)
    ]
    failed = [p.args[-1] for p in procs if p.wait() != 0]
    if failed:
        raise CommandError(f"sealing shard(s) {', '.join(failed)} failed")
    events = seal_work_orders(printed_names())
    say(f"sealed in {workers} process(es); {events:,} work-order events")


def seal_shard(shard: str, say: Callable[[str], None]) -> None:
    """Seal the travelers of shard "i/n" (ids ≡ i mod n): one sealing process of `seal`."""
    index, count = (int(x) for x in shard.split("/"))
    ids = list(
        Traveler.objects.extra(where=["id %% %s = %s"], params=[count, index])  # noqa: S610 - integers only
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    signatures, events = seal_travelers(ids, printed_names())
    say(f"shard {shard}: {len(ids):,} travelers, {signatures:,} signatures keyed, {events:,} audit events")
