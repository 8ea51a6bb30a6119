"""Change control of routings (21 CFR 11.10(k); AS9100 8.5.6): a release, or an obsolescence, says why,
shows what differs — changed limits first — and takes two signatures by two different people, engineering
and quality. Reproduces what a validation auditor found: one engineer could tighten a limit and release it
alone, and nothing said what changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.urls import reverse

from mes.compliance.errors import SignatureRefused
from mes.compliance.models import AuditEvent, Signature
from mes.compliance.signing import signature_verify
from mes.compliance.verify import verify_records
from mes.masterdata import services
from mes.masterdata.change_control import (
    routing_change_approve,
    routing_change_request,
    routing_change_withdraw,
)
from mes.masterdata.errors import RoutingNotEditable, RoutingTransitionRefused
from mes.masterdata.models import Characteristic, Routing, RoutingChange
from mes.masterdata.states import RoutingStatus
from tests.factories import DEFAULT_PASSWORD, UserFactory, change_signers, released_routing
from tests.tampering import as_superuser

pytestmark = [pytest.mark.django_db, pytest.mark.regulation("21 CFR 11.10(k)", "Annex 11 §10")]


@pytest.fixture
def people():
    engineer, quality = change_signers()
    operator = UserFactory(username="cc-operator")
    operator.groups.add(Group.objects.get(name="Operator"))
    return engineer, quality, operator


@pytest.fixture
def tightened(people):
    """r1 released; r2 a draft whose first bore's upper limit is brought in from 12.713 to 12.705."""
    r1 = released_routing(steps=2)
    draft = services.routing_new_revision(routing=r1)
    Characteristic.objects.filter(step__routing=draft, step__sequence=10).update(upper_limit=Decimal("12.705"))
    return r1, draft


def sign(change, role, user, secret=DEFAULT_PASSWORD):
    return routing_change_approve(change=change, role=role, actor=user, secret=secret, username=user.get_username())


def ask(routing, engineer, action="release"):
    return routing_change_request(
        routing=routing, action=action, reason="bore upper limit per capability study", reference="ECO-118",
        actor=engineer,
    )  # fmt: skip


# --- The service ---------------------------------------------------------------------------------------------


def test_the_changed_limit_is_what_the_change_shows_first(people, tightened):
    engineer, _, _ = people
    _, draft = tightened

    change = ask(draft, engineer)

    limits = [d for d in change.diff if d["limit"]]
    assert limits == [
        {"where": "step 10 · BORE_DIA", "field": "upper_limit", "old": "12.713", "new": "12.705", "limit": True}
    ]


def test_a_release_takes_engineering_and_quality_then_supersedes_the_revision_in_use(people, tightened):
    engineer, quality, _ = people
    r1, draft = tightened
    change = ask(draft, engineer)

    change = sign(change, "engineering", engineer)
    draft.refresh_from_db()
    assert (change.status, draft.status) == ("open", RoutingStatus.DRAFT)  # one signature is not enough

    change = sign(change, "quality", quality)

    draft.refresh_from_db()
    r1.refresh_from_db()
    assert (change.status, draft.status, r1.status) == ("approved", RoutingStatus.RELEASED, RoutingStatus.SUPERSEDED)
    assert draft.released_by == engineer
    assert change.engineering_signature.meaning == "release_approved"
    assert change.quality_signature.meaning == "approved"
    assert {change.engineering_signature.signer, change.quality_signature.signer} == {engineer, quality}


def test_one_person_cannot_sign_both_even_with_every_permission(people, tightened, admin_user):
    _, draft = tightened
    change = ask(draft, admin_user)
    sign(change, "engineering", admin_user, secret="x-Admin-pass-1")  # pytest-django's admin_user

    with pytest.raises(SignatureRefused, match="two different people"):
        sign(change, "quality", admin_user, secret="x-Admin-pass-1")

    draft.refresh_from_db()
    assert draft.status == RoutingStatus.DRAFT
    assert Signature.objects.filter(record_type="masterdata.routingchange", record_id=str(change.pk)).count() == 1


def test_each_signature_needs_its_own_permission(people, tightened):
    engineer, quality, operator = people
    _, draft = tightened
    change = ask(draft, engineer)

    with pytest.raises(SignatureRefused, match="may not sign routing changes for engineering"):
        sign(change, "engineering", quality)
    with pytest.raises(SignatureRefused, match="may not sign routing changes for quality"):
        sign(change, "quality", engineer)
    with pytest.raises(SignatureRefused, match="may not change routings"):
        ask(draft, operator, action="obsolete")


def test_a_wrong_password_signs_nothing(people, tightened):
    engineer, _, _ = people
    _, draft = tightened
    change = ask(draft, engineer)

    with pytest.raises(Exception, match="(?i)password|credential|secret"):
        sign(change, "engineering", engineer, secret="not-my-password")

    change.refresh_from_db()
    assert change.engineering_signature is None


def test_a_change_says_why(people, tightened):
    engineer, _, _ = people
    _, draft = tightened

    with pytest.raises(RoutingTransitionRefused, match="say why"):
        routing_change_request(routing=draft, action="release", reason="  ", actor=engineer)
    assert not RoutingChange.objects.filter(routing=draft).exists()


def test_what_is_signed_is_what_is_released(people, tightened):
    engineer, quality, _ = people
    _, draft = tightened
    change = ask(draft, engineer)

    with pytest.raises(RoutingNotEditable, match="waits for its release signatures"):
        services.routing_step_add(routing=draft, sequence=90, operation=draft.steps.first().operation, title="Extra")

    sign(change, "engineering", engineer)
    Characteristic.objects.filter(step__routing=draft, step__sequence=20).update(upper_limit=Decimal("99"))
    with pytest.raises(RoutingTransitionRefused, match="changed since the change was asked for"):
        sign(change, "quality", quality)
    draft.refresh_from_db()
    assert draft.status == RoutingStatus.DRAFT


