"""Times say their zone wherever Django formats them (the admin's lists and forms included)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import formats, timezone, translation

from mes.compliance.tokens import api_token_issue

MOMENT = dt.datetime(2026, 3, 2, 14, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "language, shown",
    [("en", "2026-03-02 14:15:00 UTC"), ("fr", "2 mars 2026 14:15:00 UTC"), ("es", "2 de marzo de 2026 14:15:00 UTC")],
)
def test_a_date_time_is_shown_with_its_zone_in_each_language(language, shown):
    with translation.override(language), timezone.override("UTC"):
        assert formats.date_format(timezone.localtime(MOMENT), "DATETIME_FORMAT") == shown
        assert formats.localize(timezone.localtime(MOMENT)).endswith("UTC")


@pytest.mark.django_db
def test_the_admin_lists_times_with_their_zone(client, admin_user):
    api_token_issue(user=admin_user, name="legacy MES", actor=admin_user)
    client.force_login(admin_user)
    page = client.get("/admin/compliance/apitoken/")
    assert page.status_code == 200
    assert " UTC</td>" in page.content.decode()
