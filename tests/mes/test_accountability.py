"""Accountable people (21 CFR 11.10(d), (g), 11.100, 11.200, 11.300): administration that cannot impersonate,
credentials people manage, signing rules held by the services for every channel."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mes.compliance import credentials
from mes.compliance.errors import CredentialRefused, SignatureRefused
from mes.compliance.models import AuditEvent, SigningCredential, SigningUnlock
from mes.compliance.sessions import SEEN_KEY
from mes.compliance.signing import signature_verify, signing_authenticate
from mes.compliance.tokens import api_token_issue, api_token_revoke
from mes.events.models import OutboxMessage
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def in_role(role: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Administration that cannot impersonate --------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.10(d)", "Annex 11 §12")
def test_an_administrator_cannot_make_itself_superuser_nor_change_its_roles():
    admin = in_role("Administrator", is_staff=True)
    client = admin_client(admin)
    page = client.get(reverse("admin:auth_user_change", args=[admin.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="is_superuser"' not in html and 'name="groups"' not in html and 'name="user_permissions"' not in html
    form = {
        "username": admin.username,
        "first_name": "Al",
        "last_name": "Admin",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [Group.objects.get(name="Administrator").pk, Group.objects.get(name="Supervisor").pk],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "0",
        "profile-INITIAL_FORMS": "0",
    }
    client.post(reverse("admin:auth_user_change", args=[admin.pk]), form)
    admin.refresh_from_db()
    assert not admin.is_superuser and list(admin.groups.values_list("name", flat=True)) == ["Administrator"]
    assert (
        client.get(reverse("admin:auth_group_change", args=[Group.objects.get(name="Operator").pk])).status_code
        in (
            302,
            403,
        )
        or "Change group" not in client.get(reverse("admin:auth_group_changelist")).content.decode()
    )


@pytest.mark.regulation("21 CFR 11.200(a)(2)", "AC 120-78B signatures")
def test_after_an_administrator_sets_a_password_it_cannot_sign_as_that_person():
    admin = in_role("Administrator", is_staff=True)
    operator = in_role("Operator")
    response = admin_client(admin).post(
        reverse("admin:auth_user_password_change", args=[operator.pk]),
        {"password1": "Admin-knows-this-1", "password2": "Admin-knows-this-1", "usable_password": "true"},
    )
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password("Admin-knows-this-1")
    with pytest.raises(SignatureRefused, match="set by someone else: choose a new one"):  # whoever types it
        signing_authenticate(user=operator, secret="Admin-knows-this-1", username=operator.username)
    event = AuditEvent.objects.get(chain=f"user:{operator.pk}", action="signing.reset_by_admin")
    assert event.actor_id == admin.pk and "password set in the administration" in event.reason
    # the operator chooses their own: signing works again
    credentials.password_change(user=operator, current_password="Admin-knows-this-1", new_password="Only-Olga-knows-2")
    assert signing_authenticate(user=operator, secret="Only-Olga-knows-2", username=operator.username)


@pytest.mark.regulation("21 CFR 11.200(a)(2)")
def test_a_new_account_must_choose_its_own_secret_before_signing(django_user_model):
    admin = in_role("Administrator", is_staff=True)
    response = admin_client(admin).post(
        reverse("admin:auth_user_add"),
        {"username": "newbie", "usable_password": "true", "password1": "First-pass-9x", "password2": "First-pass-9x",
         "profile-TOTAL_FORMS": "0", "profile-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    newbie = django_user_model.objects.get(username="newbie")
    with pytest.raises(SignatureRefused, match="set by someone else"):
        signing_authenticate(user=newbie, secret="First-pass-9x", username="newbie")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE auth_user SET username = 'someone-else' WHERE id = %s",
        "DELETE FROM auth_user WHERE id = %s",
        "UPDATE compliance_profile SET employee_number = 'X-1' WHERE user_id = %s",
        "DELETE FROM compliance_profile WHERE user_id = %s",
    ],
)
@pytest.mark.regulation("21 CFR 11.100(a)", "21 CFR 11.300(a)")
def test_user_ids_and_badges_are_never_reassigned(statement):
    user = UserFactory()  # with a profile (badge)
    with pytest.raises(IntegrityError, match="never"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [user.pk])


@pytest.mark.regulation("21 CFR 11.50", "21 CFR 11.10(e)")
def test_a_printed_name_changes_only_with_a_reason_and_is_audited():
    admin = in_role("Administrator", is_staff=True)
    user = UserFactory()
    profile = user.profile
    profile.printed_name = "Maria Delgado"
    profile.save(update_fields=["printed_name"])
    with pytest.raises(CredentialRefused, match="say why the printed name changes"):
        credentials.profile_update(profile=profile, actor=admin, printed_name="Maria Delgado-Ruiz")
    credentials.profile_update(profile=profile, actor=admin, printed_name="Maria Delgado-Ruiz", reason="married")
    event = AuditEvent.objects.get(chain=f"user:{user.pk}", action="profile.changed")
    assert event.changes["printed_name"] == ["Maria Delgado", "Maria Delgado-Ruiz"] and event.reason == "married"


# --- Credentials people manage -----------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.300(b)")
def test_passwords_and_pins_age_out(settings):
    settings.PASSWORD_MAX_AGE_DAYS, settings.PIN_MAX_AGE_DAYS = 90, 30
    user = UserFactory()
    type(user).objects.filter(pk=user.pk).update(date_joined=timezone.now() - dt.timedelta(days=91))
    user.refresh_from_db()
    with pytest.raises(SignatureRefused, match="older than 90 days"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.username)
    credentials.password_change(user=user, current_password=DEFAULT_PASSWORD, new_password="Fresh-pass-2026")
    assert signing_authenticate(user=user, secret="Fresh-pass-2026", username=user.username).method == "password"
    credentials.signing_pin_set(user=user, current_password="Fresh-pass-2026", new_pin="573920")
    SigningCredential.objects.filter(user=user).update(pin_set_at=timezone.now() - dt.timedelta(days=31))
    with pytest.raises(SignatureRefused, match="PIN is older than 30 days"):
        signing_authenticate(user=user, secret="573920", username=user.username)


@pytest.mark.regulation("21 CFR 11.300(d)", "Annex 11 §12")
def test_a_supervisor_unlocks_a_signer_with_a_reason_and_a_signature(settings):
    settings.SIGNING_FAILURE_LIMIT = 2
    operator, supervisor = in_role("Operator"), in_role("Supervisor")
    for guess in ("a", "b"):
        with pytest.raises(SignatureRefused):
            signing_authenticate(user=operator, secret=guess, username=operator.username)
    assert OutboxMessage.objects.filter(event_type="signer.locked").count() == 1  # subscribers are told
    with pytest.raises(SignatureRefused, match="nobody unlocks their own"):
        credentials.signing_unlock(
            user=supervisor, actor=supervisor, secret=DEFAULT_PASSWORD, reason="x", username=supervisor.username
        )
    with pytest.raises(SignatureRefused, match="may not unlock"):
        other = in_role("Operator")
        credentials.signing_unlock(
            user=operator, actor=other, secret=DEFAULT_PASSWORD, reason="x", username=other.username
        )
    unlock = credentials.signing_unlock(
        user=operator,
        actor=supervisor,
        secret=DEFAULT_PASSWORD,
        reason="identity checked",
        username=supervisor.username,
    )
    assert unlock.signature.meaning == "unlocked" and unlock.failed_attempts == 2
    assert signature_verify(unlock.signature)
    assert SigningUnlock.objects.get().reason == "identity checked"
    assert signing_authenticate(user=operator, secret=DEFAULT_PASSWORD, username=operator.username)


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_login_failures_and_lockouts_are_audited_and_alert(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="tom")
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": "tom", "password": "wrong-guess-1"})
    actions = list(AuditEvent.objects.filter(chain=f"user:{user.pk}").values_list("action", flat=True))
    assert actions.count("login.failed") >= 2 and "login.locked_out" in actions
    assert OutboxMessage.objects.filter(event_type="login.locked_out").exists()
    supervisor = in_role("Supervisor")
    page = admin_client(supervisor).get(reverse("travelers:signers"))
    assert page.status_code == 200 and "tom" in page.content.decode()
    client.post(reverse("admin:login"), {"username": "nobody-here", "password": "x"})
    assert AuditEvent.objects.filter(chain="logins", action="login.failed").exists()


# --- Signing rules in the service layer, for every channel -------------------------------------------------


@pytest.mark.regulation("21 CFR 11.200(a)(1)")
def test_the_first_signing_of_a_session_needs_the_user_id_then_the_secret_alone():
    user = UserFactory()
    with pytest.raises(SignatureRefused, match="type your user id") as refused:
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, session_key="s1")
    assert refused.value.field == "username"
    assert not SigningCredential.objects.filter(user=user, failed_attempts__gt=0).exists()  # not a wrong secret
    signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.username, session_key="s1")
    assert signing_authenticate(user=user, secret=DEFAULT_PASSWORD, session_key="s1")  # same session
    with pytest.raises(SignatureRefused, match="type your user id"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, session_key="s2")  # another session
    with pytest.raises(SignatureRefused, match="type your user id"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD)  # no session at all (an API token)


@pytest.mark.regulation("21 CFR 11.200(a)(1)")
def test_an_api_token_signs_only_with_the_user_id_too(client):
    user = in_role("Operator")
    _, key = api_token_issue(user=user, name="script")
    r = client.post(
        "/api/account/pin",
        {"current_password": DEFAULT_PASSWORD, "new_pin": "12"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_pin"
    r = client.post(
        "/api/account/pin",
        {"current_password": DEFAULT_PASSWORD, "new_pin": "573920"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 200 and SigningCredential.objects.get(user=user).pin_hash


@pytest.mark.regulation("21 CFR 11.300(c)", "Annex 11 §12")
def test_a_revoked_token_stops_at_once_and_only_its_owner_or_an_administrator_revokes(client):
    owner, other = in_role("Operator"), in_role("Operator")
    administrator = in_role("Administrator", is_staff=True)
    token, key = api_token_issue(user=owner, name="bridge")
    assert client.get("/api/travelers/T-NONE", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404

    with pytest.raises(SignatureRefused, match="may not revoke"):
        api_token_revoke(token=token, actor=other)
    response = admin_client(administrator).post(
        reverse("admin:compliance_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )

    assert response.status_code == 302
    assert client.get("/api/travelers/T-NONE", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    event = AuditEvent.objects.get(chain=f"user:{owner.pk}", action="api_token.revoked")
    assert event.actor == administrator and event.changes == {"revoked": [False, True]}


@pytest.mark.regulation("21 CFR 11.10(d)")
def test_an_idle_tablet_session_closes_api_access_too(client):
    user = in_role("Operator")
    client.force_login(user)
    url = "/api/travelers/T-NONE"  # any API read: 404 signed in, 401 once the session is closed
    assert client.get(url).status_code == 404
    session = client.session
    session[SEEN_KEY] = time.time() - 3600
    session.save()
    r = client.get(url)
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    assert "_auth_user_id" not in client.session  # signed out, as the pages do
