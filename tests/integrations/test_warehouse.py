"""The warehouse: Traveler's values land under their canonical operation and characteristic whatever
the site calls them; the legacy history comes in through the legacy-database adapter, idempotently."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.core.management import call_command

from integrations.sim import legacy
from integrations.warehouse import queries
from integrations.warehouse.refresh import warehouse_refresh
from mes.masterdata.models import UnmappedCode
from tests.integrations.kaizen_support import coat, coating  # noqa: F401 - the fixture
from tests.integrations.legacy_support import *  # noqa: F403 - fixtures
from tests.travelers.conftest import PASSWORD
from travelers import services
from travelers.models import Measurement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_lag(settings):
    settings.WAREHOUSE_LAG_SECONDS = 0


def test_values_recorded_under_coat1_and_ct1_land_in_one_capability_table(coating, tmp_path):  # noqa: F811
    for value in ("10.0", "12.0", "11.0", "13.0", "14.0"):
        coat(coating, "WIC", value)
    for value in ("9.0", "9.5"):
        coat(coating, "TLS", value)
    result = warehouse_refresh(base=tmp_path, legacy=False)
    assert result.values == 7
    groups = {g.site_code: g for g in queries.capability_groups("COAT_THK", base=tmp_path)}
    assert set(groups) == {"WIC", "TLS"}
    wic, tls = groups["WIC"], groups["TLS"]
    assert (wic.work_center, wic.aliases, wic.n) == ("FIN-01", ["CT1"], 5)
    assert (tls.work_center, tls.aliases, tls.n) == ("TRAIT-S", ["Coat1"], 2)
    # Hand-computed (tests/travelers/test_capability.py): x̄ 12, MR̄ 1.5, s 1.5811388; LSL 8, USL 18
    assert wic.mean == pytest.approx(12)
    assert wic.cap.cpk == pytest.approx(4 / (3 * 1.5 / 1.128), rel=1e-6)
    assert wic.cap.ppk == pytest.approx(4 / (3 * 1.5811388), rel=1e-6)
    assert wic.cap.cp == pytest.approx(10 / (6 * 1.5 / 1.128), rel=1e-6)
    assert tls.mean == pytest.approx(9.25)
    assert sum(wic.histogram) == 5 and [v for _, v in wic.series] == [10.0, 12.0, 11.0, 13.0, 14.0]


def test_refresh_is_incremental_and_a_second_run_adds_nothing(coating, tmp_path):  # noqa: F811
    coat(coating, "WIC", "12.0")
    assert warehouse_refresh(base=tmp_path, legacy=False).values == 1
    assert warehouse_refresh(base=tmp_path, legacy=False).values == 0
    coat(coating, "WIC", "13.5")
    assert warehouse_refresh(base=tmp_path, legacy=False).values == 1
    (group,) = queries.capability_groups("COAT_THK", base=tmp_path)
    assert group.n == 2 and group.mr_bar == pytest.approx(1.5)


def test_out_of_spec_value_shows_in_the_ncr_pareto_by_canonical_operation(coating, tmp_path):  # noqa: F811
    coat(coating, "TLS", "25.0")  # above 18: holds the traveler and opens an NCR
    coat(coating, "WIC", "12.0")
    warehouse_refresh(base=tmp_path, legacy=False)
    (row,) = queries.ncr_pareto(base=tmp_path)
    assert (row["operation"], row["count"], row["sites"], row["cumulative"]) == ("COATING", 1, {"TLS": 1}, 1.0)
    (group,) = [g for g in queries.capability_groups("COAT_THK", base=tmp_path) if g.site_code == "TLS"]
    assert group.out_of_spec == 1


def _history_count(dsn) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("""SELECT count(*) FROM "PRUEFHIST" WHERE "WERK" = 'US10'""").fetchone()[0]


def test_legacy_history_comes_in_through_the_adapter_idempotently(legacy_adapter, legacy_dsn, tmp_path):  # noqa: F405
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('TRUNCATE "PRUEFHIST" RESTART IDENTITY')
        legacy.history_generate(conn, site="WIC", count=40, seed=3)
        legacy.history_generate(conn, site="TLS", count=10, seed=3)  # another plant: not this adapter's
    first = warehouse_refresh(base=tmp_path)
    assert first.legacy == {"wic-legacy-db": 40} == {"wic-legacy-db": _history_count(legacy_dsn)}
    again = warehouse_refresh(base=tmp_path)
    assert again.legacy == {"wic-legacy-db": 0}
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        legacy.history_generate(conn, site="WIC", count=5, seed=4)
    assert warehouse_refresh(base=tmp_path).legacy == {"wic-legacy-db": 5}
    con = queries.connect()
    rows = con.execute(
        "SELECT count(*), count(DISTINCT source_id), count(*) FILTER (WHERE operation_code = 'COATING') "
        "FROM read_parquet($files)",
        {"files": queries.layout.values_glob(tmp_path)},
    ).fetchone()
    coat_rows = con.execute(
        "SELECT count(*) FROM read_parquet($files) WHERE operation_alias = 'CT1'",
        {"files": queries.layout.values_glob(tmp_path)},
    ).fetchone()[0]
    assert rows[0] == rows[1] == 45
    assert rows[2] == coat_rows > 0  # CT1 resolved to the canonical COATING through the aliases
    # codes nobody mapped wait in the queue (the demo's FIN-01 deburr and NDT codes are not in this shop)
    assert UnmappedCode.objects.filter(source_system="legacy-wic", resolved_alias__isnull=True).exists()
    (group,) = queries.capability_groups("COAT_THK", base=tmp_path)
    assert group.sources == ["legacy:wic-legacy-db"] and group.n == coat_rows


def test_a_correction_replaces_the_value_it_supersedes_even_across_refreshes(coating, tmp_path):  # noqa: F811

    coat(coating, "WIC", "10.0")
    traveler = coat(coating, "WIC", "17.0")  # a typo: 17 for 13
    coat(coating, "WIC", "14.0")
    warehouse_refresh(base=tmp_path, legacy=False)
    (before,) = queries.capability_groups("COAT_THK", base=tmp_path)
    assert (before.n, before.mean) == (3, pytest.approx(41 / 3))
    wrong = Measurement.objects.get(step__traveler=traveler)
    services.measurement_correct(
        measurement=wrong,
        value="13.0",
        unit="um",
        actor=coating.operator,
        secret=PASSWORD,
        username=coating.operator.get_username(),
        reason="typed 17 for 13",
    )
    warehouse_refresh(base=tmp_path, legacy=False)
    (after,) = queries.capability_groups("COAT_THK", base=tmp_path)
    assert (after.n, after.mean) == (3, pytest.approx(37 / 3))
    assert after.sigma_overall == pytest.approx(2.081666, rel=1e-6)  # s of 10, 13, 14
    assert sum(after.histogram) == 3 and sorted(v for _, v in after.series) == [10.0, 13.0, 14.0]


def test_legacy_sim_writes_each_plants_history(legacy_dsn, monkeypatch):  # noqa: F405

    monkeypatch.setenv(legacy.LEGACY_ENV, legacy_dsn)
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('TRUNCATE "PRUEFHIST" RESTART IDENTITY')
    call_command("legacy_sim", "--history", "6", stdout=open(os.devnull, "w"))  # noqa: SIM115
    with psycopg.connect(legacy_dsn) as conn:
        rows = dict(conn.execute('SELECT "WERK", count(*) FROM "PRUEFHIST" GROUP BY 1').fetchall())
        codes = {r[0] for r in conn.execute("""SELECT "ARBGANG" FROM "PRUEFHIST" WHERE "WERK" = 'FR20'""")}
    assert rows == {"US10": 6, "FR20": 6, "MX30": 6}
    assert codes <= {
        "TOURN",
        "FRAIS",
        "EBAV",
        "TTH",
        "NETT",
        "Coat1",
        "RESS",
        "CTRL-DIM",
        "MONT",
        "SERR",
        "MARQ",
        "CTRL-FIN",
    }
