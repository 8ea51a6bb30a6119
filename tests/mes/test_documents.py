"""Master data as documents: a routing exported as one versioned JSON document and imported whole."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from mes.masterdata.change_control import routing_change_approve
from mes.masterdata.documents import importer
from mes.masterdata.documents.export import routing_document_export
from mes.masterdata.documents.importer import routing_document_apply, routing_document_import
from mes.masterdata.errors import DocumentInvalid, RoutingNotEditable
from mes.masterdata.models import (
    Characteristic,
    Operation,
    OperationAlias,
    Part,
    PartRevision,
    Routing,
    RoutingChange,
    RoutingStep,
    Site,
    WorkCenter,
)
from mes.masterdata.services import (
    characteristic_add,
    operation_alias_create,
    routing_create_draft,
    routing_step_add,
)
from mes.masterdata.states import RoutingStatus
from tests.factories import DEFAULT_PASSWORD, change_signers, release_routing

pytestmark = pytest.mark.django_db


# --- Small factories --------------------------------------------------------------------------------


def make_plant() -> dict:
    """Sites, work centers and operations: what a document refers to but never creates."""
    tls = Site.objects.create(code="TLS", name="Toulouse", legacy_system="legacy-tls")
    ham = Site.objects.create(code="HAM", name="Hamburg", legacy_system="legacy-ham")
    return {
        "tls": tls,
        "ham": ham,
        "cnc": WorkCenter.objects.create(site=tls, code="CNC-1", name="5-axis mill"),
        "booth": WorkCenter.objects.create(site=ham, code="PAINT-2", name="Paint booth"),
        "mill": Operation.objects.create(code="MILL", name="Milling", description="CNC milling"),
        "coat": Operation.objects.create(code="COAT", name="Coating"),
        "inspect": Operation.objects.create(code="INSPECT", name="Final inspection"),
    }


def make_routing(plant: dict, *, status: str = RoutingStatus.RELEASED) -> Routing:
    """A part revision with a routing built through the services, plus aliases of its operations."""
    operation_alias_create(operation=plant["mill"], source_system="legacy-tls", site=plant["tls"], code="OP10")
    operation_alias_create(operation=plant["mill"], source_system="erp", site=None, code="M100")
    operation_alias_create(operation=plant["coat"], source_system="legacy-ham", site=plant["ham"], code="LACK")
    part = Part.objects.create(number="P-100", name="Bracket", tracking="serial", customer="Airframer")
    part_revision = PartRevision.objects.create(part=part, revision="B", drawing_number="DWG-100")
    routing = routing_create_draft(part_revision=part_revision, description="first article route")
    mill = routing_step_add(
        routing=routing,
        sequence=10,
        operation=plant["mill"],
        title="Mill the bore",
        work_center=plant["cnc"],
        instructions="Clamp on datum A.\n",
        signoff="operator+inspector",
    )
    characteristic_add(
        step=mill,
        code="BORE_DIA",
        name="Bore diameter",
        unit="mm",
        nominal=Decimal("12.687"),
        lower_limit=Decimal("12.650"),
        upper_limit=Decimal("12.725"),
    )
    characteristic_add(
        step=mill, code="TORQUE", name="Clamp torque", unit="N*m", lower_limit=Decimal("100"), decimals=0
    )
    coat = routing_step_add(routing=routing, sequence=20, operation=plant["coat"], title="Prime and paint")
    characteristic_add(
        step=coat, code="COLOUR", name="Colour", kind="choice", choices=["grey", "white"], on_out_of_spec="warn"
    )
    routing_step_add(routing=routing, sequence=30, operation=plant["inspect"], title="Final", may_run_out_of_order=True)
    if status == RoutingStatus.RELEASED:
        routing = release_routing(routing=routing)
    return routing


def valid_document() -> dict:
    """A hand-written document that refers to make_plant()'s sites, work centers and operations."""
    return {
        "schema": "traveler.routing",
        "schema_version": 1,
        "part": {"number": "P-200", "name": "Hinge", "tracking": "lot", "customer": "", "description": ""},
        "part_revision": {"revision": "A", "description": "", "drawing_number": "DWG-200"},
        "routing": {"revision": 1, "status": "released", "description": ""},
        "steps": [
            {
                "sequence": 10,
                "operation": "MILL",
                "work_center": {"site": "TLS", "code": "CNC-1"},
                "title": "Mill",
                "instructions": "",
                "signoff": "operator",
                "may_run_out_of_order": False,
                "characteristics": [
                    {
                        "sequence": 10,
                        "code": "LENGTH",
                        "name": "Length",
                        "kind": "numeric",
                        "unit": "mm",
                        "nominal": "50",
                        "lower_limit": "49.9",
                        "upper_limit": "50.1",
                        "decimals": 2,
                        "choices": [],
                        "required": True,
                        "on_out_of_spec": "hold",
                    },
                    {
                        "sequence": 20,
                        "code": "BURRS",
                        "name": "Free of burrs",
                        "kind": "pass_fail",
                        "unit": None,
                        "nominal": None,
                        "lower_limit": None,
                        "upper_limit": None,
                        "decimals": 0,
                        "choices": [],
                        "required": True,
                        "on_out_of_spec": "hold",
                    },
                ],
            },
            {
                "sequence": 20,
                "operation": "COAT",
                "work_center": None,
                "title": "Coat",
                "instructions": "",
                "signoff": "operator",
                "may_run_out_of_order": False,
                "characteristics": [],
            },
        ],
        "operations": [
            {"code": "COAT", "name": "Coating", "description": "", "aliases": []},
            {
                "code": "MILL",
                "name": "Milling",
                "description": "CNC milling",
                "aliases": [{"source_system": "legacy-tls", "site": "TLS", "code": "F-10"}],
            },
        ],
    }


