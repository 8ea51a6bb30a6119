"""Hostile search input — quotes, SQL fragments, 10,000 characters, unicode, NUL bytes — gets results or
a clear message from the selectors, the page and the API; never an error (hypothesis)."""

from __future__ import annotations

from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.traceability.selectors import recall, search
from integrations.traceability.selectors.query import MAX_LENGTH, parse
from tests.integrations.trace_support import trace_shop  # noqa: F401 - the fixture
from tests.travelers.conftest import shop  # noqa: F401 - trace_shop's fixture

HOSTILE = [
    "",
    "'",
    '"',
    "\\",
    "%",
    "_",
    "*",
    "a\x00b",
    "\x00",
    "SA-1'; DROP TABLE travelers_item; --",
    "' OR '1'='1",
    "op:' OR 1=1 --",
    'by:"unterminated',
    'part:"',
    "from:2026-13-45 to:0000-00-00",
    "near:X:abc near::5 near:X:1e309",
    "site:" + "é" * 200,
    "ñ 漢字 🚀 ℌ𝔢𝔩𝔩𝔬 \u202e\u200b",
    "x" * 10_000,
    " ".join(["SA-1"] * 100),
    "%%%_%_%\\%",
    "BORE_DIA out of spec within 999% of limit",
    "\ud800",  # a lone surrogate, as a broken client may send
]

# a few keys and fragments hypothesis combines with arbitrary text
FRAGMENTS = st.sampled_from(
    ["op:", "by:", "site:", "wc:", "part:", "rev:", "from:", "to:", "ncr:", "near:", "oos:", '"', "'", "*", "%", " "]
)
TEXT = st.lists(st.one_of(st.text(max_size=40), FRAGMENTS), max_size=12).map("".join)


def _answers(result) -> None:
    assert isinstance(result.hits, list)
    assert result.completeness.statement.startswith("Searched:") or result.messages
    for message in result.messages:
        assert isinstance(message, str) and message


def test_hostile_text_gets_results_or_a_message(trace_shop):  # noqa: F811
    for text in HOSTILE:
        _answers(search.search(text))
        _answers(search.search("SA-1", cursor=text or None))
        result = recall.recall(lot=text, part=text)
        assert result.messages or result.completeness.statement
    assert [h.identifier for h in search.search("SA-1'; DROP TABLE travelers_item; --").hits] == []
    assert [h.identifier for h in search.search("SA-1").hits] == ["SA-1"]  # and nothing was dropped


def test_a_very_long_search_is_refused_plainly():
    query = parse("x" * 10_000)
    assert query.refused and "10,000 characters" in query.problems[0]
    assert len(parse("y" * (MAX_LENGTH + 50)).text) == MAX_LENGTH


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text="SA-1\x00' OR 1=1")
def test_any_text_never_errors(trace_shop, text):  # noqa: F811
    _answers(search.search(text))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_the_page_and_the_api_answer_any_text(client, trace_shop, text):  # noqa: F811
    client.force_login(trace_shop.shop.operator)
    page = client.get(reverse("traceability:search"), {"q": text, "site": text, "from": text})
    api = client.get("/api/trace/search", {"q": text, "cursor": text, "by": text})
    recall = client.get(reverse("traceability:recall"), {"lot": text, "from": text})
    if "\x00" in text:  # refused before any view, naming the parameter (mes.request_guard)
        assert page.status_code == api.status_code == recall.status_code == 400
        assert api.json()["error"]["field"] == "q"
        return
    assert page.status_code == 200
    assert api.status_code == 200 and "statement" in api.json()["completeness"]
    assert recall.status_code == 200


def test_hostile_paths_and_parameters_answer_plainly(client, trace_shop):  # noqa: F811
    client.force_login(trace_shop.shop.operator)
    for raw in ("%ED%A0%80%00%FF", "%27%00%22", "%C3%28"):  # invalid UTF-8, NUL, quotes as raw bytes
        # A NUL byte is refused before any view, naming the parameter (mes.request_guard); the rest answer.
        expected = 400 if "%00" in raw else 200
        unit = client.get(f"/api/trace/unit?identifier={raw}")
        assert unit.status_code == expected
        if expected == 400:
            assert unit.json()["error"]["field"] == "identifier"
        assert client.get(f"{reverse('traceability:search')}?q={raw}&site={raw}").status_code == expected
        assert client.get(f"/api/trace/search?q={raw}&cursor={raw}").status_code == expected
    for text in (t for t in HOSTILE if "\ud800" not in t):
        expected = 400 if "\x00" in text else 200
        assert client.get("/api/trace/unit", {"identifier": text}).status_code == expected
        assert client.get(reverse("traceability:search"), {"q": text}).status_code == expected
        if 0 < len(text) < 100 and "\x00" not in text and "/" not in text:
            assert client.get(reverse("traceability:archived", args=[text])).status_code == 404
    export = client.get(reverse("traceability:recall_csv"), {"lot": "' OR 1=1 --"})
    assert export.status_code == 200 and "no unit or lot" not in b"".join(export.streaming_content).decode()
    body = client.get("/api/trace/search", {"q": "x", "limit": "many"})
    assert body.status_code == 422 and body.json()["error"]["field"] == "limit"
