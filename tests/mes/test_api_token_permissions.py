"""A bearer token's user comes with their permissions read in the same query (mes.compliance.tokens): the
same answers as the authentication backend gives a user loaded afresh, and no query of its own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from mes.compliance.tokens import api_token_issue, api_token_user

pytestmark = pytest.mark.django_db


def test_a_tokens_user_has_their_own_and_their_groups_permissions(django_assert_num_queries):
    user = User.objects.create_user("tina", password="a long enough password")
    group = Group.objects.create(name="Cell operators")
    group.permissions.add(Permission.objects.get(codename="perform_step"))
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="correct_measurement"))
    _, key = api_token_issue(user=user, name="tablet")
    via_token = api_token_user(key)
    assert via_token is not None
    with django_assert_num_queries(0):
        assert via_token.has_perm("travelers.perform_step")
        assert via_token.has_perm("travelers.correct_measurement")
        assert not via_token.has_perm("travelers.inspect_step")
    assert via_token.get_all_permissions() == User.objects.get(pk=user.pk).get_all_permissions()


def test_a_superuser_keeps_every_permission(django_assert_num_queries):
    boss = User.objects.create_superuser("root-ish", password="a long enough password")
    _, key = api_token_issue(user=boss, name="script")
    via_token = api_token_user(key)
    assert via_token is not None
    assert via_token.has_perm("travelers.inspect_step")
    assert via_token.get_all_permissions() == User.objects.get(pk=boss.pk).get_all_permissions()