def saved_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Part, PartRevision, Routing, RoutingStep, Characteristic, OperationAlias)
    }


def import_and_sign(document: dict) -> Routing:
    """Import a released document as an engineer, then sign its release for engineering and quality."""
    engineer, quality = change_signers()
    change = routing_document_apply(document=document, actor=engineer).change
    for role, signer in (("engineering", engineer), ("quality", quality)):
        routing_change_approve(
            change=change, role=role, actor=signer, secret=DEFAULT_PASSWORD, username=signer.get_username()
        )
    return Routing.objects.get(pk=change.routing_id)


def refused(document: dict) -> list[tuple[str, str]]:
    """Import `document`, expecting it refused and nothing saved; the (field, message) problems."""
    before = saved_counts()
    with pytest.raises(DocumentInvalid) as info:
        routing_document_import(document=document)
    assert saved_counts() == before, "a refused document saved something"
    return info.value.errors


def fields(errors: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in errors]


@pytest.fixture
def plant():
    return make_plant()


# --- Export -----------------------------------------------------------------------------------------


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


# --- Round trip and idempotence ---------------------------------------------------------------------


def test_routing_document_round_trips():
    with transaction.atomic():  # build everything, export, then forget it all
        document = routing_document_export(routing=make_routing(make_plant()))
        transaction.set_rollback(True)
    assert not Part.objects.exists() and not OperationAlias.objects.exists() and not Site.objects.exists()

    make_plant()  # a clean state: only sites, work centers and operations
    imported = import_and_sign(json.loads(json.dumps(document)))

    assert imported.status == RoutingStatus.RELEASED
    assert routing_document_export(routing=imported) == document


def test_draft_routing_round_trips_as_a_draft():
    with transaction.atomic():
        document = routing_document_export(routing=make_routing(make_plant(), status=RoutingStatus.DRAFT))
        transaction.set_rollback(True)
    make_plant()

    imported = routing_document_import(document=document)

    assert imported.status == RoutingStatus.DRAFT
    assert routing_document_export(routing=imported) == document


def test_import_creates_part_revision_aliases_and_asks_for_the_routings_release(plant, admin_user):
    result = routing_document_apply(document=valid_document(), actor=admin_user)

    routing = result.routing
    assert result.created is True
    assert routing.part_revision.part.tracking == "lot"
    assert routing.revision == 1
    assert routing.status == RoutingStatus.DRAFT  # released in its source; here it waits for two signatures
    assert routing.created_by == admin_user
    assert (result.change.action, result.change.status, result.change.requested_by) == ("release", "open", admin_user)
    assert "released in its source" in result.change.reason
    length = Characteristic.objects.get(step__routing=routing, code="LENGTH")
    assert (length.nominal, length.lower_limit, length.upper_limit) == (Decimal(50), Decimal("49.9"), Decimal("50.1"))
    assert [str(a) for a in result.aliases_created] == ["legacy-tls@TLS:F-10 → MILL"]


def test_import_of_the_same_document_twice_returns_the_routing_unchanged(plant):
    first = routing_document_import(document=valid_document())
    before = saved_counts()

    again = routing_document_apply(document=valid_document())

    assert again.routing == first
    assert again.created is False and again.aliases_created == []
    assert saved_counts() == before


def test_import_is_idempotent_for_equivalent_spellings(plant):
    routing_document_import(document=valid_document())
    document = valid_document()
    document["steps"].reverse()  # order and trailing zeros do not matter
    document["steps"][1]["characteristics"][0]["lower_limit"] = "49.900"
    document["steps"][0]["characteristics"] = []

    assert routing_document_apply(document=document).created is False


