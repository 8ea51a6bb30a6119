"""Master data as documents: a refused import names each problem by its field, and saves nothing."""

from __future__ import annotations

import pytest

from mes.masterdata.documents import importer
from mes.masterdata.errors import RoutingNotEditable
from mes.masterdata.models import (
    Part,
    WorkCenter,
)
from mes.masterdata.services import (
    operation_alias_create,
)
from tests.mes.documents_support import *  # noqa: F403 - the fixture `plant`
from tests.mes.documents_support import (
    fields,
    refused,
    valid_document,
)

pytestmark = pytest.mark.django_db


def test_import_refuses_unknown_unit_naming_the_field(plant):
    document = valid_document()
    document["steps"][0]["characteristics"][0]["unit"] = "bananas"

    errors = refused(document)

    assert errors == [("steps[0].characteristics[0].unit", "unknown unit 'bananas'")]


def test_import_refuses_lower_limit_above_upper(plant):
    document = valid_document()
    document["steps"][0]["characteristics"][0].update(nominal=None, lower_limit="50.2", upper_limit="50.1")

    assert fields(refused(document)) == ["steps[0].characteristics[0].lower_limit"]


def test_import_refuses_an_alias_listed_twice(plant):
    document = valid_document()
    document["operations"][0]["aliases"] = [{"source_system": "legacy-tls", "site": "TLS", "code": "F-10"}]

    errors = refused(document)

    assert fields(errors) == ["operations[1].aliases[0].code"]
    assert "listed twice" in errors[0][1]


def test_import_refuses_an_alias_that_already_means_another_operation(plant):
    operation_alias_create(operation=plant["inspect"], source_system="legacy-tls", site=plant["tls"], code="F-10")

    errors = refused(document=valid_document())

    assert errors == [("operations[1].aliases[0].code", "alias legacy-tls@TLS:F-10 already means INSPECT")]


def test_import_refuses_unknown_operation(plant):
    document = valid_document()
    document["steps"][1]["operation"] = "ANODIZE"
    document["operations"][0]["code"] = "ANODIZE"

    assert fields(refused(document)) == ["steps[1].operation", "operations[0].code"]


def test_import_refuses_unknown_site_and_work_center(plant):
    document = valid_document()
    document["steps"][0]["work_center"] = {"site": "TLS", "code": "CNC-9"}
    document["steps"][1]["work_center"] = {"site": "XXX", "code": "CNC-1"}
    document["operations"][1]["aliases"][0]["site"] = "YYY"

    assert fields(refused(document)) == [
        "steps[0].work_center.code",
        "steps[1].work_center.site",
        "operations[1].aliases[0].site",
    ]


def test_import_refuses_an_inactive_work_center(plant):
    WorkCenter.objects.filter(pk=plant["cnc"].pk).update(active=False)

    assert fields(refused(valid_document())) == ["steps[0].work_center"]


def test_import_refuses_duplicate_step_sequence_and_characteristic_code(plant):
    document = valid_document()
    document["steps"][1]["sequence"] = 10
    document["steps"][0]["characteristics"][1]["code"] = "LENGTH"

    assert fields(refused(document)) == ["steps[0].characteristics[1].code", "steps[1].sequence"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12, 'a decimal is written as a JSON string such as "12.5", not as a JSON number'),
        (12.5, 'a decimal is written as a JSON string such as "12.5", not as a JSON number'),
        (True, 'a decimal is written as a JSON string such as "12.5", not as true or false'),
        ("abc", "'abc' is not a decimal number; write it like \"12.687\""),
        ("1e3", "'1e3' is not a decimal number; write it like \"12.687\""),
        ("NaN", "'NaN' is not a decimal number; write it like \"12.687\""),
        ("50.0000001", "'50.0000001' has more than 6 decimal places"),
    ],
)
def test_import_refuses_a_decimal_that_is_not_an_exact_string(plant, value, message):
    document = valid_document()
    document["steps"][0]["characteristics"][0]["nominal"] = value

    assert refused(document) == [("steps[0].characteristics[0].nominal", message)]


