"""The admin pages load only the scripts they use.

Django's ModelAdmin always sends urlify.js, prepopulate.js and XRegExp (~170 KB, over 40 % of a first
load of an admin page) for slugs typed from other fields — prepopulated_fields, which no admin of
Traveler has. LeanModelAdmin drops them unless an admin declares such fields; every admin derives from it
(or mixes LeanMedia into Django's own UserAdmin and GroupAdmin)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

SLUG_SCRIPTS = ("admin/js/urlify.js", "admin/js/prepopulate.js", "admin/js/vendor/xregexp/")


class LeanMedia:
    @property
    def media(self) -> forms.Media:
        media = super().media  # type: ignore[misc]  # a mixin: the admin class supplies media
        if getattr(self, "prepopulated_fields", None):
            return media
        scripts = [js for js in media._js if not any(str(js).startswith(s) for s in SLUG_SCRIPTS)]
        return forms.Media(css=media._css, js=scripts)


class LeanModelAdmin(LeanMedia, admin.ModelAdmin):
    pass
