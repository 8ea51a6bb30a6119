"""Archive throughput at 1,000 closed travelers: packages per second with and without the PDF, and the
measurement-facts export in rows per second.

    .venv/bin/python bench/archive.py     # [--travelers 1000] [--batch 100] [--runs 3] [--workers 1] [--profile]
    (BENCH_DB names the scratch database; default traveler_bench_archive)

What it does, all on this machine, in one command:
1. creates a scratch database `traveler_bench_archive` on the server Traveler uses (the private one, or
   the server of DATABASE_URL) and migrates it;
2. builds ONE real closed traveler through the services (the history of the archive tests: 4 steps,
   6 values with a correction, a measurement photo and a file, 7 signatures, the final approval), then
   clones its rows with bulk_create into `--travelers` closed travelers (items, travelers, steps, specs,
   values, attachments, signatures, audit chains with recomputed hashes), their times shifted back 7 h
   per clone so they spread over ~10 monthly partitions. Cloned signatures keep the source's content
   hash — the fixture is for timing only, written with the database's record guards off (triggers
   disabled for the cloning session: they refuse rows added to a closed traveler);
3. per run, archives the same `--batch` travelers into a fresh local lake under a temporary folder,
   through integrations.archive.services.traveler_archive (the task's code), shared out between
   `--workers` processes (as Celery workers would take them): once with the PDF, once without
   (`with_pdf=False`, to show what the PDF costs);
4. builds every traveler's envelope (traveler.json) once, then exports the facts of all of them
   (rows -> Parquet -> lake) per run, and scans the whole facts dataset with DuckDB;
5. prints the median of the runs — and the CPU each archived traveler cost the workers' Python and their
   PostgreSQL backends (read from /proc when the server runs on this machine), which a machine shared with
   other work disturbs far less than the rates; drops the scratch database. No assertions, no targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import django
import duckdb
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = os.environ.get("BENCH_DB", "traveler_bench_archive")  # a name of your own if others bench too


def drop_scratch(url: str) -> None:
    from django.db import connections

    connections.close_all()
    for conn in connections.all():
        close_pool = getattr(conn, "close_pool", None)
        if close_pool:
            close_pool()
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


# --- The fixture: one real traveler, cloned ---------------------------------------------------------------


def real_travelers(count: int) -> list:
    """`count` closed travelers made through the services, each with the history of the archive tests
    (4 steps, 6 values with a correction, a measurement photo and a file, 7 signatures, the final approval,
    a work order from a recorded inbound message), so each verifies as archiving requires."""

    from django.conf import settings
    from django.contrib.auth import hashers
    from django.utils import timezone

    from mes.masterdata import services as md
    from tests.factories import OperationFactory, PartFactory, PartRevisionFactory, SiteFactory, WorkCenterFactory
    from tests.integrations.archive_support import closed_traveler, photo_traveler
    from tests.travelers.conftest import build_routing, person
    from travelers import services

    # Signing checks a secret each time: the tests' fast hasher, for making the fixture only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS[1:2]]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
    site = SiteFactory(code="WIC", time_zone="America/Chicago", legacy_system="legacy-wic")
    wc = WorkCenterFactory(site=site, code="CELL-1")
    ops = {
        n: OperationFactory(code=n.upper(), name=n.capitalize())
        for n in ("machining", "assembly", "marking", "inspection")
    }
    md.operation_alias_create(operation=ops["machining"], source_system="legacy-wic", site=site, code="MC-10")
    revision = PartRevisionFactory(part=PartFactory(number="HSG-1", name="Housing"), revision="A")
    routing = build_routing(revision, ops, wc)
    everyone = list(ops.values())
    shop = SimpleNamespace(
        operator=person("Operator", "olga", everyone, "perform"),
        inspector=person("Inspector", "ines", everyone, "inspect"),
        supervisor=person("Supervisor", "sam", [], None),
        routing=routing,
    )
    made = []
    for n in range(1, count + 1):
        shop.order = services.work_order_create(
            number=f"WO-{n}", part_revision=revision, quantity=1, site=site, due_date=timezone.localdate()
        )
        if n == 1:  # the bore step also asks for a photo, as in the tests (routing r2)
            traveler = photo_traveler(shop)
        else:
            traveler = services.traveler_release(work_order=shop.order, identifier=f"SN-{n:04d}", actor=shop.supervisor)
        made.append(closed_traveler(shop, traveler))
    return made


def _shifted(value, delta):
    return value + delta if value is not None else None


def clone(source, count: int, batch: int = 100) -> list[int]:
    """`count` copies of `source` by bulk inserts (for the facts export at scale; never archived here)."""
    from django.db import connection, transaction

    from mes.compliance import keys
    from mes.compliance.audit import GENESIS, event_hash
    from mes.compliance.models import AuditChainHead, AuditEvent, Signature
    from travelers.models import Attachment, Item, Measurement, Traveler, TravelerCharacteristic, TravelerStep

    steps = list(TravelerStep.objects.filter(traveler=source).order_by("sequence"))
    chars = list(TravelerCharacteristic.objects.filter(step__traveler=source).order_by("id"))
    attachments = list(Attachment.objects.filter(step__traveler=source).order_by("id"))
    measurements = list(Measurement.objects.filter(step__traveler=source).order_by("id"))
    sig_ids = {s for st in steps for s in (st.performed_signature_id, st.inspected_signature_id, st.skip_signature_id)}
    sig_ids |= {m.correction_signature_id for m in measurements} | {source.final_signature_id}
    signatures = list(Signature.objects.filter(pk__in=[s for s in sig_ids if s]).order_by("id"))
    events = list(AuditEvent.objects.filter(chain=f"traveler:{source.pk}").order_by("seq"))
    item = source.item
    ids: list[int] = []
    with connection.cursor() as cursor:  # the record guards refuse rows added to closed travelers: off here
        cursor.execute("SET session_replication_role = replica")
    for start in range(1, count + 1, batch):
        numbers = range(start, min(start + batch, count + 1))
        with transaction.atomic():
            deltas = {n: -dt.timedelta(hours=7 * n) for n in numbers}
            items = Item.objects.bulk_create(
                Item(
                    part_id=item.part_id,
                    part_revision_id=item.part_revision_id,
                    tracking=item.tracking,
                    identifier=f"SN-B{n:05d}",
                    quantity=1,
                    quantity_available=1,
                    work_order_id=item.work_order_id,
                    status=item.status,
                )
                for n in numbers
            )
            travelers = Traveler.objects.bulk_create(
                Traveler(
                    number=f"B-{n:06d}",
                    item=it,
                    work_order_id=source.work_order_id,
                    routing_id=source.routing_id,
                    site_id=source.site_id,
                    status=source.status,
                    released_at=source.released_at + deltas[n],
                    released_by_id=source.released_by_id,
                    completed_at=_shifted(source.completed_at, deltas[n]),
                    closed_at=source.closed_at + deltas[n],
                    version=source.version,
                )
                for n, it in zip(numbers, items, strict=True)
            )
            step_map, char_map, att_map, m_map, sig_map = {}, {}, {}, {}, {}
            new_steps = []
            for n, t in zip(numbers, travelers, strict=True):
                for s in steps:
                    new = TravelerStep(**{f.attname: getattr(s, f.attname) for f in TravelerStep._meta.concrete_fields})
                    new.pk, new.traveler_id = None, t.pk
                    new.performed_signature_id = new.inspected_signature_id = new.skip_signature_id = None
                    new.started_at = _shifted(s.started_at, deltas[n])
                    new.completed_at = _shifted(s.completed_at, deltas[n])
                    step_map[(n, s.pk)] = new
                    new_steps.append(new)
            TravelerStep.objects.bulk_create(new_steps)
            new_chars = []
            for n in numbers:
                for c in chars:
                    new = TravelerCharacteristic(
                        **{f.attname: getattr(c, f.attname) for f in TravelerCharacteristic._meta.concrete_fields}
                    )
                    new.pk, new.step_id = None, step_map[(n, c.step_id)].pk
                    char_map[(n, c.pk)] = new
                    new_chars.append(new)
            TravelerCharacteristic.objects.bulk_create(new_chars)
            new_atts = []
            for n in numbers:
                for a in attachments:
                    new = Attachment(**{f.attname: getattr(a, f.attname) for f in Attachment._meta.concrete_fields})
                    new.pk, new.step_id, new.uploaded_at = None, step_map[(n, a.step_id)].pk, a.uploaded_at + deltas[n]
                    att_map[(n, a.pk)] = new
                    new_atts.append(new)
            Attachment.objects.bulk_create(new_atts)
            with connection.cursor() as cursor:  # measurement ids first: corrections' signatures name them
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('travelers_measurement', 'id')) FROM generate_series(1, %s)",
                    [len(numbers) * len(measurements)],
                )
                reserved = iter(row[0] for row in cursor.fetchall())
            for n in numbers:
                for m in measurements:
                    m_map[(n, m.pk)] = next(reserved)
            new_sigs = []
            for n, t in zip(numbers, travelers, strict=True):
                for s in signatures:
                    new = Signature(**{f.attname: getattr(s, f.attname) for f in Signature._meta.concrete_fields})
                    new.pk, new.signed_at = None, s.signed_at + deltas[n]
                    if s.record_type == "travelers.step":
                        new.record_id = str(step_map[(n, int(s.record_id))].pk)
                    elif s.record_type == "travelers.measurement":
                        new.record_id = str(m_map[(n, int(s.record_id))])
                    elif s.record_type == "travelers.traveler":
                        new.record_id = str(t.pk)
                    sig_map[(n, s.pk)] = new
                    new_sigs.append(new)
            Signature.objects.bulk_create(new_sigs)
            new_ms = []
            for n in numbers:
                for m in measurements:
                    new = Measurement(**{f.attname: getattr(m, f.attname) for f in Measurement._meta.concrete_fields})
                    new.pk = m_map[(n, m.pk)]
                    new.step_id = step_map[(n, m.step_id)].pk
                    new.characteristic_id = char_map[(n, m.characteristic_id)].pk
                    new.attachment_id = att_map[(n, m.attachment_id)].pk if m.attachment_id else None
                    new.supersedes_id = m_map[(n, m.supersedes_id)] if m.supersedes_id else None
                    new.correction_signature_id = (
                        sig_map[(n, m.correction_signature_id)].pk if m.correction_signature_id else None
                    )
                    new.recorded_at = m.recorded_at + deltas[n]
                    new_ms.append(new)
            Measurement.objects.bulk_create(new_ms)
            for (n, old_pk), new in step_map.items():
                old = next(s for s in steps if s.pk == old_pk)
                for attr in ("performed_signature_id", "inspected_signature_id", "skip_signature_id"):
                    value = getattr(old, attr)
                    setattr(new, attr, sig_map[(n, value)].pk if value else None)
            TravelerStep.objects.bulk_update(
                new_steps, ["performed_signature", "inspected_signature", "skip_signature"], batch_size=1000
            )
            for n, t in zip(numbers, travelers, strict=True):
                t.final_signature_id = sig_map[(n, source.final_signature_id)].pk
            Traveler.objects.bulk_update(travelers, ["final_signature"])
            new_events, heads = [], []
            for n, t in zip(numbers, travelers, strict=True):
                previous = GENESIS
                for e in events:
                    new = AuditEvent(**{f.attname: getattr(e, f.attname) for f in AuditEvent._meta.concrete_fields})
                    new.pk, new.chain, new.prev_hash = None, f"traveler:{t.pk}", previous
                    new.occurred_at = e.occurred_at + deltas[n]
                    new.hash = previous = event_hash(new, keys.get(new.key_id) or keys.current())
                    new_events.append(new)
                heads.append(AuditChainHead(chain=f"traveler:{t.pk}", last_seq=len(events), last_hash=previous))
            AuditEvent.objects.bulk_create(new_events, batch_size=2000)
            AuditChainHead.objects.bulk_create(heads)
            ids += [t.pk for t in travelers]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")
    return ids


# --- Timing ---------------------------------------------------------------------------------------------


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds the PostgreSQL backend `pid` has used, when the server runs on this machine (else None)."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return None
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _archive_all(ids: list[int], *, with_pdf: bool, lake_root: str) -> tuple[float, float | None]:
    """Archive `ids`; the CPU seconds this process and its database backend spent on it (the backend's
    None when the server is on another machine)."""
    from integrations.archive import services
    from integrations.archive.lake import Lake

    lake = Lake(lake_root)
    pid = _backend_pid()
    cpu, db_cpu = time.process_time(), _backend_cpu(pid)
    for traveler_id in ids:
        services.traveler_archive(traveler_id=traveler_id, lake=lake, with_pdf=with_pdf)
    db_after = _backend_cpu(pid)
    return time.process_time() - cpu, (db_after - db_cpu if db_cpu is not None and db_after is not None else None)


def _worker(database_url: str, media_root: str, pipe) -> None:
    """One more archiving worker, in a process of its own (as a second Celery worker would be)."""
    os.environ.update(DATABASE_URL=database_url, MEDIA_ROOT=media_root, LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

    django.setup()
    from django.db import connections

    connections["default"].ensure_connection()
    pipe.send("ready")
    while (job := pipe.recv()) != "stop":
        pipe.send(_archive_all(job["ids"], with_pdf=job["with_pdf"], lake_root=job["lake_root"]))


class Workers:
    """`count` workers archiving one batch between them: this process and count - 1 others."""

    def __init__(self, count: int):
        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("spawn")
        self.count = count
        self.others = []
        for _ in range(count - 1):
            mine, theirs = context.Pipe()
            args = (os.environ["DATABASE_URL"], os.environ["MEDIA_ROOT"], theirs)
            process = context.Process(target=_worker, args=args, daemon=True)
            process.start()
            self.others.append((process, mine))
        for _, pipe in self.others:
            if not pipe.poll(120):
                raise RuntimeError("an archiving worker did not start")
            pipe.recv()

    def run(self, ids: list[int], *, with_pdf: bool, lake_root: Path, profile: bool = False) -> float:
        """Seconds to archive `ids` into a fresh lake (their ArchiveRecords removed first), shared out."""
        from django.db import connection

        from bench.profiling import profiled
        from integrations.archive.models import ArchiveRecord

        with connection.cursor() as cursor:  # archive records are never deleted: but for a bench's next run
            cursor.execute("SET session_replication_role = replica")
            ArchiveRecord.objects.filter(traveler_id__in=ids).delete()
            cursor.execute("SET session_replication_role = origin")
        started = time.perf_counter()
        for n, (_, pipe) in enumerate(self.others, 1):
            pipe.send({"ids": ids[n :: self.count], "with_pdf": with_pdf, "lake_root": str(lake_root)})
        with profiled(profile):
            spent = [_archive_all(ids[:: self.count], with_pdf=with_pdf, lake_root=str(lake_root))]
        spent += [pipe.recv() for _, pipe in self.others]
        seconds = time.perf_counter() - started
        self.cpu = sum(cpu for cpu, _ in spent)  # of every worker, for the run: see main()
        self.db_cpu = None if any(db is None for _, db in spent) else sum(db for _, db in spent)
        return seconds

    def close(self) -> None:
        for process, pipe in self.others:
            pipe.send("stop")
            process.join(10)
            if process.is_alive():
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--travelers", type=int, default=1000, help="closed travelers in the database")
    parser.add_argument("--batch", type=int, default=100, help="travelers archived per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="archiving processes side by side, as Celery workers")
    parser.add_argument("--profile", action="store_true", help="cProfile the last run with PDF (this process)")
    args = parser.parse_args()

    url = scratch.fresh_database(DB_NAME)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    os.environ["MEDIA_ROOT"] = str(work / "media")

    django.setup()
    workers = None
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        real = real_travelers(args.batch)
        seconds = time.perf_counter() - t0
        print(f"fixture: {len(real)} closed travelers through the services in {seconds:.1f} s", flush=True)
        t0 = time.perf_counter()
        ids = [t.pk for t in real] + clone(real[0], max(0, args.travelers - len(real)))
        print(f"fixture: {len(ids)} closed travelers with clones in {time.perf_counter() - t0:.1f} s", flush=True)
        batch = ids[: args.batch]
        with_pdf, without_pdf, facts_rates, scan_rates = [], [], [], []
        cpu: dict[bool, list[float]] = {True: [], False: []}  # ms of CPU per traveler, workers' Python
        db_cpu: dict[bool, list[float]] = {True: [], False: []}  # and their PostgreSQL backends
        from integrations.archive import package, parquet
        from integrations.archive.lake import Lake, facts_key
        from integrations.archive.services import retain_until_of, retention_class_for
        from travelers.models import Traveler

        workers = Workers(args.workers)
        for run in range(1, args.runs + 1):
            profile = args.profile and run == args.runs
            for pdf, rates in ((True, with_pdf), (False, without_pdf)):
                lake_root = work / f"lake-{'pdf' if pdf else 'nopdf'}-{run}"
                seconds = workers.run(batch, with_pdf=pdf, lake_root=lake_root, profile=profile and pdf)
                rates.append(len(batch) / seconds)
                cpu[pdf].append(1000 * workers.cpu / len(batch))
                if workers.db_cpu is not None:
                    db_cpu[pdf].append(1000 * workers.db_cpu / len(batch))
            print(f"run {run}: {with_pdf[-1]:.1f} travelers/s with PDF, {without_pdf[-1]:.1f} without", flush=True)

        t0 = time.perf_counter()
        envelopes = []
        for t in Traveler.objects.filter(pk__in=ids).select_related("item__part", "site", "work_order"):
            rc = retention_class_for(t.item.part)
            retention = package.Retention(rc.code, rc.name, rc.years, retain_until_of(t.closed_at, rc))
            envelopes.append((t, package.archive_envelope(t, retention=retention)))
        envelope_rate = len(envelopes) / (time.perf_counter() - t0)

        for run in range(1, args.runs + 1):
            lake = Lake(str(work / f"facts-{run}"))
            started, rows = time.perf_counter(), 0
            for t, envelope in envelopes:
                data, n = parquet.facts_bytes(envelope)
                lake.put_replace(facts_key(t.site.code, t.closed_at, t.number), data)
                rows += n
            facts_rates.append(rows / (time.perf_counter() - started))
            started = time.perf_counter()
            scanned = (
                duckdb.connect()
                .execute(
                    "SELECT count(*), count(DISTINCT traveler_number), avg(value) "
                    "FROM read_parquet(?, hive_partitioning = true)",
                    [f"{lake.root}/facts/measurements/**/*.parquet"],
                )
                .fetchone()[0]
            )
            scan_rates.append(scanned / (time.perf_counter() - started))
        median = statistics.median
        print(f"\narchive at {len(ids)} closed travelers ({args.batch} per run, median of {args.runs} runs)")
        print(f"  archive with PDF      {median(with_pdf):8.1f} travelers/s")
        print(f"  archive without PDF   {median(without_pdf):8.1f} travelers/s")
        for pdf in (True, False):
            db = f", PostgreSQL {median(db_cpu[pdf]):.1f} ms" if db_cpu[pdf] else ""
            print(f"  CPU per traveler {'with' if pdf else 'without'} PDF: Python {median(cpu[pdf]):.1f} ms{db}")
        print(f"  envelope build        {envelope_rate:8.1f} travelers/s (traveler.json, once)")
        per_file = median(facts_rates) * len(envelopes) / rows
        print(
            f"  facts export          {median(facts_rates):8.0f} rows/s ({rows} rows in {len(envelopes)} files: "
            f"{per_file:.0f} travelers/s)"
        )
        print(f"  facts scan (DuckDB)   {median(scan_rates):8.0f} rows/s")
    finally:
        if workers is not None:
            workers.close()
        shutil.rmtree(work, ignore_errors=True)
        drop_scratch(url)


if __name__ == "__main__":
    main()