def test_import_refuses_an_existing_revision_that_differs(plant):
    routing_document_import(document=valid_document())
    document = valid_document()
    document["steps"][0]["title"] = "Mill it differently"

    errors = refused(document)

    assert fields(errors) == ["routing.revision"]
    assert "steps[0].title" in errors[0][1]


def test_import_without_a_user_leaves_a_draft_and_asks_nothing(plant):
    result = routing_document_apply(document=valid_document())

    assert result.routing.status == RoutingStatus.DRAFT and result.change is None


def test_import_of_a_new_released_revision_supersedes_the_old_one_once_signed(plant):
    first = import_and_sign(valid_document())
    document = valid_document()
    document["routing"]["revision"] = 3
    document["steps"][0]["title"] = "Mill, revised"

    second = import_and_sign(document)

    first.refresh_from_db()
    assert (second.revision, second.status) == (3, RoutingStatus.RELEASED)
    assert first.status == RoutingStatus.SUPERSEDED


def test_import_refuses_a_revision_below_an_existing_one(plant):
    document = valid_document()
    document["routing"]["revision"] = 2
    routing_document_import(document=document)
    document["routing"]["revision"] = 1

    assert fields(refused(document)) == ["routing.revision"]


def test_import_refuses_when_the_part_revision_has_a_draft(plant):
    document = valid_document()
    document["routing"]["status"] = "draft"
    routing_document_import(document=document)
    document["routing"]["revision"] = 2

    errors = refused(document)

    assert fields(errors) == ["routing.revision"]
    assert "draft routing r1" in errors[0][1]


# --- Refusals: each names its field, nothing is saved -----------------------------------------------


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


# --- Management commands ----------------------------------------------------------------------------


def test_export_routing_command_prints_the_released_routing(plant, capsys):
    routing = make_routing(plant)

    call_command("export_routing", "P-100", "B")

    assert json.loads(capsys.readouterr().out) == routing_document_export(routing=routing)


def test_export_routing_command_exports_a_chosen_revision(plant, capsys):
    make_routing(plant, status=RoutingStatus.DRAFT)

    call_command("export_routing", "P-100", "B", "--routing-revision", "1")

    assert json.loads(capsys.readouterr().out)["routing"]["status"] == "draft"


def test_export_routing_command_fails_clearly_without_a_released_routing(plant):
    make_routing(plant, status=RoutingStatus.DRAFT)

    with pytest.raises(CommandError, match=r"no released routing \(it has r1 draft\)"):
        call_command("export_routing", "P-100", "B")
    with pytest.raises(CommandError, match="no part P-999 revision B"):
        call_command("export_routing", "P-999", "B")


def test_import_routing_command_imports_files_and_says_what_it_created(plant, tmp_path, capsys):
    path = tmp_path / "p200.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8")

    call_command("import_routing", str(path))
    call_command("import_routing", str(path))

    out = capsys.readouterr().out
    routing = Routing.objects.get()
    assert f"{path}: created P-200 rev A routing r1 (draft)" in out
    assert f"released in its source, a draft here: ask for its release at /changes/routing/{routing.pk}/new/" in out
    assert "created alias legacy-tls@TLS:F-10 -> MILL" in out
    assert f"{path}: unchanged (already imported) P-200 rev A routing r1 (draft)" in out


def test_import_routing_command_with_a_user_asks_for_the_release(plant, tmp_path, capsys):
    engineer, _ = change_signers()
    path = tmp_path / "p200.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8")

    call_command("import_routing", str(path), "--user", engineer.username)

    change = RoutingChange.objects.get()
    assert (change.requested_by, change.status) == (engineer, "open")
    assert f"its release waits for two signatures (engineering, quality) at /changes/{change.pk}/" in (
        capsys.readouterr().out
    )


def test_import_routing_command_lists_every_problem_and_exits_non_zero(plant, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid_document()), encoding="utf-8")
    bad = copy.deepcopy(valid_document())
    bad["part"]["number"] = "P-300"
    bad["steps"][0]["characteristics"][0]["unit"] = "furlong-ish"
    bad["steps"][1]["operation"] = "ANODIZE"
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps(bad), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    with pytest.raises(CommandError, match=r"2 of 3 document\(s\) refused"):
        call_command("import_routing", str(bad_path), str(good), str(broken))

    err = capsys.readouterr().err
    assert f"{bad_path}: refused, nothing saved (2 problem(s))" in err
    assert "  steps[0].characteristics[0].unit: unknown unit 'furlong-ish'" in err
    assert "  steps[1].operation: unknown operation 'ANODIZE'" in err
    assert f"{broken}: refused" in err and "document: not valid JSON" in err
    assert list(Part.objects.values_list("number", flat=True)) == ["P-200"]
