"""Which language a person reads: their own choice (Profile.language), else their site's (Site.language),
else their browser's (Accept-Language, read by Django's LocaleMiddleware before this one).

The choice is resolved once per sign-in and kept in the session beside the user's id, so a page costs no
query for it; the account page and the admin refresh it when the choice changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import FileResponse
from django.utils import formats, translation

from mes.compliance.models import Profile

SESSION_KEY = "traveler_language"  # {"user": id, "language": "fr" or "" for the browser's}
SUPPORTED = frozenset(code for code, _name in settings.LANGUAGES)


def language_of(user) -> str:
    """The language `user` chose, else their home site's; "" when neither says (the browser decides)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    row = Profile.objects.filter(user_id=user.pk).values_list("language", "site__language").first()
    if row is None:
        return ""
    for code in row:
        if code and code in SUPPORTED:
            return code
    return ""


def remember_language(request, user) -> str:
    """Resolve `user`'s language now and keep it in the session for the pages that follow."""
    code = language_of(user)
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = {"user": user.pk, "language": code}
    return code


@receiver(user_logged_in, dispatch_uid="traveler-language-at-login")
def _on_login(sender, request, user, **kwargs) -> None:
    if request is not None:
        remember_language(request, user)


def _session_language(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return ""
    kept = request.session.get(SESSION_KEY)
    if isinstance(kept, dict) and kept.get("user") == user.pk:
        return kept.get("language") or ""
    return remember_language(request, user)  # a session from before this was kept


class UserLanguageMiddleware:
    """After authentication: a signed-in person's own or site language wins over the browser's, for this
    request only (the thread goes back to the browser's language after it, as LocaleMiddleware left it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = _session_language(request)
        if not code:
            return self.get_response(request)
        before = translation.get_language()
        translation.activate(code)
        request.LANGUAGE_CODE = code
        try:
            response = self.get_response(request)
        finally:
            if before:
                translation.activate(before)
            else:
                translation.deactivate()
        if response.streaming and not response.is_async and not isinstance(response, FileResponse):
            # made after this returns (a CSV export): each chunk in the person's language
            response.streaming_content = _in_language(code, response.streaming_content)
        response.headers.setdefault("Content-Language", code)  # LocaleMiddleware keeps it (setdefault)
        return response


def _in_language(code: str, chunks):
    chunks = iter(chunks)
    while True:
        with translation.override(code):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def decimal_comma() -> bool:
    """True when the active language writes decimals with a comma (French, Spanish): screens then read
    "12,701" as 12.701 and show values that way. The JSON API always uses the point."""
    return formats.get_format("DECIMAL_SEPARATOR") == ","


def local_decimal(text: str) -> str:
    """A decimal already written with a point ("12.700", the characteristic's places kept) in the active
    language's way ("12,700"): only the separator changes, so no digit is lost or rounded."""
    separator = formats.get_format("DECIMAL_SEPARATOR")
    if not text or separator == ".":
        return text
    return text.replace(".", separator, 1)
