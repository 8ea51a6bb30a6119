"""Rows for the warehouse from Traveler's own database: values, finished steps, NCRs and dimensions.

Values and steps are read after a watermark (a value's id; a step's completion time and id), leaving
the last WAREHOUSE_LAG_SECONDS for the next refresh; NCRs change after they are raised (disposition),
so they are read whole each time (a few thousand rows); dimensions likewise.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from mes.masterdata.models import Characteristic, Operation, OperationAlias, PartRevision, Site, WorkCenter
from travelers.models import Measurement, Nonconformance, TravelerStep
from travelers.states import StepStatus

SOURCE = "traveler"


def _f(value) -> float | None:
    return None if value is None else float(value)


def cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.WAREHOUSE_LAG_SECONDS)


VALUE_FIELDS = {
    "source_id": "id",
    "supersedes_id": "supersedes_id",
    "site_code": "step__traveler__site__code",
    "work_center": "step__work_center__code",
    "part_number": "step__traveler__item__part__number",
    "part_revision": "step__traveler__item__part_revision__revision",
    "routing_revision": "step__traveler__routing__revision",
    "operation_code": "step__operation__code",
    "operation_alias": "step__operation_alias",
    "characteristic_code": "characteristic__code",
    "kind": "characteristic__kind",
    "unit": "spec_unit",
    "value": "value_numeric",
    "value_text": "value_text",
    "value_bool": "value_bool",
    "lower_limit": "spec_lower",
    "upper_limit": "spec_upper",
    "nominal": "spec_nominal",
    "judgment": "judgment",
    "recorded_at": "recorded_at",
    "person": "recorded_by__username",
    "traveler_number": "step__traveler__number",
    "serial_or_lot": "step__traveler__item__identifier",
    "step_sequence": "step__sequence",
    "replaced_value": "supersedes__value_numeric",
    "replaced_recorded_at": "supersedes__recorded_at",
}


def values_after(last_id: int, *, limit: int) -> list[dict]:
    """Values recorded after `last_id`, oldest first, as warehouse rows (moving range not yet set)."""
    rows = (
        Measurement.objects.filter(id__gt=last_id, recorded_at__lte=cutoff())
        .order_by("id")
        .values_list(*VALUE_FIELDS.values())[:limit]
    )
    out = []
    for raw in rows:
        row = dict(zip(VALUE_FIELDS, raw, strict=True))
        flag = row.pop("value_bool")
        if row["value_text"] == "" and flag is not None:
            row["value_text"] = "pass" if flag else "fail"
        row.update(
            source=SOURCE,
            value=_f(row["value"]),
            lower_limit=_f(row["lower_limit"]),
            upper_limit=_f(row["upper_limit"]),
            nominal=_f(row["nominal"]),
            replaced_value=_f(row["replaced_value"]),
            routing_revision=str(row["routing_revision"]),
            value_text=row["value_text"] or None,
            unit=row["unit"] or None,
            operation_alias=row["operation_alias"] or None,
            day=row["recorded_at"].date(),
            moving_range=None,
        )
        out.append(row)
    return out


def steps_after(mark: tuple[str, int], *, limit: int) -> list[dict]:
    """Completed steps after the (completed_at ISO, id) keyset `mark`, oldest first."""
    after_at, after_id = mark
    qs = TravelerStep.objects.filter(status=StepStatus.COMPLETED, completed_at__lte=cutoff())
    if after_at:
        at = dt.datetime.fromisoformat(after_at)
        qs = qs.filter(Q(completed_at__gt=at) | Q(completed_at=at, id__gt=after_id))
    qs = qs.annotate(
        n_values=Count("measurements", distinct=True),
        n_out_of_spec=Count(
            "measurements", filter=Q(measurements__judgment=Measurement.Judgment.OUT_OF_SPEC), distinct=True
        ),
        n_ncrs=Count("ncrs", distinct=True),
    ).order_by("completed_at", "id")
    rows = qs.values(
        "id",
        "traveler__number",
        "traveler__site__code",
        "work_center__code",
        "traveler__item__part__number",
        "traveler__item__part_revision__revision",
        "traveler__routing__revision",
        "operation__code",
        "operation_alias",
        "sequence",
        "origin",
        "status",
        "started_at",
        "completed_at",
        "started_by__username",
        "n_values",
        "n_out_of_spec",
        "n_ncrs",
    )[:limit]
    out = []
    for r in rows:
        started, done = r["started_at"], r["completed_at"]
        out.append(
            {
                "source": SOURCE,
                "step_id": r["id"],
                "traveler_number": r["traveler__number"],
                "site_code": r["traveler__site__code"],
                "work_center": r["work_center__code"],
                "part_number": r["traveler__item__part__number"],
                "part_revision": r["traveler__item__part_revision__revision"],
                "routing_revision": str(r["traveler__routing__revision"]),
                "operation_code": r["operation__code"],
                "operation_alias": r["operation_alias"] or None,
                "sequence": r["sequence"],
                "origin": r["origin"],
                "status": r["status"],
                "started_at": started,
                "completed_at": done,
                "cycle_seconds": (done - started).total_seconds() if started and done else None,
                "day": done.date(),
                "person": r["started_by__username"],
                "n_values": r["n_values"],
                "n_out_of_spec": r["n_out_of_spec"],
                "n_ncrs": r["n_ncrs"],
                "first_pass": r["origin"] == TravelerStep.Origin.ROUTING and not r["n_out_of_spec"] and not r["n_ncrs"],
            }
        )
    return out


def ncrs_all() -> list[dict]:
    rows = Nonconformance.objects.order_by("id").values(
        "number",
        "traveler__number",
        "traveler__site__code",
        "step__work_center__code",
        "traveler__item__part__number",
        "step__operation__code",
        "measurement__characteristic__code",
        "status",
        "disposition",
        "automatic",
        "raised_at",
        "dispositioned_at",
    )
    return [
        {
            "number": r["number"],
            "traveler_number": r["traveler__number"],
            "site_code": r["traveler__site__code"],
            "work_center": r["step__work_center__code"],
            "part_number": r["traveler__item__part__number"],
            "operation_code": r["step__operation__code"],
            "characteristic_code": r["measurement__characteristic__code"],
            "status": r["status"],
            "disposition": r["disposition"] or None,
            "automatic": r["automatic"],
            "raised_at": r["raised_at"],
            "day": r["raised_at"].date(),
            "dispositioned_at": r["dispositioned_at"],
        }
        for r in rows
    ]


def dimensions() -> dict[str, list[dict]]:
    """Every dimension table but day, whole (they are small)."""
    chars: dict[str, dict] = {}
    for c in Characteristic.objects.order_by("-id").values("code", "name", "kind", "unit"):
        chars.setdefault(c["code"], c)
    user_model = get_user_model()
    return {
        "site": list(Site.objects.order_by("code").values("code", "name", "time_zone")),
        "work_center": [
            {"site_code": w["site__code"], "code": w["code"], "name": w["name"], "area": w["area"]}
            for w in WorkCenter.objects.order_by("site__code", "code").values("site__code", "code", "name", "area")
        ],
        "part": [
            {"part_number": p["part__number"], "revision": p["revision"], "name": p["part__name"]}
            for p in PartRevision.objects.order_by("part__number", "revision").values(
                "part__number", "revision", "part__name"
            )
        ],
        "operation": list(Operation.objects.order_by("code").values("code", "name")),
        "operation_alias": [
            {
                "source_system": a["source_system"],
                "site_code": a["site__code"],
                "code": a["code"],
                "operation_code": a["operation__code"],
            }
            for a in OperationAlias.objects.order_by("id").values(
                "source_system", "site__code", "code", "operation__code"
            )
        ],
        "characteristic": sorted(chars.values(), key=lambda c: c["code"]),
        "person": [
            {"username": u["username"], "printed_name": u["profile__printed_name"]}
            for u in user_model.objects.order_by("username").values("username", "profile__printed_name")
        ],
    }
