"""Allowed transitions of a routing revision."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RELEASED = "released", _("Released")
    SUPERSEDED = "superseded", _("Superseded")
    OBSOLETE = "obsolete", _("Obsolete")


ALLOWED: dict[str, set[str]] = {
    RoutingStatus.DRAFT: {RoutingStatus.RELEASED},
    RoutingStatus.RELEASED: {RoutingStatus.SUPERSEDED, RoutingStatus.OBSOLETE},
    RoutingStatus.SUPERSEDED: set(),
    RoutingStatus.OBSOLETE: set(),
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED.get(current, set())
