"""Configuration history (21 CFR 11.10(e); Annex 11 §9, §10): master data and configuration changes are
captured in the database whoever makes them, with who, when, old → new and why, sealed into the keyed
audit chain "config", and checked by the verifier. Reproduces the review's findings: a limit, a
backdated qualification and a role membership changed with no trace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from mes.compliance.config_seal import NO_CONTEXT, SEAL_GRACE, config_seal_all
from mes.compliance.credentials import profile_update
from mes.compliance.models import AuditEvent
from mes.compliance.verify import verify_records
from mes.masterdata import services
from mes.masterdata.models import Characteristic, CharacteristicEvent, Qualification
from tests.admin_forms import post_data
from tests.factories import OperationFactory, QualificationFactory, UserFactory, released_routing
from tests.tampering import as_superuser

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.regulation("21 CFR 11.10(e)", "Annex 11 §9", "Annex 11 §10", "Annex 11 §12"),
]


def config_events(**filters) -> list[AuditEvent]:
    config_seal_all()
    return list(AuditEvent.objects.filter(chain="config", **filters).order_by("seq"))


def findings() -> list[str]:
    return [str(f) for f in verify_records().findings]


@pytest.fixture
def draft():
    return services.routing_new_revision(routing=released_routing(steps=1))


@pytest.fixture
def engineer_client(client):
    engineer = UserFactory(username="eve", first_name="Eve", last_name="Engineer", is_staff=True)
    engineer.groups.add(Group.objects.get(name="Engineer"))
    client.force_login(engineer)
    client.user = engineer
    return client


def characteristic_change(client, characteristic, **changes) -> object:
    url = reverse("admin:masterdata_characteristic_change", args=[characteristic.pk])
    return client.post(url, {**post_data(client.get(url)), **changes})


def test_a_limit_changed_in_the_admin_is_recorded_with_who_old_new_and_why(engineer_client, draft):
    bore = Characteristic.objects.get(step__routing=draft, code="BORE_DIA")

    response = characteristic_change(
        engineer_client, bore, upper_limit="12.705", reason_for_change="capability study CS-7, ECO-118"
    )

    assert response.status_code == 302
    [event] = config_events(action="masterdata.characteristic.changed", object_id=str(bore.pk))
    assert event.changes == {"upper_limit": ["12.713", "12.705"]}
    assert event.reason == "capability study CS-7, ECO-118"
    assert event.actor == engineer_client.user and event.actor_name == "Eve Engineer"
    assert event.request_id  # the request it came from


def test_the_admin_refuses_a_change_without_a_reason_and_saves_nothing(engineer_client, draft):
    bore = Characteristic.objects.get(step__routing=draft, code="BORE_DIA")

    response = characteristic_change(engineer_client, bore, upper_limit="12.705", reason_for_change="")

    assert response.status_code == 200
    assert "reason_for_change" in response.context["adminform"].form.errors
    bore.refresh_from_db()
    assert bore.upper_limit == Decimal("12.713")
    assert not CharacteristicEvent.objects.filter(pgh_obj=bore, pgh_label="changed").exists()


def test_a_qualification_backdated_in_sql_is_caught_and_named_as_outside_the_application():
    qualification = QualificationFactory()
    backdated = qualification.valid_from - dt.timedelta(days=400)

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE masterdata_qualification SET valid_from = %s WHERE id = %s", [backdated, qualification.pk]
        )

    [event] = config_events(action="masterdata.qualification.changed", object_id=str(qualification.pk))
    assert event.changes == {"valid_from": [qualification.valid_from.isoformat(), backdated.isoformat()]}
    assert (event.actor, event.actor_name) == (None, NO_CONTEXT)


def test_role_membership_and_user_changes_are_recorded_without_the_password(client, admin_user):
    operator = UserFactory(username="olga")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[operator.pk])
    data = post_data(client.get(url))
    data["groups"] = [Group.objects.get(name="Inspector").pk]
    data["reason_for_change"] = "moved to final inspection"

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    [added] = config_events(action="auth.user_groups.added")
    assert added.changes["group"][1].startswith("Inspector")
    assert added.changes["user"][1].startswith("olga")
    assert added.reason == "moved to final inspection" and added.actor == admin_user
    for event in config_events(object_type="auth.user"):
        assert "password" not in event.changes


def test_a_printed_name_change_carries_its_reason_into_the_configuration_history():
    user = UserFactory(username="ana", first_name="Ana", last_name="Lima")

    with transaction.atomic():
        profile_update(profile=user.profile, actor=user, printed_name="Ana Lima-Souza", reason="married name")

    [event] = config_events(action="compliance.profile.changed")
    assert event.changes == {"printed_name": ["Ana Lima", "Ana Lima-Souza"]}
    assert event.reason == "married name"


def test_history_tables_are_append_only(draft):
    bore = Characteristic.objects.get(step__routing=draft, code="BORE_DIA")
    Characteristic.objects.filter(pk=bore.pk).update(upper_limit=Decimal("12.710"))

    with pytest.raises(DatabaseError), transaction.atomic():
        CharacteristicEvent.objects.filter(pgh_obj=bore).update(upper_limit=Decimal("12.713"))
    with pytest.raises(DatabaseError), transaction.atomic():
        CharacteristicEvent.objects.filter(pgh_obj=bore).delete()


def test_sealing_is_complete_and_idempotent(draft):
    OperationFactory(code="ANODIZE")
    first = config_seal_all()

    assert first > 0
    assert config_seal_all() == 0
    assert findings() == []


def test_the_verifier_finds_a_captured_change_rewritten_behind_the_application(draft):
    bore = Characteristic.objects.get(step__routing=draft, code="BORE_DIA")
    Characteristic.objects.filter(pk=bore.pk).update(upper_limit=Decimal("12.705"))
    config_seal_all()

    as_superuser(
        "UPDATE masterdata_characteristicevent SET upper_limit = 12.713 "
        "WHERE pgh_obj_id = %s AND pgh_label = 'changed'",
        [bore.pk],
    )

    assert any("differs from what was sealed" in f for f in findings())


def test_the_verifier_reports_changes_left_unsealed(draft):
    QualificationFactory()
    config_seal_all()
    Qualification.objects.update(expires_on=timezone.localdate() + dt.timedelta(days=9999))
    as_superuser(
        "UPDATE masterdata_qualificationevent SET pgh_created_at = %s WHERE pgh_label = 'changed'",
        [timezone.now() - SEAL_GRACE - dt.timedelta(minutes=1)],
    )

    assert any("captured but not sealed" in f for f in findings())
    config_seal_all()
    assert not any("captured but not sealed" in f for f in findings())


def test_an_instruction_file_added_to_a_draft_is_sealed_by_its_name(draft, settings, tmp_path):
    # Observed on `make run`: the demo's instruction drawings made every sealing run fail (a file field is
    # not JSON), so /audit/ answered 500 and configuration stayed unsealed.
    settings.MEDIA_ROOT = tmp_path
    step = draft.steps.get()
    drawing = services.step_attachment_add(
        step=step, title="Bore detail", filename="bore.pdf", content=b"%PDF-1.4 drawing", content_type="application/pdf"
    )
    added = config_events(object_type="masterdata.stepattachment", object_id=str(drawing.pk))
    assert len(added) == 1 and added[0].changes["file"] == [None, drawing.file.name]
    assert findings() == []
