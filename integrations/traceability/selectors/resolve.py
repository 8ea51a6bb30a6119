"""Turning what was typed into master-data rows: operations by code, name or any site's alias; sites;
work centers; people by username, badge (employee number) or printed name; parts by number. Each
resolver costs a fixed number of queries, however many values it is given."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q

from mes.masterdata.models import Operation, OperationAlias, Part, Site, WorkCenter


@dataclass
class Resolved:
    ids: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # how it was read, for the reader
    lake_codes: list[str] = field(default_factory=list)  # canonical codes / names for the lake facts
    lake_aliases: list[str] = field(default_factory=list)  # every site's alias, for the lake facts
    unknown: list[str] = field(default_factory=list)


def _any_iexact(field_name: str, values: list[str]) -> Q:
    q = Q(pk__in=[])
    for value in values:
        q |= Q(**{f"{field_name}__iexact": value})
    return q


def operations(values: list[str]) -> Resolved:
    """Operations whose code or name is one of `values`, or that any site or system calls so."""
    out = Resolved()
    if not values:
        return out
    alias_ops = OperationAlias.objects.filter(_any_iexact("code", values)).values("operation_id")
    found = list(
        Operation.objects.filter(_any_iexact("code", values) | _any_iexact("name", values) | Q(pk__in=alias_ops))
        .prefetch_related("aliases__site")
        .order_by("code")
    )
    lowered = {v.lower() for v in values}
    for op in found:
        aliases = list(op.aliases.all())
        out.ids.append(op.pk)
        out.lake_codes.append(op.code)
        out.lake_aliases += [a.code for a in aliases]
        where = ", ".join(f"{a.code}@{a.site.code if a.site_id else '*'}" for a in aliases)
        out.labels.append(f"operation {op.code} ({op.name})" + (f", also called {where}" if where else ""))
    known = {op.code.lower() for op in found} | {op.name.lower() for op in found}
    known |= {a.lower() for a in out.lake_aliases}
    out.unknown = [v for v in values if v.lower() not in known]
    out.lake_aliases += [v for v in values if v.lower() in lowered]  # a code only the lake may know
    return out


def sites(values: list[str]) -> Resolved:
    out = Resolved()
    if not values:
        return out
    found = list(Site.objects.filter(_any_iexact("code", values) | _any_iexact("name", values)).order_by("code"))
    for site in found:
        out.ids.append(site.pk)
        out.lake_codes.append(site.code)
        out.labels.append(f"site {site.code} ({site.name})")
    known = {s.code.lower() for s in found} | {s.name.lower() for s in found}
    out.unknown = [v for v in values if v.lower() not in known]
    return out


def work_centers(values: list[str]) -> Resolved:
    """Work centers by code (at any site) or SITE/CODE."""
    out = Resolved()
    if not values:
        return out
    q = _any_iexact("code", values) | _any_iexact("name", values)
    for value in values:
        site, sep, code = value.partition("/")
        if sep:
            q |= Q(site__code__iexact=site, code__iexact=code)
    found = list(WorkCenter.objects.filter(q).select_related("site").order_by("site__code", "code"))
    for wc in found:
        out.ids.append(wc.pk)
        out.labels.append(f"work center {wc.site.code}/{wc.code} ({wc.name})")
    known = {wc.code.lower() for wc in found} | {wc.name.lower() for wc in found}
    known |= {f"{wc.site.code}/{wc.code}".lower() for wc in found}
    out.unknown = [v for v in values if v.lower() not in known]
    return out


def people(values: list[str], *, partial: bool = True) -> Resolved:
    """People by username, badge (employee number) or printed name; with `partial`, a part of a
    printed name (3 characters or more) when nothing matches exactly."""
    out = Resolved()
    if not values:
        return out
    users = get_user_model().objects.select_related("profile")
    exact = (
        _any_iexact("username", values)
        | _any_iexact("profile__employee_number", values)
        | _any_iexact("profile__printed_name", values)
    )
    found = list(users.filter(exact).order_by("username")[:50])
    if not found and partial:
        q = Q(pk__in=[])
        for value in values:
            if len(value) >= 3:
                q |= Q(profile__printed_name__icontains=value) | Q(username__icontains=value)
        found = list(users.filter(q).order_by("username")[:50])
    for user in found:
        profile = getattr(user, "profile", None)
        name = (profile.printed_name if profile else "") or user.get_full_name() or user.username
        badge = f", badge {profile.employee_number}" if profile else ""
        out.ids.append(user.pk)
        out.labels.append(f"{name} ({user.username}{badge})")
        out.lake_codes += [user.username, name]
    out.lake_codes += values  # the lake's recorded_by may name someone no longer a user here
    if not found:
        out.unknown = list(values)
    return out


def parts(values: list[str]) -> list[str]:
    """Part numbers as master data spells them (case-insensitive match), plus what was typed."""
    if not values:
        return []
    canonical = list(Part.objects.filter(_any_iexact("number", values)).values_list("number", flat=True))
    return list(dict.fromkeys(canonical + values))
