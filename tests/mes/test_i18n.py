"""Which language a person reads: their choice, else their site's, else their browser's; and the catalogs
compiled without GNU gettext."""

from __future__ import annotations

import polib
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext

from mes.catalogs import compile_catalogs, stale
from mes.compliance.models import AuditEvent, Profile
from tests.factories import SiteFactory, UserFactory
from travelers.demo.sites import SITES

pytestmark = pytest.mark.django_db

ACCOUNT = "travelers:station_account"


def _person(*, language="", site_language=None):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Operator"))
    profile = Profile.objects.get(user=user)
    if site_language is not None:
        profile.site = SiteFactory(language=site_language)
    profile.language = language
    profile.save()
    return user


def _language_of_page(client, user, accept="de") -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse(ACCOUNT) if user else reverse("travelers:station_login"), HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert f'<html lang="{response["Content-Language"]}">' in response.content.decode()
    return response["Content-Language"]


def test_the_persons_own_choice_wins_over_site_and_browser(client):
    assert _language_of_page(client, _person(language="es", site_language="fr"), accept="fr") == "es"


def test_the_sites_language_wins_over_the_browser(client):
    assert _language_of_page(client, _person(site_language="fr"), accept="es") == "fr"


def test_without_a_choice_or_a_site_language_the_browser_decides(client):
    assert _language_of_page(client, _person(site_language=""), accept="es,en;q=0.5") == "es"
    client.logout()
    assert _language_of_page(client, _person(), accept="fr-FR,fr;q=0.9") == "fr"


def test_a_signed_out_page_follows_the_browser(client):
    assert _language_of_page(client, None, accept="es-MX,es;q=0.9") == "es"


def test_choosing_a_language_on_the_account_page_applies_at_once_and_is_audited(client):
    user = _person(site_language="fr")
    client.force_login(user)
    response = client.post(reverse(ACCOUNT), {"form": "language", "language-language": "es"})
    assert response.status_code == 302
    assert Profile.objects.get(user=user).language == "es"
    assert _language_of_page(client, user, accept="en") == "es"
    event = AuditEvent.objects.filter(action="profile.changed", object_id=str(user.profile.pk)).latest("id")
    assert event.changes == {"language": [None, "es"]}
    # Back to the site's language.
    client.post(reverse(ACCOUNT), {"form": "language", "language-language": ""})
    assert _language_of_page(client, user, accept="en") == "fr"


def test_an_unknown_language_is_refused_beside_the_field(client):
    user = _person()
    client.force_login(user)
    response = client.post(reverse(ACCOUNT), {"form": "language", "language-language": "xx"})
    assert response.status_code == 422
    assert Profile.objects.get(user=user).language == ""
    assert "field-error" in response.content.decode()


def test_catalogs_compile_in_pure_python_only_when_their_source_is_newer(tmp_path):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "fr"}
    po.append(polib.POEntry(msgid="Holds", msgstr="Blocages"))
    po.append(polib.POEntry(msgid="Unfinished", msgstr="Pas fini", flags=["fuzzy"]))
    po.save(str(folder / "django.po"))
    assert [p.name for p in compile_catalogs(tmp_path)] == ["django.mo"]
    assert not stale(folder / "django.po")
    assert compile_catalogs(tmp_path) == []  # up to date: nothing to do
    compiled = {entry.msgid: entry.msgstr for entry in polib.mofile(str(folder / "django.mo"))}
    assert compiled == {"Holds": "Blocages"}  # a fuzzy translation is not served


def test_the_demo_sites_speak_their_countrys_language():
    assert {site.code: site.language for site in SITES} == {"WIC": "en", "TLS": "fr", "QRO": "es"}


@pytest.mark.parametrize(("language", "hold", "traveler"), [("fr", "Levé", "Lancée"), ("es", "Liberada", "Liberada")])
def test_a_released_hold_and_a_released_traveler_are_told_apart(language, hold, traveler):
    """French says a hold (un blocage) is "levé" and a traveler (une fiche) "lancée": one English word,
    two contexts."""
    with translation.override(language):
        assert pgettext("hold", "Released") == hold
        assert gettext("Released") == traveler
