"""The master-data admin's routings: the release, retire and new-revision actions, released routings stay
put, drafts are built through the services, and a service's refusal shows beside the field it names
(units, attachments)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mes.masterdata.models import (
    Characteristic,
    Routing,
    RoutingStep,
    StepAttachment,
)
from mes.masterdata.states import RoutingStatus
from tests.admin_forms import post_data
from tests.mes.admin_support import *  # noqa: F403 - the fixtures data, superuser_client, _media_in_tmp
from tests.mes.admin_support import PNG, admin_url, editable_inputs, messages_of

pytestmark = pytest.mark.django_db


# --- Routings: actions and immutability ---------------------------------------------------------------


def test_release_action_opens_the_change_page_of_the_draft(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"), {"action": "release_drafts", "_selected_action": [data.draft.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("masterdata:change_new", args=[data.draft.pk]) + "?action=release"
    data.draft.refresh_from_db()
    assert data.draft.status == RoutingStatus.DRAFT  # a release takes a reason and two signatures


def test_release_action_on_several_drafts_links_each_change_page(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "release_drafts", "_selected_action": [data.draft.pk, data.released.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert sum("ask for its release" in m for m in messages_of(response)) == 2


def test_retire_action_opens_the_change_page_of_the_released_routing(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"), {"action": "retire_released", "_selected_action": [data.released.pk]}
    )

    assert response["Location"] == reverse("masterdata:change_new", args=[data.released.pk]) + "?action=obsolete"


def test_new_revision_action_copies_steps_and_characteristics(superuser_client, data):
    data.draft.delete()  # only one draft per part revision
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "make_new_revision", "_selected_action": [data.released.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft = Routing.objects.get(part_revision=data.part_revision, status=RoutingStatus.DRAFT)
    assert draft.revision == 2 and draft.based_on_id == data.released.pk

    def content(routing):
        return [
            (s.sequence, s.title, s.operation_id, [(c.code, c.unit, c.lower_limit) for c in s.characteristics.all()])
            for s in routing.steps.prefetch_related("characteristics")
        ]

    assert content(draft) == content(data.released)
    assert any(m.startswith("Made") for m in messages_of(response))


def test_new_revision_action_refuses_when_a_draft_exists(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "make_new_revision", "_selected_action": [data.released.pk]},
        follow=True,
    )
    assert any("already has a draft routing" in m for m in messages_of(response))
    assert Routing.objects.filter(part_revision=data.part_revision).count() == 2


def test_released_routing_change_page_has_no_editable_inputs(superuser_client, data):
    url = admin_url(Routing, "change", data.released.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert editable_inputs(html) == []
    assert 'name="_save"' not in html
    step = data.released.steps.first()
    assert admin_url(RoutingStep, "change", step.pk) in html

    response = superuser_client.post(url, {"description": "changed"})
    assert response.status_code == 403
    data.released.refresh_from_db()
    assert data.released.description == "first"
    assert superuser_client.get(admin_url(Routing, "delete", data.released.pk)).status_code == 403


def test_steps_and_characteristics_of_a_released_routing_are_view_only(superuser_client, data):
    step = data.released.steps.first()
    response = superuser_client.get(admin_url(RoutingStep, "change", step.pk))
    assert response.status_code == 200
    assert editable_inputs(response.content.decode()) == []
    assert superuser_client.post(admin_url(RoutingStep, "change", step.pk), {"title": "x"}).status_code == 403
    characteristic = step.characteristics.first()
    response = superuser_client.post(admin_url(Characteristic, "change", characteristic.pk), {"unit": "in"})
    assert response.status_code == 403


def test_draft_routing_description_can_be_changed(superuser_client, data):
    url = admin_url(Routing, "change", data.draft.pk)
    page = superuser_client.get(url)
    assert {"description", "steps-0-title"} <= set(editable_inputs(page.content.decode()))
    payload = post_data(page)
    payload["description"] = "second, with a new coat"
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    data.draft.refresh_from_db()
    assert data.draft.description == "second, with a new coat"


def test_adding_a_routing_for_a_part_revision_with_a_draft_shows_the_error(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "add"), {"part_revision": data.part_revision.pk, "description": "another"}
    )
    assert response.status_code == 200
    assert "already has a draft routing" in str(response.context["adminform"].form.errors["part_revision"])
    assert Routing.objects.filter(part_revision=data.part_revision).count() == 2


def test_adding_a_routing_makes_the_next_draft_revision(superuser_client, data):
    data.draft.delete()
    response = superuser_client.post(
        admin_url(Routing, "add"), {"part_revision": data.part_revision.pk, "description": "r2"}
    )
    assert response.status_code == 302
    routing = Routing.objects.get(part_revision=data.part_revision, status=RoutingStatus.DRAFT)
    assert routing.revision == 2 and routing.description == "r2"


def test_step_added_through_routing_inline_goes_through_the_service(superuser_client, data):
    url = admin_url(Routing, "change", data.draft.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["steps-TOTAL_FORMS"])
    payload["steps-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {
            f"steps-{n}-sequence": "30",
            f"steps-{n}-operation": str(data.coating.pk),
            f"steps-{n}-title": "Final inspection",
            f"steps-{n}-signoff": RoutingStep.Signoff.OPERATOR_AND_INSPECTOR,
        }
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    assert data.draft.steps.get(sequence=30).title == "Final inspection"


# --- Characteristics and attachments --------------------------------------------------------------


def test_bad_unit_is_shown_beside_the_unit_field(superuser_client, data):
    characteristic = Characteristic.objects.get(step__routing=data.draft, code="BORE_DIA")
    url = admin_url(Characteristic, "change", characteristic.pk)
    payload = post_data(superuser_client.get(url))
    payload["unit"] = "mmm"
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["unit"] == ["unknown unit 'mmm'"]
    html = response.content.decode()
    unit_row = html[html.index("field-unit") : html.index("field-nominal")]
    assert "unknown unit &#x27;mmm&#x27;" in unit_row
    characteristic.refresh_from_db()
    assert characteristic.unit == "mm"


def test_bad_unit_on_a_new_inline_characteristic_is_shown_beside_it(superuser_client, data):
    step = data.draft.steps.get(sequence=10)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["characteristics-TOTAL_FORMS"])
    payload["characteristics-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {
            f"characteristics-{n}-sequence": "30",
            f"characteristics-{n}-code": "LEN",
            f"characteristics-{n}-name": "Length",
            f"characteristics-{n}-kind": "numeric",
            f"characteristics-{n}-unit": "furlongz",
            f"characteristics-{n}-upper_limit": "5",
            f"characteristics-{n}-decimals": "2",
            f"characteristics-{n}-choices": "[]",
            f"characteristics-{n}-required": "on",
            f"characteristics-{n}-on_out_of_spec": "hold",
        }
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "characteristics"
    )
    assert formset.forms[n].errors["unit"] == ["unknown unit 'furlongz'"]
    assert not step.characteristics.filter(code="LEN").exists()

    payload[f"characteristics-{n}-unit"] = "in"
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    assert step.characteristics.get(code="LEN").unit == "in"


def test_attachment_uploaded_in_the_admin_is_stored_by_the_service(superuser_client, data):
    step = data.draft.steps.get(sequence=20)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["attachments-TOTAL_FORMS"])
    payload["attachments-TOTAL_FORMS"] = str(n + 1)
    content = PNG + b"coat"
    payload[f"attachments-{n}-title"] = "Masking plan"
    payload[f"attachments-{n}-file"] = SimpleUploadedFile("masking.png", content, content_type="image/png")
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    attachment = StepAttachment.objects.get(step=step, title="Masking plan")
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size == len(content)
    assert attachment.content_type == "image/png"
    assert attachment.file.read() == content


def test_attachment_of_a_refused_type_is_shown_beside_the_file(superuser_client, data):
    step = data.draft.steps.get(sequence=20)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["attachments-TOTAL_FORMS"])
    payload["attachments-TOTAL_FORMS"] = str(n + 1)
    payload[f"attachments-{n}-title"] = "Notes"
    payload[f"attachments-{n}-file"] = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    formset = next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "attachments")
    assert "text/plain is not accepted" in formset.forms[n].errors["file"][0]
    assert not StepAttachment.objects.filter(step=step).exists()