def test_import_refuses_wrong_types_naming_every_field(plant):
    document = valid_document()
    document["routing"]["revision"] = "1"
    document["steps"][0]["sequence"] = 10.0
    document["steps"][0]["may_run_out_of_order"] = "no"
    document["steps"][0]["characteristics"][0]["required"] = 1
    document["steps"][0]["characteristics"][0]["decimals"] = True
    document["steps"][0]["characteristics"][1]["kind"] = "boolean"
    document["steps"][1]["characteristics"] = {"sequence": 10}
    document["part"]["tracking"] = "batch"

    assert sorted(fields(refused(document))) == sorted(
        [
            "part.tracking",
            "routing.revision",
            "steps[0].sequence",
            "steps[0].may_run_out_of_order",
            "steps[0].characteristics[0].decimals",
            "steps[0].characteristics[0].required",
            "steps[0].characteristics[1].kind",
            "steps[1].characteristics",
        ]
    )


def test_import_refuses_a_list_or_string_where_an_object_belongs(plant):
    document = valid_document()
    document["steps"][0]["work_center"] = "TLS/CNC-1"
    document["steps"].append("oops")

    assert refused(document) == [
        ("steps[0].work_center", "should be a JSON object, not a string"),
        ("steps[2]", "should be a JSON object, not a string"),
    ]


def test_import_refuses_missing_and_unknown_fields(plant):
    document = valid_document()
    del document["steps"][0]["title"]
    del document["steps"][0]["characteristics"][1]["unit"]
    del document["operations"]
    document["part"]["colour"] = "red"

    errors = dict(refused(document))

    assert errors == {
        "steps[0].title": "this field is required",
        "steps[0].characteristics[1].unit": "this field is required",
        "operations": "this field is required",
        "part.colour": "unknown field (not part of traveler.routing version 1)",
    }


def test_import_refuses_a_document_of_another_schema_or_version(plant):
    document = valid_document()
    document["schema_version"] = 2
    assert fields(refused(document)) == ["schema_version"]
    document["schema_version"] = True
    assert fields(refused(document)) == ["schema_version"]
    document["schema"] = "traveler.part"
    assert fields(refused(document)) == ["schema"]
    assert fields(refused(["not", "an", "object"])) == ["document"]


def test_import_refuses_a_part_that_exists_under_another_name_or_tracking(plant):
    Part.objects.create(number="P-200", name="Hinge, left", tracking="serial")

    assert fields(refused(valid_document())) == ["part.name", "part.tracking"]


def test_import_refuses_a_routing_status_other_than_draft_or_released(plant):
    document = valid_document()
    document["routing"]["status"] = "superseded"

    assert fields(refused(document)) == ["routing.status"]


def test_import_refuses_an_invalid_code(plant):
    document = valid_document()
    document["steps"][0]["characteristics"][0]["code"] = "bore dia"

    assert fields(refused(document)) == ["steps[0].characteristics[0].code"]


def test_import_reports_every_problem_at_once(plant):
    document = valid_document()
    document["steps"][0]["characteristics"][0]["unit"] = "parsecs-ish"
    document["steps"][0]["characteristics"][1]["unit"] = "mm"
    document["steps"][1]["operation"] = "ANODIZE"

    errors = refused(document)

    assert fields(errors) == [
        "steps[0].characteristics[0].unit",
        "steps[0].characteristics[1].unit",
        "steps[1].operation",
    ]


def test_import_saves_nothing_when_a_service_refuses_midway(plant, monkeypatch):
    def refuse(**kwargs):
        raise RoutingNotEditable("refused for the test", field="status")

    monkeypatch.setattr(importer, "characteristic_add", refuse)  # the routing and its first step are written

    assert refused(valid_document()) == [("steps[0].characteristics[0].status", "refused for the test")]
