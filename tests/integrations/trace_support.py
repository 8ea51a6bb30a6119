"""The traceability tests' shop (trace_shop), shared by the search, genealogy and recall tests and the
hostile-input ones: a small two-site shop built through the services. A bushing lot L-100 (coated at WIC,
whose code for coating is CT1) is consumed into two sub-assemblies SA-1 and SA-2 (coated at TLS, whose
code is Coat1); SA-1 is consumed into the assembly A-1 (WIC), which has an NCR. OLD-77 is a traveler
that has left the live database: only its archive record and its facts in the data lake remain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import duckdb
import pytest
from django.utils import timezone

from integrations.archive.models import ArchiveRecord, RetentionClass
from mes.masterdata import services as md
from tests.factories import PartFactory, PartRevisionFactory, SiteFactory, WorkCenterFactory, release_routing
from tests.travelers.conftest import PASSWORD, do_step
from travelers import services


def _routing(part_revision, steps):
    """steps: [(sequence, operation, work center, characteristics [(code, lower, upper)], component part)]"""
    routing = md.routing_create_draft(part_revision=part_revision)
    for sequence, operation, wc, chars, component in steps:
        step = md.routing_step_add(
            routing=routing,
            sequence=sequence,
            operation=operation,
            work_center=wc,
            title=f"{operation.name} {sequence}",
        )
        for code, lower, upper in chars:
            md.characteristic_add(
                step=step,
                code=code,
                name=code.title(),
                unit="um",
                nominal=(lower + upper) / 2,
                lower_limit=lower,
                upper_limit=upper,
                on_out_of_spec="warn",
            )
        if component is not None:
            md.routing_step_component_add(step=step, part=component)
    return release_routing(routing=routing)


def _run(s, traveler, values_by_step, consume_at=None):
    """Every step done (values recorded, signed); components consumed at their step; signed off."""
    for step in traveler.steps.order_by("sequence"):
        values = values_by_step.get(step.sequence, {})
        if consume_at and step.sequence in consume_at:
            started = services.step_start(step=step, actor=s.operator)
            for code, value in values.items():
                services.measurement_record(step=started, characteristic=code, value=value, unit="um", actor=s.operator)
            identifier, qty = consume_at[step.sequence]
            services.component_consume(step=started, identifier=identifier, quantity=qty, actor=s.operator)
            services.step_perform(step=started, actor=s.operator, secret=PASSWORD, username=s.operator.get_username())
        else:
            do_step(s, traveler, step.sequence, {code: (value, "um") for code, value in values.items()})
    traveler.refresh_from_db()
    return traveler


@pytest.fixture
def trace_shop(shop, tmp_path, settings):
    s = shop
    wic = s.site
    tls = SiteFactory(code="TLS", name="Toulouse", legacy_system="legacy-tls")
    wc_tls = WorkCenterFactory(site=tls, code="PAINT-2", name="Paint booth")
    coating, assembly = s.ops["coating"], s.ops["assembly"]
    md.operation_alias_create(operation=coating, source_system="legacy-wic", site=wic, code="CT1")
    md.operation_alias_create(operation=coating, source_system="legacy-tls", site=tls, code="Coat1")
    bush_rev = s.bush_part.revisions.get()
    sub_rev = PartRevisionFactory(part=PartFactory(number="SUB-1", name="Hinge sub-assembly"), revision="B")
    asm_rev = PartRevisionFactory(part=PartFactory(number="ASM-1", name="Hinge assembly"), revision="A")
    lo, hi = Decimal("20"), Decimal("40")
    _routing(bush_rev, [(10, coating, s.wc, [("THICK", lo, hi)], None)])
    _routing(sub_rev, [(10, coating, wc_tls, [("THICK", lo, hi)], None), (20, assembly, wc_tls, [], s.bush_part)])
    _routing(asm_rev, [(10, assembly, s.wc, [], sub_rev.part)])

    def order(number, rev, site, qty=1):
        return services.work_order_create(number=number, part_revision=rev, quantity=qty, site=site)

    lot = services.traveler_release(
        work_order=order("WO-L", bush_rev, wic, 100), identifier="L-100", quantity=50, actor=s.supervisor
    )
    _run(s, lot, {10: {"THICK": "30"}})
    services.traveler_signoff(
        traveler=lot, approve=True, actor=s.inspector, secret=PASSWORD, username=s.inspector.get_username()
    )
    subs = []
    sub_order = order("WO-S", sub_rev, tls, 2)
    for serial, thick in (("SA-1", "39.5"), ("SA-2", "45")):  # SA-1 near the upper limit, SA-2 out of spec
        sub = services.traveler_release(work_order=sub_order, identifier=serial, actor=s.supervisor)
        _run(s, sub, {10: {"THICK": thick}}, consume_at={20: ("L-100", 5)})
        services.traveler_signoff(
            traveler=sub, approve=True, actor=s.inspector, secret=PASSWORD, username=s.inspector.get_username()
        )
        subs.append(sub)
    asm = services.traveler_release(work_order=order("WO-A", asm_rev, wic), identifier="A-1", actor=s.supervisor)
    started = services.step_start(step=asm.steps.get(sequence=10), actor=s.operator2)
    services.component_consume(step=started, identifier="SA-1", actor=s.operator2)
    ncr = services.ncr_raise(traveler=asm, description="scratch on the cover", actor=s.operator2)
    retention = RetentionClass.objects.create(code="ten", name="10 years", years=10, is_default=True)
    now = timezone.now()

    def archive(number, identifier, part, revision, site, traveler=None, released=None):
        released = released or dt.datetime(2015, 3, 1, tzinfo=dt.UTC)
        return ArchiveRecord.objects.create(
            traveler_number=number,
            traveler=traveler,
            part_number=part,
            part_revision=revision,
            identifier=identifier,
            tracking="serial",
            work_order="WO-OLD",
            site_code=site,
            released_at=released,
            closed_at=max(released + dt.timedelta(days=19), now if traveler else released),
            uri=f"file:///lake/packages/{number}.tar",
            package_sha256="0" * 64,
            size=1,
            schema_version="1",
            archived_at=now,
            retention=retention,
        )

    archive("T-9000001", "OLD-77", "ASM-1", "A", "WIC")
    archive(subs[0].number, "SA-1", "SUB-1", "B", "TLS", traveler=subs[0], released=subs[0].released_at)
    lake = tmp_path / "lake"
    write_facts(
        lake,
        "WIC",
        [
            (
                "T-9000001",
                "ASM-1",
                "A",
                "THICK",
                "Thick",
                "COATING",
                "CT1",
                "OLD-77",
                Decimal("41.000000000"),
                "um",
                Decimal("20.000000000"),
                Decimal("40.000000000"),
                "out_of_spec",
                dt.datetime(2015, 3, 2, 10, 0, tzinfo=dt.UTC),
                "Retired Person",
                False,
            ),
        ],
    )
    settings.DATA_LAKE_URL = str(lake)
    return SimpleNamespace(
        shop=s,
        wic=wic,
        tls=tls,
        wc_tls=wc_tls,
        lot=lot,
        sa1=subs[0],
        sa2=subs[1],
        asm=asm,
        ncr=ncr,
        lake=lake,
        sub_rev=sub_rev,
    )


FACT_COLUMNS = (  # as integrations.archive.parquet writes them (a subset): its contract with this search
    "traveler_number VARCHAR, part_number VARCHAR, part_revision VARCHAR, characteristic_code VARCHAR, "
    "characteristic_name VARCHAR, operation_code VARCHAR, operation_alias VARCHAR, serial_or_lot VARCHAR, "
    "value DECIMAL(38, 9), unit VARCHAR, lower_limit DECIMAL(38, 9), upper_limit DECIMAL(38, 9), judgment VARCHAR, "
    "recorded_at TIMESTAMPTZ, recorded_by VARCHAR, superseded BOOLEAN, site_code VARCHAR, recorded_by_username VARCHAR"
)


def write_facts(lake, site, rows):
    """Measurement facts as the archive writes them: one Parquet file per traveler under site=/year=/month=."""
    folder = lake / "facts" / "measurements" / f"site={site}" / "year=2015" / "month=03"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE f ({FACT_COLUMNS})")
    con.executemany(f"INSERT INTO f VALUES ({', '.join('?' * 18)})", [(*row, site, "retired") for row in rows])
    con.execute(f"COPY f TO '{folder / 'part-T-9000001.parquet'}' (FORMAT parquet)")
    con.close()
