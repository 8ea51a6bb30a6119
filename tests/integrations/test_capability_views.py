"""The capability pages: the cross-site table, CSV, "what changed", bad parameters and who may see them."""

from __future__ import annotations

import csv
import io

import pytest

from integrations.warehouse.refresh import warehouse_refresh
from tests.integrations.kaizen_support import coat, coating  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(coating, settings, tmp_path):  # noqa: F811
    settings.WAREHOUSE_DIR = str(tmp_path / "warehouse")
    settings.WAREHOUSE_LAG_SECONDS = 0
    for value in ("10.0", "12.0", "11.0", "13.0", "14.0"):
        coat(coating, "WIC", value)
    for value in ("9.0", "9.5", "25.0"):  # 25 is out of spec: a hold and an NCR
        coat(coating, "TLS", value)
    warehouse_refresh(legacy=False)
    return coating


def test_capability_page_compares_ct1_and_coat1_in_one_table(client, warehouse):
    client.force_login(warehouse.engineer)
    response = client.get("/kaizen/capability/COAT_THK/")
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('id="capability"') : page.index("</table>", page.index('id="capability"'))]
    assert "CT1" in table and "Coat1" in table and "FIN-01" in table and "TRAIT-S" in table
    assert page.count('class="chart"') >= 4  # a histogram and a control chart per group
    assert "COATING" in page  # the NCR Pareto and the yield name the canonical operation


def test_capability_csv_has_one_row_per_group_with_the_indices(client, warehouse):
    client.force_login(warehouse.supervisor)
    response = client.get("/kaizen/capability/COAT_THK.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_site = {r["site"]: r for r in rows}
    assert set(by_site) == {"WIC", "TLS"}
    wic = by_site["WIC"]
    assert (wic["aliases"], wic["n"], wic["mean"]) == ("CT1", "5", "12")
    assert float(wic["cpk"]) == pytest.approx(4 / (3 * 1.5 / 1.128), rel=1e-5)
    assert by_site["TLS"]["out_of_spec"] == "1"


def test_what_changed_splits_at_a_date(client, warehouse):
    client.force_login(warehouse.engineer)
    response = client.get("/kaizen/capability/COAT_THK/changes/", {"at": "2000-01-01"})
    assert response.status_code == 200
    rows = {r["key"]: r for r in response.context["rows"]}
    assert rows["WIC/FIN-01/um"]["before"] is None and rows["WIC/FIN-01/um"]["after"].n == 5


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/kaizen/capability/COAT_THK/", {"since": "yesterday"}, "since"),
        ("/kaizen/capability/COAT_THK/", {"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ("/kaizen/capability/COAT_THK/", {"revision": "B"}, "revision"),
        ("/kaizen/capability/COAT_THK.csv", {"until": "13/12/2026"}, "until"),
        ("/kaizen/capability/COAT_THK/changes/", {}, "at"),
        ("/kaizen/capability/COAT_THK/changes/", {"from": "x", "to": "2"}, "from"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(client, warehouse, path, params, field):
    client.force_login(warehouse.engineer)
    response = client.get(path, params)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_unknown_characteristic_is_404(client, warehouse):
    client.force_login(warehouse.engineer)
    assert client.get("/kaizen/capability/NO_SUCH/").status_code == 404
    assert client.get("/kaizen/capability/NUL%00BYTE/").status_code == 404
    assert client.get("/kaizen/capability/NUL%00BYTE.csv").status_code == 404
    assert client.get("/kaizen/capability/COAT_THK/", {"since": "2026\x00-01-01"}).status_code == 400


def test_operators_may_not_see_capability_but_may_read_the_board(client, warehouse, settings):
    settings.BOARD_REDIS_URL, settings.CELERY_BROKER_URL = "", "amqp://guest@127.0.0.1//"  # in-process store
    client.force_login(warehouse.operator)
    assert client.get("/kaizen/capability/").status_code == 403
    assert client.get("/kaizen/capability/COAT_THK.csv").status_code == 403
    assert client.get("/board/").status_code == 200


def test_capability_index_lists_characteristics_yields_and_pareto(client, warehouse):
    client.force_login(warehouse.engineer)
    response = client.get("/kaizen/capability/")
    assert response.status_code == 200
    assert response.context["characteristics"] == ["COAT_THK"]
    (ncr,) = response.context["pareto"]
    assert (ncr["operation"], ncr["sites"]) == ("COATING", {"TLS": 1})
