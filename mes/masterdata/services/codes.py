"""Codes from legacy systems: what an operation code or a material number another system sends stands
for. A code no alias maps is queued (the unmapped-code queue) and refused; mapping it makes an alias."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from ..errors import (
    AliasConflict,
    CodeNotMapped,
    PartNotMapped,
)
from ..models import (
    Operation,
    OperationAlias,
    Part,
    PartAlias,
    Site,
    UnmappedCode,
)

# --- Operation codes ---------------------------------------------------------------------------------


def operation_resolve(*, source_system: str, site: Site | None, code: str, context: dict | None = None) -> Operation:
    """The canonical operation a system's code stands for. Never guesses: a code no alias maps is put
    in the unmapped-code queue (with where it came from) and CodeNotMapped is raised.

    A site-specific alias wins over a system-wide one (site empty). Call this before opening the
    transaction that writes what the code belongs to, so the queue entry survives that rollback."""
    code = (code or "").strip()
    where_site = Q(site__isnull=True) | Q(site=site) if site else Q(site__isnull=True)
    aliases = {
        alias.site_id: alias
        for alias in OperationAlias.objects.filter(where_site, source_system=source_system, code=code).select_related(
            "operation"
        )
    }
    alias = aliases.get(site.pk if site else None) or aliases.get(None)
    if alias:
        return alias.operation
    unmapped_code_record(kind="operation", source_system=source_system, site=site, code=code, context=context)
    where = f"site {site.code}" if site else "any site"
    raise CodeNotMapped(
        gettext(
            "operation code '%(code)s' from %(source_system)s (%(where)s) is not mapped to an operation; it is "
            "waiting in the unmapped-code queue"
        )
        % {"code": code, "source_system": source_system, "where": where},
        source_system=source_system,
        site_code=site.code if site else None,
        code=code,
        field="operation",
    )


def unmapped_code_record(
    *, kind: str, source_system: str, site: Site | None, code: str, context: dict | None
) -> UnmappedCode:
    """Queue an unknown code, or count one more sighting of a queued one."""
    with transaction.atomic():
        entry, created = UnmappedCode.objects.select_for_update().get_or_create(
            kind=kind,
            source_system=source_system,
            site=site,
            code=code,
            resolved_at__isnull=True,
            defaults={"context": context or {}},
        )
        if not created:
            UnmappedCode.objects.filter(pk=entry.pk).update(
                occurrences=F("occurrences") + 1, context=context or entry.context, last_seen=timezone.now()
            )
            entry.refresh_from_db()
    return entry


@transaction.atomic
def operation_alias_create(
    *, operation: Operation, source_system: str, site: Site | None, code: str, actor=None
) -> OperationAlias:
    """Map a system's code to an operation; resolves the matching unmapped-code queue entries."""
    code = code.strip()
    existing = OperationAlias.objects.filter(source_system=source_system, site=site, code=code).first()
    if existing and existing.operation_id != operation.pk:
        raise AliasConflict(
            gettext("'%(code)s' from %(source_system)s already means %(code2)s")
            % {"code": code, "source_system": source_system, "code2": existing.operation.code},
            field="code",
        )
    alias = existing
    if alias is None:
        try:
            with transaction.atomic():
                alias = OperationAlias.objects.create(
                    operation=operation, source_system=source_system, site=site, code=code
                )
        except IntegrityError as exc:  # a concurrent mapping of the same code
            raise AliasConflict(
                gettext("'%(code)s' from %(source_system)s was mapped meanwhile")
                % {"code": code, "source_system": source_system},
                field="code",
            ) from exc
    pending = UnmappedCode.objects.filter(
        kind="operation", source_system=source_system, code=code, resolved_at__isnull=True
    )
    pending = pending.filter(site=site) if site else pending
    pending.update(resolved_alias=alias, resolved_at=timezone.now())
    return alias


def unmapped_code_map(
    *,
    entry: UnmappedCode,
    operation: Operation | None = None,
    part: Part | None = None,
    site_specific: bool = True,
    actor=None,
):
    """Map a queued code from the admin: creates the alias (site-specific unless told otherwise) — an
    operation alias for an operation code, a part alias for a part code."""
    site = entry.site if site_specific else None
    if entry.kind == UnmappedCode.Kind.PART:
        if part is None:
            raise AliasConflict(
                gettext("'%(code)s' is a part number: map it to a part") % {"code": entry.code}, field="part"
            )
        return part_alias_create(part=part, source_system=entry.source_system, site=site, code=entry.code, actor=actor)
    if operation is None:
        raise AliasConflict(
            gettext("'%(code)s' is an operation code: map it to an operation") % {"code": entry.code}, field="operation"
        )
    return operation_alias_create(
        operation=operation, source_system=entry.source_system, site=site, code=entry.code, actor=actor
    )


# --- Parts from legacy systems ----------------------------------------------------------------------


def part_resolve(*, source_system: str, site: Site | None, code: str, context: dict | None = None) -> Part:
    """The part a system's material number stands for: its part alias (a site's own wins over a
    system-wide one), else the part of that very number. Never guesses: an unknown number is put in the
    unmapped-code queue (kind "part") and PartNotMapped is raised. Call it outside the transaction that
    writes the order, so the queue entry survives that rollback."""
    code = (code or "").strip()
    where_site = Q(site__isnull=True) | Q(site=site) if site else Q(site__isnull=True)
    aliases = {
        alias.site_id: alias
        for alias in PartAlias.objects.filter(where_site, source_system=source_system, code=code).select_related("part")
    }
    alias = aliases.get(site.pk if site else None) or aliases.get(None)
    if alias:
        return alias.part
    part = Part.objects.filter(number=code).first()
    if part is not None:
        return part
    unmapped_code_record(
        kind=UnmappedCode.Kind.PART, source_system=source_system, site=site, code=code, context=context
    )
    where = f"site {site.code}" if site else "any site"
    raise PartNotMapped(
        gettext(
            "part '%(code)s' from %(source_system)s (%(where)s) is not a known part nor mapped to one; it is waiting "
            "in the unmapped-code queue"
        )
        % {"code": code, "source_system": source_system, "where": where},
        source_system=source_system,
        site_code=site.code if site else None,
        code=code,
        field="part",
    )


@transaction.atomic
def part_alias_create(*, part: Part, source_system: str, site: Site | None, code: str, actor=None) -> PartAlias:
    """Map a system's material number to a part; resolves the matching unmapped-code queue entries."""
    code = code.strip()
    existing = PartAlias.objects.filter(source_system=source_system, site=site, code=code).first()
    if existing and existing.part_id != part.pk:
        raise AliasConflict(
            gettext("'%(code)s' from %(source_system)s already means part %(number)s")
            % {"code": code, "source_system": source_system, "number": existing.part.number},
            field="code",
        )
    alias = existing
    if alias is None:
        try:
            with transaction.atomic():
                alias = PartAlias.objects.create(part=part, source_system=source_system, site=site, code=code)
        except IntegrityError as exc:
            raise AliasConflict(
                gettext("'%(code)s' from %(source_system)s was mapped meanwhile")
                % {"code": code, "source_system": source_system},
                field="code",
            ) from exc
    pending = UnmappedCode.objects.filter(
        kind=UnmappedCode.Kind.PART, source_system=source_system, code=code, resolved_at__isnull=True
    )
    pending = pending.filter(site=site) if site else pending
    pending.update(resolved_part_alias=alias, resolved_at=timezone.now())
    return alias
