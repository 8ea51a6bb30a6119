"""What the quality review puts first in a record: the values out of spec, the corrections, and why
the final sign-off cannot be signed yet."""

from __future__ import annotations

from django.utils.translation import gettext as _

from travelers.models import Measurement
from travelers.states import TravelerStatus


def out_of_spec_values(record: dict) -> list[dict]:
    """Every value judged out of spec, current or since corrected, in step order."""
    return [
        m for step in record["steps"] for m in step["measurements"] if m["judgment"] == Measurement.Judgment.OUT_OF_SPEC
    ]


def corrections(record: dict) -> list[dict]:
    """Each correction as {"original", "correction", "step"}: what was entered first, what replaced it."""
    pairs = []
    for step in record["steps"]:
        by_id = {m["id"]: m for m in step["measurements"]}
        for m in step["measurements"]:
            if m["supersedes"]:
                pairs.append({"step": step, "original": by_id.get(m["supersedes"]), "correction": m})
    return pairs


def signoff_blockers(record: dict) -> list[str]:
    """Why the final sign-off cannot be signed now (empty when it can). The service decides; this only
    spares the inspector a refused signature."""
    status = record["traveler"]["status"]
    blockers = []
    if status != TravelerStatus.AWAITING_SIGNOFF:
        blockers.append(
            _("The traveler is %(status)s, not awaiting final sign-off.")
            % {"status": record["traveler"]["status_display"].lower()}
        )
    if record["summary"]["open_ncrs"]:
        blockers.append(_("Every nonconformance must be dispositioned first."))
    if record["traveler"]["on_hold"]:
        blockers.append(_("The traveler is on hold."))
    return blockers


def is_closed(record: dict) -> bool:
    return record["traveler"]["status"] in (TravelerStatus.CLOSED, TravelerStatus.SCRAPPED)
