"""The audit trail as a reviewer reads it (21 CFR 11.10(e); Annex 11 §9): which events, in plain words.

    filters = TrailFilterForm(request.GET)      # traveler, work order, user, action, object, dates, site
    trail = Trail.from_filters(filters.cleaned_data)
    trail.events()                              # AuditEvent queryset, oldest first
    trail.rows(events)                          # TrailRow: local time, who, what, field old -> new, why
    csv_lines(trail), trail_pdf(trail)          # the same events, exported

Events come from every chain: travelers, work orders, routings and their change control, users, and the
configuration history ("config"). Times are shown in the zone of the site asked for (or the traveler's).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mes.compliance.models import AuditEvent
from mes.exports import row as spreadsheet_row
from mes.masterdata.models import Site
from travelers.models import Traveler, WorkOrder
from travelers.selectors.station import profile_by_badge

PAGE = 100
PDF_LIMIT = 2000  # a PDF longer than this is better read as CSV; the PDF says it is cut

# Plain words for the actions whose generic wording reads badly; others are "<object> <verb>".
ACTION_WORDS = {
    "signature.signed": gettext_lazy("Signed"),
    "signature.locked": gettext_lazy("Signing locked after wrong secrets"),
    "signing.unlocked": gettext_lazy("Signing unlocked"),
    "signing.reset_by_admin": gettext_lazy("Password or PIN set by an administrator"),
    "signing.pin_set": gettext_lazy("Signing PIN set"),
    "signing.password_changed": gettext_lazy("Password changed"),
    "login.failed": gettext_lazy("Sign-in failed"),
    "login.locked_out": gettext_lazy("Locked out after failed sign-ins"),
    "traveler.held": gettext_lazy("Traveler put on hold"),
    "traveler.hold_released": gettext_lazy("Hold released"),
    "steps.added": gettext_lazy("Steps added"),
    "routing_change.requested": gettext_lazy("Routing change asked for"),
    "routing_change.signed_engineering": gettext_lazy("Routing change signed by engineering"),
    "routing_change.signed_quality": gettext_lazy("Routing change signed by quality"),
    "routing_change.withdrawn": gettext_lazy("Routing change withdrawn"),
    "audit.reviewed": gettext_lazy("Audit trail reviewed"),
}


def action_words(action: str) -> str:
    if action in ACTION_WORDS:
        return str(ACTION_WORDS[action])
    *subject, verb = action.split(".")
    what = object_words(".".join(subject)) if len(subject) > 1 else " ".join(subject).replace("_", " ")
    text = f"{what} {verb.replace('_', ' ')}".strip()
    return text[:1].upper() + text[1:]


def object_words(object_type: str) -> str:
    """'masterdata.characteristic' -> 'characteristic'; 'auth.user_groups' -> 'user-group relationship'."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type.rsplit(".", 1)[-1].replace("_", " ")


def field_words(name: str) -> str:
    return name.replace("_", " ")


