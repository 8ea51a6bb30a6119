"""What the routing-document tests share: a plant (sites, work centers, operations a document refers to),
a routing built through the services, a valid document, and helpers that import and expect a refusal.

Test modules take the fixture with `from tests.mes.documents_support import *` (only `plant`, see __all__)
and import the helpers by name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mes.masterdata.change_control import routing_change_approve
from mes.masterdata.documents.importer import routing_document_apply, routing_document_import
from mes.masterdata.errors import DocumentInvalid
from mes.masterdata.models import (
    Characteristic,
    Operation,
    OperationAlias,
    Part,
    PartRevision,
    Routing,
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

__all__ = ["plant"]  # the fixture


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
