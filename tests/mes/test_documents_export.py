"""Master data as documents: a routing exported as one versioned JSON document (its shape, exact decimals,
sorted lists, a fixed number of queries)."""

from __future__ import annotations

import json

import pytest

from mes.masterdata.documents.export import routing_document_export
from tests.mes.documents_support import *  # noqa: F403 - the fixture `plant`
from tests.mes.documents_support import (
    make_routing,
)

pytestmark = pytest.mark.django_db


def test_export_writes_the_versioned_document_shape(plant):
    document = routing_document_export(routing=make_routing(plant))

    assert list(document) == ["schema", "schema_version", "part", "part_revision", "routing", "steps", "operations"]
    assert (document["schema"], document["schema_version"]) == ("traveler.routing", 1)
    assert document["part"] == {
        "number": "P-100",
        "name": "Bracket",
        "tracking": "serial",
        "customer": "Airframer",
        "description": "",
    }
    assert document["part_revision"] == {"revision": "B", "description": "", "drawing_number": "DWG-100"}
    assert document["routing"] == {"revision": 1, "status": "released", "description": "first article route"}
    assert [s["sequence"] for s in document["steps"]] == [10, 20, 30]
    assert document["steps"][0]["work_center"] == {"site": "TLS", "code": "CNC-1"}
    assert document["steps"][1]["work_center"] is None
    assert document["steps"][0]["signoff"] == "operator+inspector"
    assert document["steps"][2]["may_run_out_of_order"] is True
    assert json.loads(json.dumps(document)) == document  # plain JSON types only


def test_export_writes_decimals_as_exact_strings_without_exponent(plant):
    document = routing_document_export(routing=make_routing(plant))
    bore, torque = document["steps"][0]["characteristics"]
    colour = document["steps"][1]["characteristics"][0]

    assert (bore["nominal"], bore["lower_limit"], bore["upper_limit"]) == ("12.687", "12.65", "12.725")
    assert (torque["lower_limit"], torque["upper_limit"], torque["nominal"]) == ("100", None, None)
    assert bore["unit"] == "mm"
    assert colour["unit"] is None
    assert colour["choices"] == ["grey", "white"]
    assert colour["on_out_of_spec"] == "warn"


def test_export_lists_the_operations_and_their_aliases_sorted(plant):
    document = routing_document_export(routing=make_routing(plant))

    assert [op["code"] for op in document["operations"]] == ["COAT", "INSPECT", "MILL"]
    mill = document["operations"][2]
    assert mill["name"] == "Milling"
    assert mill["aliases"] == [
        {"source_system": "erp", "site": None, "code": "M100"},
        {"source_system": "legacy-tls", "site": "TLS", "code": "OP10"},
    ]


def test_export_runs_a_fixed_number_of_queries(plant, django_assert_num_queries):
    routing = make_routing(plant)

    # routing, steps, characteristics, operations, aliases, alias sites: however long the routing
    with django_assert_num_queries(6):
        routing_document_export(routing=routing)
