"""Traveler in French and Spanish: every area's pages in the reader's language with `lang` set, decimals
typed and shown with a comma, units printed as on a drawing, and signatures in their signer's words."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation
from pypdf import PdfReader

from mes.compliance.models import Profile, Signature
from mes.compliance.signing import signature_verify
from tests.travelers.conftest import PASSWORD, step_of
from travelers import services
from travelers.models import Measurement

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def speaking(user, language: str) -> Client:
    """A browser that asks for English, for a person who chose `language` (their choice wins)."""
    Profile.objects.filter(user=user).update(language=language)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def at_station(user, language: str) -> Client:
    client = speaking(user, language)
    assert client.post("/station/work-center/", {"work_center": "WIC/CELL-1"}).status_code == 302
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def page(client, url, language, *expected):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert f'<html lang="{language}">' in html, url
    for words in expected:
        assert words in text(response), f"{words!r} not on {url} in {language}"
    return response


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "fr",
            {
                "station": "File d'attente à CELL-1",
                "step": "Instructions de travail",
                "review": "Valeurs hors tolérance",
                "supervisor": "En-cours de production",
                "trace": "Traçabilité",
                "status": "Synchronisation avec le MES historique",
                "pdf": "FICHE SUIVEUSE",
            },
        ),
        (
            "es",
            {
                "station": "Cola en CELL-1",
                "step": "Instrucciones de trabajo",
                "review": "Valores fuera de especificación",
                "supervisor": "Trabajo en proceso",
                "trace": "Trazabilidad",
                "status": "Sincronización con el MES heredado",
                "pdf": "HOJA DE RUTA",
            },
        ),
    ],
)
def test_every_area_speaks_the_readers_language(shop, traveler, language, words):
    station = at_station(shop.operator, language)
    page(station, "/", language, words["station"])
    page(station, f"/station/travelers/{traveler.number}/steps/10/", language, words["step"])
    inspector = speaking(shop.inspector, language)
    page(inspector, f"/quality/travelers/{traveler.number}/", language, words["review"])
    supervisor = speaking(shop.supervisor, language)
    page(supervisor, "/supervisor/", language, words["supervisor"])
    page(supervisor, "/trace/?q=SN-0001", language, words["trace"])
    page(supervisor, "/integrations/status", language, words["status"])
    pdf = inspector.get(f"/travelers/{traveler.number}/print.pdf")
    assert pdf.status_code == 200 and pdf["Content-Language"] == language
    reader = PdfReader(io.BytesIO(pdf.content))
    assert words["pdf"] in reader.pages[0].extract_text()
    assert reader.trailer["/Root"]["/Lang"] == language


def test_state_labels_come_from_the_enums_in_the_readers_language(shop, traveler):
    step = station = at_station(shop.operator, "es")
    step = page(station, f"/station/travelers/{traveler.number}/steps/10/", "es", "Pendiente")
    assert "Pending" not in text(step)


def test_a_french_screen_reads_and_shows_a_decimal_comma(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    client = at_station(shop.operator, "fr")
    bore = step_of(traveler, 10).characteristics.get(code="BORE_DIA").pk
    preview = client.post(
        f"/station/travelers/{traveler.number}/steps/10/values/{bore}/preview/", {"value": "12,701"}, **HX
    )
    assert "Conforme" in text(preview) and "+0,001 mm du nominal" in text(preview)
    response = client.post(
        f"/station/travelers/{traveler.number}/steps/10/values/{bore}/",
        {"value": "12,701", "unit": "", "expected_version": step.version},
        **HX,
    )
    assert response.status_code == 200, response.content
    assert "Bore diameter enregistré : 12,701 mm — conforme." in text(response)
    m = Measurement.objects.get()
    assert m.value_numeric == Decimal("12.701")
    assert m.entered_value == "12,701" and m.judgment == "in_spec"  # exactly what was typed is kept
    assert "12,687 – 12,713" in text(response)  # the limits, with the characteristic's three places


def test_a_point_followed_by_three_digits_is_not_guessed_on_a_comma_screen(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    client = at_station(shop.operator, "es")
    bore = step_of(traveler, 10).characteristics.get(code="BORE_DIA").pk
    response = client.post(
        f"/station/travelers/{traveler.number}/steps/10/values/{bore}/",
        {"value": "12.701", "expected_version": step.version},
        **HX,
    )
    assert response.status_code == 422
    assert "«12.701» podría ser 12,701 o 12701" in text(response)
    assert not Measurement.objects.exists()


def test_an_english_screen_and_the_api_keep_the_point(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    client = at_station(shop.operator, "en")
    bore = step_of(traveler, 10).characteristics.get(code="BORE_DIA").pk
    refused = client.post(
        f"/station/travelers/{traveler.number}/steps/10/values/{bore}/",
        {"value": "12,701", "expected_version": step.version},
        **HX,
    )
    assert refused.status_code == 422 and "could be 12.701 or 12701" in text(refused)
    api = speaking(shop.operator, "fr").post(
        f"/api/travelers/{traveler.number}/steps/10/measurements",
        {"characteristic": "BORE_DIA", "value": "12.701"},
        content_type="application/json",
    )
    assert api.status_code in (200, 201), api.content
    assert Measurement.objects.get().value_numeric == Decimal("12.701")


def test_units_are_printed_as_symbols(shop, traveler):
    client = at_station(shop.operator, "fr")
    response = page(client, f"/station/travelers/{traveler.number}/steps/20/", "fr", "25,0 N·m (23,0 – 27,0)")
    assert "N*m" not in text(response)


def test_a_signature_keeps_its_code_and_its_signers_words(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    for code, value in (("BORE_DIA", "12.701"), ("SURFACE", "pass")):
        services.measurement_record(step=step, characteristic=code, value=value, actor=shop.operator)
    with translation.override("fr"):
        services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username="olga")
    signature = Signature.objects.get(meaning="performed")
    assert signature.language == "fr"
    assert signature_verify(signature)  # the meaning's code is what is signed, whatever the language
    with translation.override("es"):
        assert signature.meaning_label == "Exécuté"
        assert signature.meaning_manifest == "Exécuté (Realizado)"
    with translation.override("fr"):
        assert signature.meaning_manifest == "Exécuté"
    inspector = speaking(shop.inspector, "es")
    review = inspector.get(f"/quality/travelers/{traveler.number}/signatures/")
    assert "Exécuté (Realizado)" in text(review)


def test_a_supervisor_group_member_without_profile_language_follows_the_site(shop, traveler):
    shop.site.language = "es"
    shop.site.save()
    supervisor = shop.supervisor
    Profile.objects.filter(user=supervisor).update(site=shop.site, language="")
    assert supervisor.groups.filter(name="Supervisor").exists() and Group.objects.exists()
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(supervisor)
    page(client, "/supervisor/", "es", "Trabajo en proceso")


def test_a_streamed_export_is_written_in_the_readers_language_and_the_thread_keeps_its_own(shop, traveler):
    client = speaking(shop.supervisor, "fr")
    response = client.get("/trace/recall.csv?lot=SN-0001")
    assert response.status_code == 200 and response["Content-Language"] == "fr"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("# exhaustivité,Cherché dans : base de données en service")
    assert "site,part,revision,serial_or_lot" in body  # the column names are the same in every language
    assert translation.get_language() == "en"  # the person's language ended with their request
