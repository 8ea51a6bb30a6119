"""End-to-end tests in a real headless Chromium (Playwright for Python) against pytest-django's live server.

Chromium is the system's (Debian's /usr/bin/chromium, or CHROMIUM_PATH): Playwright's own browser download
is not used. Without it the tests skip on a laptop and fail under CI=true (tests/conftest.require_service).

Playwright's sync API keeps an asyncio event loop running in the test's thread, which makes Django refuse
ORM calls from the test code (SynchronousOnlyOperation) although they are plain synchronous calls. While
the browser runs, DJANGO_ALLOW_ASYNC_UNSAFE is set, and only then (the live server's threads never see a
running loop)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import require_service
from tests.travelers.conftest import shop, traveler  # noqa: F401 - the small shop every e2e test works in

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # a busy 2-core machine: generous, but a hung page still ends the test


def chromium_path() -> str | None:
    """The Chromium to drive: CHROMIUM_PATH if set, else Debian's; None when it is not there to run."""
    wanted = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    found = shutil.which(wanted)
    return found if found and os.access(found, os.X_OK) else None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (each test has its own contexts: own cookies, own storage)."""
    wanted = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    path = chromium_path()
    if path is None:
        require_service(f"Chromium is not at {wanted} (install Debian's chromium or set CHROMIUM_PATH)")
    # Imported here: this conftest must not break the rest of the suite where the dev extras are missing.
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415 — optional dev extra, see above

    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
            try:
                yield chromium
            finally:
                chromium.close()


PLAIN_HTTP = {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0}


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started with plain-HTTP security settings. Its middleware reads them
    once, when the server starts — before any test's `settings` fixture could change them — so the
    production HTTPS redirect would otherwise send the browser to an https:// the server cannot speak."""
    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(**PLAIN_HTTP):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _cookies_over_plain_http(settings):
    # Read at each response: with the production flags the browser would not send the session and CSRF
    # cookies back over plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def new_page(browser, live_server):
    """Opens a page in a fresh browser context (a tablet of its own) at `size`, its browser set to the
    language `lang` (navigator.language and the Accept-Language header); every uncaught script error
    and every Content-Security-Policy violation on any page fails the test. The contexts close before the
    database is emptied."""
    contexts, errors = [], []

    def open_page(size=(1024, 768), lang="en"):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": size[0], "height": size[1]},
            has_touch=True,
            locale=lang,
            extra_http_headers={"Accept-Language": lang},
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        # Anything the Content-Security-Policy blocked would be a feature silently broken.
        page.on(
            "console",
            lambda msg: errors.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None,
        )
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the pages: {errors}"