def value_words(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


class TrailFilterForm(forms.Form):
    traveler = forms.CharField(
        label=gettext_lazy("Traveler"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Traveler number, or the serial or lot number"),
    )
    work_order = forms.CharField(label=gettext_lazy("Work order"), max_length=40, required=False)
    user = forms.CharField(
        label=gettext_lazy("Who"), max_length=150, required=False, help_text=gettext_lazy("User id, badge or name")
    )
    action = forms.CharField(label=gettext_lazy("Action"), max_length=60, required=False)
    object_type = forms.CharField(label=gettext_lazy("Object"), max_length=60, required=False)
    object_id = forms.CharField(label=gettext_lazy("Object id"), max_length=64, required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    site = forms.ModelChoiceField(
        label=gettext_lazy("Times in the zone of"),
        queryset=Site.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("the traveler's site, else UTC"),
    )

    def clean_traveler(self):
        """A traveler number, or the serial or lot number on the part (what QA has in hand): the unit's
        latest traveler."""
        number = self.cleaned_data["traveler"].strip()
        if not number or Traveler.objects.filter(number=number).exists():
            return number
        found = Traveler.objects.filter(item__identifier=number).order_by("-pk").values_list("number", flat=True)
        if not found:
            raise forms.ValidationError(
                _("There is no traveler, serial or lot number %(number)s.") % {"number": number}
            )
        return found[0]

    def clean_work_order(self):
        number = self.cleaned_data["work_order"].strip()
        if number and not WorkOrder.objects.filter(number=number).exists():
            raise forms.ValidationError(_("There is no work order %(number)s.") % {"number": number})
        return number

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


@dataclass
class TrailRow:
    event: AuditEvent
    when: dt.datetime
    who: str
    what: str
    on: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Trail:
    filters: dict
    zone: zoneinfo.ZoneInfo
    traveler: Traveler | None = None

    @classmethod
    def from_filters(cls, data: dict) -> Trail:
        traveler = None
        if data.get("traveler"):
            traveler = Traveler.objects.select_related("site").get(number=data["traveler"])
        site = data.get("site") or (traveler.site if traveler else None)
        zone = zoneinfo.ZoneInfo(site.time_zone if site else "UTC")
        return cls(filters=data, zone=zone, traveler=traveler)

    @property
    def zone_name(self) -> str:
        return str(self.zone)

    def scope(self) -> dict:
        """The filters as plain JSON (for links, the review record and its signature)."""
        scope = {}
        for key, value in self.filters.items():
            if value in (None, ""):
                continue
            scope[key] = value.code if isinstance(value, Site) else str(value)
        return scope

    def scope_words(self) -> str:
        parts = []
        f = self.filters
        if f.get("traveler"):
            parts.append(_("traveler %(n)s") % {"n": f["traveler"]})
        if f.get("work_order"):
            parts.append(_("work order %(n)s") % {"n": f["work_order"]})
        if f.get("user"):
            parts.append(_("by %(who)s") % {"who": f["user"]})
        if f.get("action"):
            parts.append(_("action “%(a)s”") % {"a": f["action"]})
        if f.get("object_type"):
            parts.append(" ".join(x for x in (object_words(f["object_type"]), f.get("object_id") or "") if x))
        if f.get("date_from") or f.get("date_to"):
            parts.append(
                _("from %(a)s to %(b)s (%(zone)s)")
                % {"a": f.get("date_from") or "…", "b": f.get("date_to") or "…", "zone": self.zone_name}
            )
        return "; ".join(parts) or _("the whole audit trail")

    def _start(self, day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min), self.zone)

    def events(self) -> QuerySet[AuditEvent]:
        f = self.filters
        qs = AuditEvent.objects.all()
        if self.traveler is not None:
            qs = qs.filter(chain=f"traveler:{self.traveler.pk}")
        if f.get("work_order"):
            order = WorkOrder.objects.get(number=f["work_order"])
            chains = [
                f"workorder:{order.pk}",
                *(f"traveler:{pk}" for pk in order.travelers.values_list("pk", flat=True)),
            ]
            qs = qs.filter(chain__in=chains)
        if f.get("user"):
            qs = qs.filter(_who_filter(f["user"]))
        if f.get("action"):
            qs = qs.filter(action__icontains=f["action"].strip())
        if f.get("object_type"):
            qs = qs.filter(object_type=f["object_type"].strip())
        if f.get("object_id"):
            qs = qs.filter(object_id=f["object_id"].strip())
        if f.get("date_from"):
            qs = qs.filter(occurred_at__gte=self._start(f["date_from"]))
        if f.get("date_to"):
            qs = qs.filter(occurred_at__lt=self._start(f["date_to"] + dt.timedelta(days=1)))
        return qs.select_related("actor__profile").order_by("occurred_at", "id")

    def row(self, event: AuditEvent) -> TrailRow:
        changes = [
            (field_words(name), value_words(pair[0]), value_words(pair[1]))
            for name, pair in sorted((event.changes or {}).items())
            if isinstance(pair, list) and len(pair) == 2
        ]
        return TrailRow(
            event=event,
            when=timezone.localtime(event.occurred_at, self.zone),
            who=event.actor_name or (event.actor.get_username() if event.actor else _("system")),
            what=action_words(event.action),
            on=f"{object_words(event.object_type)} {event.object_id}",
            changes=changes,
        )

    def rows(self, events) -> list[TrailRow]:
        return [self.row(e) for e in events]


def _who_filter(typed: str) -> Q:
    typed = typed.strip()
    user = get_user_model().objects.filter(username=typed).first()
    if user is None:
        profile = profile_by_badge(typed)
        user = profile.user if profile is not None else None
    if user is not None:
        return Q(actor=user)
    return Q(actor_name__icontains=typed)


# --- Exports -------------------------------------------------------------------------------------------------

CSV_HEADER = [
    "time_local", "time_utc", "zone", "who", "user_id", "action", "action_words", "object", "object_id",
    "field", "old", "new", "reason", "chain", "seq", "request_id", "hash",
]  # fmt: skip


def csv_lines(trail: Trail) -> Iterator[str]:
    """The filtered trail as CSV, one line per changed field (an event without changes: one line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)  # every row below is spreadsheet-safe: a typed "=cmd|…" is shown, not run
    yield flush()
    for event in trail.events().iterator(chunk_size=2000):
        row = trail.row(event)
        base = [
            row.when.isoformat(), event.occurred_at.astimezone(dt.UTC).isoformat(), trail.zone_name, row.who,
            event.actor.get_username() if event.actor else "", event.action, row.what, event.object_type,
            event.object_id,
        ]  # fmt: skip
        tail = [event.reason, event.chain, event.seq, event.request_id, event.hash]
        pairs = sorted((event.changes or {}).items()) or [("", ["", ""])]
        for name, pair in pairs:
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else ["", pair]
            writer.writerow(spreadsheet_row([*base, name, _csv(old), _csv(new), *tail]))
        yield flush()


def _csv(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def export_name(trail: Trail, extension: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    scope = trail.filters.get("traveler") or trail.filters.get("work_order") or "trail"
    return f"audit-{scope}-{stamp}.{extension}"


def appendix(traveler: Traveler) -> list[dict]:
    """The traveler's own audit trail in plain words, for the printed traveler's appendix."""
    trail = Trail(
        filters={"traveler": traveler.number}, zone=zoneinfo.ZoneInfo(traveler.site.time_zone), traveler=traveler
    )
    return [
        {"when": r.when, "who": r.who, "what": r.what, "on": r.on, "changes": r.changes, "reason": r.event.reason,
         "seq": r.event.seq}
        for r in trail.rows(trail.events())
    ]  # fmt: skip