def test_a_withdrawn_change_lets_the_draft_be_edited_again(people, tightened):
    engineer, _, _ = people
    _, draft = tightened
    change = ask(draft, engineer)

    routing_change_withdraw(change=change, actor=engineer, reason="limit under review again")

    services.routing_step_add(routing=draft, sequence=90, operation=draft.steps.first().operation, title="Extra")
    with pytest.raises(RoutingTransitionRefused, match="withdrawn"):
        sign(change, "engineering", engineer)


def test_obsolescence_is_a_change_too(people):
    engineer, quality, _ = people
    routing = released_routing(steps=1)

    change = ask(routing, engineer, action="obsolete")
    sign(change, "quality", quality)
    sign(change, "engineering", engineer)

    routing.refresh_from_db()
    assert routing.status == RoutingStatus.OBSOLETE and routing.retired_at is not None


def test_only_a_draft_is_released_and_only_a_released_routing_retired(people, tightened):
    engineer, _, _ = people
    r1, draft = tightened

    with pytest.raises(RoutingTransitionRefused, match="only a draft is released"):
        ask(r1, engineer)
    with pytest.raises(RoutingTransitionRefused, match="only a released routing"):
        ask(draft, engineer, action="obsolete")


def test_the_change_and_its_signatures_are_part_of_the_record(people, tightened):
    engineer, quality, _ = people
    _, draft = tightened
    change = ask(draft, engineer)
    sign(change, "engineering", engineer)
    sign(change, "quality", quality)

    actions = list(
        AuditEvent.objects.filter(chain=f"routing:{draft.pk}").order_by("seq").values_list("action", flat=True)
    )
    assert actions == [
        "routing_change.requested",
        "signature.signed",
        "routing_change.signed_engineering",
        "signature.signed",
        "routing_change.signed_quality",
    ]
    signatures = Signature.objects.filter(record_type="masterdata.routingchange", record_id=str(change.pk))
    assert signatures.count() == 2 and all(signature_verify(s) for s in signatures)
    assert verify_records(chains=[f"routing:{draft.pk}"]).findings == []

    with pytest.raises(DatabaseError, match="never changes again"), transaction.atomic():
        RoutingChange.objects.filter(pk=change.pk).update(reason="something else")
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
        RoutingChange.objects.filter(pk=change.pk).delete()


def test_a_reason_rewritten_behind_the_application_breaks_its_signatures(people, tightened):
    engineer, quality, _ = people
    _, draft = tightened
    change = ask(draft, engineer)
    sign(change, "engineering", engineer)
    sign(change, "quality", quality)

    as_superuser("UPDATE masterdata_routingchange SET reason = 'no reason' WHERE id = %s", [change.pk])

    signatures = Signature.objects.filter(record_type="masterdata.routingchange", record_id=str(change.pk))
    assert [signature_verify(s) for s in signatures] == [False, False]


# --- The screens ---------------------------------------------------------------------------------------------


def test_two_people_release_on_the_change_screens(client, people, tightened):
    engineer, quality, _ = people
    _, draft = tightened

    client.force_login(engineer)
    response = client.post(
        reverse("masterdata:change_new", args=[draft.pk]),
        {"action": "release", "reference": "ECO-118", "reason": "bore upper limit per capability study"},
    )
    assert response.status_code == 302
    change = RoutingChange.objects.get(routing=draft)
    page = client.get(response["Location"]).content.decode()
    assert "12.713" in page and "12.705" in page and "diff-limit" in page

    bad = client.post(response["Location"], {"role": "engineering", "username": "cc-engineer", "secret": "nope"})
    assert bad.status_code == 403 and "field-error" in bad.content.decode()
    assert (
        client.post(
            response["Location"], {"role": "engineering", "username": "cc-engineer", "secret": DEFAULT_PASSWORD}
        ).status_code
        == 302
    )

    client.force_login(quality)
    page = client.get(response["Location"]).content.decode()
    assert "I approve this change for quality" in page
    done = client.post(
        response["Location"], {"role": "quality", "username": "cc-quality", "secret": DEFAULT_PASSWORD}, follow=True
    )
    assert "The change is done" in done.content.decode()
    assert Routing.objects.get(pk=draft.pk).status == RoutingStatus.RELEASED
    change.refresh_from_db()
    assert change.status == "approved"
    assert "ECO-118" in client.get(reverse("masterdata:change_list")).content.decode()


def test_the_change_screen_refuses_a_request_with_a_clear_error(client, people, tightened):
    engineer, _, operator = people
    r1, _ = tightened

    client.force_login(engineer)
    response = client.post(reverse("masterdata:change_new", args=[r1.pk]), {"action": "release", "reason": "x"})
    assert response.status_code == 422
    assert "only a draft is released" in response.content.decode()

    client.force_login(operator)
    assert client.get(reverse("masterdata:change_new", args=[r1.pk])).status_code == 403
    assert client.get(reverse("masterdata:change_list")).status_code == 403


def test_withdraw_on_screen_needs_a_reason(client, people, tightened):
    engineer, _, _ = people
    _, draft = tightened
    change = ask(draft, engineer)
    client.force_login(engineer)
    url = reverse("masterdata:change_withdraw", args=[change.pk])

    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "superseded by ECO-119"}).status_code == 302
    change.refresh_from_db()
    assert change.status == "withdrawn"
