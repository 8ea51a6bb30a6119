"""Master data as documents: importing a routing document whole, round trips and idempotence, and a
released document waiting for its release signatures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import transaction

from mes.masterdata.documents.export import routing_document_export
from mes.masterdata.documents.importer import routing_document_apply, routing_document_import
from mes.masterdata.models import (
    Characteristic,
    OperationAlias,
    Part,
    Site,
)
from mes.masterdata.states import RoutingStatus
from tests.mes.documents_support import *  # noqa: F403 - the fixture `plant`
from tests.mes.documents_support import (
    fields,
    import_and_sign,
    make_plant,
    make_routing,
    refused,
    saved_counts,
    valid_document,
)

pytestmark = pytest.mark.django_db


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
