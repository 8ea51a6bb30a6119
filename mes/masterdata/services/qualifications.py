"""Qualifications: whether a user may perform or inspect an operation on a date."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext

from ..errors import (
    NotQualified,
    QualificationExpired,
)
from ..models import (
    Operation,
    Qualification,
)


def qualification_check(
    *, user, operation: Operation, kind: str, on: dt.date | None = None, held: list[Qualification] | None = None
) -> Qualification:
    """The user's qualification to `kind` (perform/inspect) `operation` on a date, or a named error:
    QualificationExpired when they held one that has lapsed, NotQualified when they never did. `held`:
    the user's qualifications of that kind for that operation, when the caller read them already."""
    on = on or timezone.localdate()
    if held is None:
        held = list(Qualification.objects.filter(user=user, operation=operation, kind=kind))
    quals = sorted(held, key=lambda qual: qual.expires_on, reverse=True)
    for qual in quals:
        if qual.valid_from <= on <= qual.expires_on:
            qual.user, qual.operation = user, operation  # the rows it names, known here (its text names them)
            return qual
    name = user.get_full_name() or user.get_username()
    if quals and quals[0].expires_on < on:
        raise QualificationExpired(
            gettext("%(name)s's qualification to %(kind)s %(name2)s expired on %(expires_on)s")
            % {
                "name": name,
                "kind": kind,
                "name2": operation.name,
                "expires_on": format(quals[0].expires_on, "%Y-%m-%d"),
            },
            field="qualification",
        )
    raise NotQualified(
        gettext("%(name)s is not qualified to %(kind)s %(name2)s")
        % {"name": name, "kind": kind, "name2": operation.name},
        field="qualification",
    )
