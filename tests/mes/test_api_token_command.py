"""`manage.py api_token`: how an administrator gives an integration its key (shown once, audited)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mes.compliance.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def test_issue_prints_a_key_that_authenticates_once_shown(client, admin_user, django_user_model):
    robot = django_user_model.objects.create_user("legacy-mes", password="x-Robot-pass-1")
    printed = run("issue", "legacy-mes", "--name", "legacy MES adapter", "--by", "admin")
    key = printed.strip().splitlines()[-1]
    assert key.startswith("trv_")
    token = ApiToken.objects.get(user=robot)
    assert token.name == "legacy MES adapter" and key not in token.key_hash  # only the hash is kept
    event = AuditEvent.objects.get(action="api_token.issued", object_id=str(token.pk))
    assert event.actor_id == admin_user.pk

    assert (
        client.get("/api/travelers/NO-SUCH", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403
    )  # known, no rights
    assert "legacy MES adapter" in run("list", "legacy-mes")

    run("revoke", token.prefix, "--by", "admin", "--reason", "adapter retired")
    assert client.get("/api/travelers/NO-SUCH", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert AuditEvent.objects.get(action="api_token.revoked", object_id=str(token.pk)).reason == "adapter retired"


@pytest.mark.parametrize(
    "args, message",
    [
        (("issue", "legacy-mes", "--by", "admin"), "--name is required"),
        (("issue", "legacy-mes", "--name", "x"), "name --by"),
        (("issue", "nobody", "--name", "x", "--by", "admin"), "no active user 'nobody'"),
        (("issue", "legacy-mes", "--name", "x", "--by", "clerk"), "clerk may issue tokens only for themselves"),
        (("revoke", "trv_nope", "--by", "admin"), "0 active token(s) have the prefix 'trv_nope'"),
        (("issue",), "name the user"),
    ],
)
def test_refusals_name_what_is_wrong(admin_user, django_user_model, args, message):
    django_user_model.objects.create_user("legacy-mes", password="x-Robot-pass-1")
    django_user_model.objects.create_user("clerk", password="x-Clerk-pass-1")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)
    assert not ApiToken.objects.exists()
