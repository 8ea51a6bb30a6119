"""What one run of the demo seed did, per kind of row (SeedReport, printed by `manage.py seed_demo`),
and `upsert`, the idempotent write behind every master-data row of the demo: found by natural key,
created once, afterwards brought back to the demo's values without touching what a user may change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db import models

CREATED, UPDATED, PRESENT, SKIPPED = "created", "updated", "already present", "skipped"


class SeedReport:
    """What one run did, per kind of row: created, updated, already present or skipped (with why)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = {}
        self.notes: list[str] = []

    def add(self, label: str, outcome: str) -> None:
        self.counts.setdefault(label, Counter())[outcome] += 1

    def total(self, outcome: str) -> int:
        return sum(counter[outcome] for counter in self.counts.values())

    def render(self) -> str:
        lines = ["Demo factory (seed_demo):"]
        for label, counter in self.counts.items():
            parts = [f"{counter[o]} {o}" for o in (CREATED, UPDATED, PRESENT, SKIPPED) if counter[o]]
            lines.append(f"  {label:<18} {', '.join(parts)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        created, updated = self.total(CREATED), self.total(UPDATED)
        if created or updated:
            lines.append(f"Demo factory loaded: {created} created, {updated} updated.")
        else:
            lines.append("Demo factory already loaded: nothing changed.")
        return "\n".join(lines)


def upsert(
    report: SeedReport,
    label: str,
    model: type[models.Model],
    *,
    lookup: dict,
    values: dict | None = None,
    initial: dict | None = None,
    before_create: Callable[[models.Model], None] | None = None,
):
    """The row with `lookup`: created with `values` and `initial`; when present, only the `values` that
    differ are written (so a second run writes nothing); `initial` is never touched again."""
    values = values or {}
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(initial or {}))
        if before_create:
            before_create(obj)
        obj.full_clean()
        obj.save()
        report.add(label, CREATED)
        return obj
    changed = []
    for name, wanted in values.items():
        current = getattr(obj, model._meta.get_field(name).attname)
        if current != (wanted.pk if isinstance(wanted, models.Model) else wanted):
            setattr(obj, name, wanted)
            changed.append(name)
    if changed:
        obj.full_clean()
        obj.save(update_fields=changed)
    report.add(label, UPDATED if changed else PRESENT)
    return obj
