"""An API token's user comes with their permissions read in the same query: the same answers as Django's
ModelBackend, and no permission query afterwards."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from mes.compliance.tokens import api_token_issue, api_token_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_user_has_the_permissions_modelbackend_gives_own_and_through_groups(django_assert_num_queries):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Operator"))
    ncr_view = Permission.objects.get(codename="view_nonconformance", content_type__app_label="travelers")
    user.user_permissions.add(ncr_view)
    _, key = api_token_issue(user=user, name="tablet")
    api_token_user(key)  # notes the token's first use (a write), not counted below
    expected = ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
    assert "travelers.view_nonconformance" in expected and "travelers.perform_step" in expected
    with django_assert_num_queries(1):
        token_user = api_token_user(key)
        assert token_user.get_all_permissions() == expected
        assert token_user.has_perm("travelers.perform_step")
        assert not token_user.has_perm("travelers.release_hold")


def test_a_permission_taken_away_is_gone_at_the_next_request():
    user = UserFactory()
    operators = Group.objects.get(name="Operator")
    user.groups.add(operators)
    _, key = api_token_issue(user=user, name="tablet")
    assert api_token_user(key).has_perm("travelers.perform_step")
    user.groups.remove(operators)
    assert not api_token_user(key).has_perm("travelers.perform_step")


def test_a_superuser_token_has_every_permission():
    admin = UserFactory(is_superuser=True)
    _, key = api_token_issue(user=admin, name="script")
    assert api_token_user(key).has_perm("travelers.release_hold")


def test_an_inactive_users_token_gives_no_user():
    user = UserFactory()
    _, key = api_token_issue(user=user, name="tablet")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_token_user(key) is None
