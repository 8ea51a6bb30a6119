"""A routing document imported whole: structure (schema.routing_document_parse), then meaning (units,
limits, operations, sites, work centers, duplicates, aliases, what already exists), every problem collected
and raised together as DocumentInvalid; only a sound document is written, in one transaction, through the
master-data services. A document released in its source asks for a release change (change control)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from ..change_control import routing_change_request
from ..errors import DocumentInvalid, MasterDataError
from ..models import (
    Operation,
    OperationAlias,
    Part,
    PartRevision,
    Routing,
    Site,
    WorkCenter,
)
from ..services.codes import operation_alias_create
from ..services.drafts import characteristic_add, routing_create_draft, routing_step_add
from ..states import RoutingStatus
from ..validation import characteristic_problems
from .export import routing_document_export, sorted_document
from .schema import AliasDoc, RoutingDocument, WorkCenterRef, routing_document_parse

IMPORTABLE_STATUSES = (RoutingStatus.DRAFT.value, RoutingStatus.RELEASED.value)


@dataclass(frozen=True)
class RoutingImport:
    """What an import did: the routing, whether it was created (False: already there, identical), and
    which aliases it added."""

    routing: Routing
    created: bool
    aliases_created: list[OperationAlias]
    change: object = None  # the release change asked for a document released in its source


def routing_document_import(*, document: dict, actor=None) -> Routing:
    """Create the routing a document describes (and its part, part revision and aliases where missing), as a
    draft; when the document says released, a release change is asked for in `actor`'s name (it then waits
    for its two signatures: mes.masterdata.change_control). Refuses the document whole with DocumentInvalid,
    listing every problem by dotted field path; nothing is saved then. Importing a document whose
    routing already exists and is identical returns that routing unchanged."""
    return routing_document_apply(document=document, actor=actor).routing


def routing_document_apply(*, document: dict, actor=None) -> RoutingImport:
    """routing_document_import, telling also whether the routing was created and which aliases were."""
    parsed = routing_document_parse(document=document)
    plan = _Plan(parsed)
    try:
        with transaction.atomic():
            plan.load()
            plan.check()
            if plan.errors:
                raise DocumentInvalid(plan.errors)
            return plan.write(actor=actor)
    except DocumentInvalid:
        raise
    except MasterDataError as exc:  # a service refused what the checks let through (e.g. a race)
        raise DocumentInvalid([(plan.path_of(exc.field), exc.message)]) from exc
    except IntegrityError as exc:  # another writer got there first
        raise DocumentInvalid(
            [("document", f"the database refused it, probably a concurrent change; nothing was saved ({exc})")]
        ) from exc


def _canonical(parsed: RoutingDocument) -> dict:
    return sorted_document(parsed.model_dump(mode="json", by_alias=True))


def _first_difference(left: Any, right: Any, path: str = "") -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [k for k in right if k not in left]:
            found = _first_difference(left.get(key), right.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else None
            b = right[index] if index < len(right) else None
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else path


class _Plan:
    """The semantic checks of a structurally valid document, then its writing."""

    def __init__(self, doc: RoutingDocument):
        self.doc = doc
        self.errors: list[tuple[str, str]] = []
        self._writing_at = "document"
        self.missing_aliases: list[tuple[Operation, AliasDoc, str]] = []

    def load(self) -> None:
        """Fetch what the document refers to (inside the import's transaction)."""
        doc = self.doc
        codes = {step.operation for step in doc.steps} | {op.code for op in doc.operations}
        self.operations = {op.code: op for op in Operation.objects.filter(code__in=codes)}
        site_codes = {s.work_center.site for s in doc.steps if s.work_center} | {
            a.site for op in doc.operations for a in op.aliases if a.site
        }
        self.sites = {site.code: site for site in Site.objects.filter(code__in=site_codes)}
        self.work_centers = {
            (wc.site.code, wc.code): wc
            for wc in WorkCenter.objects.select_related("site").filter(site__code__in=site_codes)
        }
        self.part = Part.objects.filter(number=doc.part.number).first()
        self.part_revision = (
            PartRevision.objects.filter(part=self.part, revision=doc.part_revision.revision).first()
            if self.part
            else None
        )
        self.existing = (
            Routing.objects.filter(part_revision=self.part_revision, revision=doc.routing.revision).first()
            if self.part_revision
            else None
        )

    def problem(self, field: str, message: str) -> None:
        self.errors.append((field, message))

    def path_of(self, field: str | None) -> str:
        return f"{self._writing_at}.{field}" if field else self._writing_at

    # -- checks

    def check(self) -> None:
        self._check_part()
        self._check_steps()
        self._check_operations()
        self._check_routing()

    def _check_part(self) -> None:
        doc = self.doc
        if self.part is None:
            return
        if self.part.name != doc.part.name:
            self.problem(
                "part.name", f"part {self.part.number} is named '{self.part.name}' here, not '{doc.part.name}'"
            )
        if self.part.tracking != doc.part.tracking:
            self.problem(
                "part.tracking",
                f"part {self.part.number} is tracked by {self.part.tracking} here, not by {doc.part.tracking}",
            )

    def _check_steps(self) -> None:
        seen_sequences: dict[int, int] = {}
        for i, step in enumerate(self.doc.steps):
            at = f"steps[{i}]"
            if step.sequence in seen_sequences:
                self.problem(
                    f"{at}.sequence",
                    f"step {step.sequence} is listed twice (also steps[{seen_sequences[step.sequence]}])",
                )
            else:
                seen_sequences[step.sequence] = i
            if step.operation not in self.operations:
                self.problem(
                    f"{at}.operation", f"unknown operation '{step.operation}'; create it before importing this routing"
                )
            if step.work_center:
                self._check_work_center(f"{at}.work_center", step.work_center)
            seen_codes: dict[str, int] = {}
            for j, char in enumerate(step.characteristics):
                char_at = f"{at}.characteristics[{j}]"
                if char.code in seen_codes:
                    self.problem(
                        f"{char_at}.code",
                        f"characteristic {char.code} is listed twice in step {step.sequence} "
                        f"(also {at}.characteristics[{seen_codes[char.code]}])",
                    )
                else:
                    seen_codes[char.code] = j
                for field, message in characteristic_problems(
                    kind=char.kind,
                    unit=char.unit,
                    nominal=_decimal(char.nominal),
                    lower_limit=_decimal(char.lower_limit),
                    upper_limit=_decimal(char.upper_limit),
                    choices=char.choices,
                ):
                    self.problem(f"{char_at}.{field}", message)

    def _check_work_center(self, at: str, ref: WorkCenterRef) -> None:
        if ref.site not in self.sites:
            self.problem(f"{at}.site", f"unknown site '{ref.site}'")
            return
        work_center = self.work_centers.get((ref.site, ref.code))
        if work_center is None:
            self.problem(f"{at}.code", f"site {ref.site} has no work center '{ref.code}'")
        elif not work_center.active and self.existing is None:
            self.problem(at, f"work center {work_center} is inactive")

    def _check_operations(self) -> None:
        seen_ops: dict[str, int] = {}
        seen_aliases: dict[tuple, str] = {}
        for i, op_doc in enumerate(self.doc.operations):
            at = f"operations[{i}]"
            operation = self.operations.get(op_doc.code)
            if op_doc.code in seen_ops:
                self.problem(
                    f"{at}.code", f"operation {op_doc.code} is listed twice (also operations[{seen_ops[op_doc.code]}])"
                )
            else:
                seen_ops[op_doc.code] = i
            if operation is None:
                self.problem(
                    f"{at}.code", f"unknown operation '{op_doc.code}'; create it before importing this routing"
                )
            elif operation.name != op_doc.name:
                self.problem(
                    f"{at}.name", f"operation {operation.code} is named '{operation.name}' here, not '{op_doc.name}'"
                )
            for j, alias in enumerate(op_doc.aliases):
                alias_at = f"{at}.aliases[{j}]"
                code = alias.code
                key = (alias.source_system, alias.site, code)
                where = f"{alias.source_system}@{alias.site or '*'}"
                if key in seen_aliases:
                    self.problem(f"{alias_at}.code", f"alias {where}:{code} is listed twice (also {seen_aliases[key]})")
                    continue
                seen_aliases[key] = alias_at
                site = None
                if alias.site is not None:
                    site = self.sites.get(alias.site)
                    if site is None:
                        self.problem(f"{alias_at}.site", f"unknown site '{alias.site}'")
                        continue
                existing = (
                    OperationAlias.objects.select_related("operation")
                    .filter(source_system=alias.source_system, site=site, code=code)
                    .first()
                )
                if existing is not None:
                    if existing.operation.code != op_doc.code:
                        self.problem(
                            f"{alias_at}.code", f"alias {where}:{code} already means {existing.operation.code}"
                        )
                elif operation is not None:
                    self.missing_aliases.append((operation, alias, alias_at))

    def _check_routing(self) -> None:
        doc = self.doc
        if doc.routing.status not in IMPORTABLE_STATUSES:
            self.problem(
                "routing.status", f"only a draft or released routing can be imported, not a {doc.routing.status} one"
            )
        if doc.routing.status == RoutingStatus.RELEASED and not doc.steps:
            self.problem("steps", "a released routing needs at least one step")
        if self.part_revision is None:
            return
        label = f"{self.part.number} rev {self.part_revision.revision}"
        if self.existing is not None:
            ours = _canonical(doc)
            theirs = routing_document_export(routing=self.existing)
            difference = _first_difference(  # the status is the importer's business (change control)
                {"routing": _without_status(ours["routing"]), "steps": ours["steps"]},
                {"routing": _without_status(theirs["routing"]), "steps": theirs["steps"]},
            )
            if difference:
                self.problem(
                    "routing.revision",
                    f"routing r{self.existing.revision} of {label} already exists and differs from this document "
                    f"(first at {difference}); give the document a new revision",
                )
            return
        others = list(Routing.objects.filter(part_revision=self.part_revision).order_by("-revision"))
        draft = next((r for r in others if r.status == RoutingStatus.DRAFT), None)
        if draft is not None:
            self.problem(
                "routing.revision", f"{label} already has a draft routing r{draft.revision}; release or delete it first"
            )
        elif others and others[0].revision > doc.routing.revision:
            self.problem(
                "routing.revision",
                f"{label} already has routing r{others[0].revision}; an imported routing needs a higher revision",
            )

    # -- writing (only once every check passed)

    def write(self, *, actor) -> RoutingImport:
        doc = self.doc
        part = self.part
        if part is None:
            part = Part.objects.create(
                number=doc.part.number,
                name=doc.part.name,
                tracking=doc.part.tracking,
                customer=doc.part.customer,
                description=doc.part.description,
            )
        part_revision = self.part_revision
        if part_revision is None:
            part_revision = PartRevision.objects.create(
                part=part,
                revision=doc.part_revision.revision,
                description=doc.part_revision.description,
                drawing_number=doc.part_revision.drawing_number,
            )
        aliases_created = []
        for operation, alias, alias_at in self.missing_aliases:
            self._writing_at = alias_at
            aliases_created.append(
                operation_alias_create(
                    operation=operation,
                    source_system=alias.source_system,
                    site=self.sites.get(alias.site) if alias.site else None,
                    code=alias.code,
                    actor=actor,
                )
            )
        if self.existing is not None:
            return RoutingImport(routing=self.existing, created=False, aliases_created=aliases_created)

        self._writing_at = "routing"
        routing = routing_create_draft(part_revision=part_revision, description=doc.routing.description, actor=actor)
        if routing.revision != doc.routing.revision:
            routing.revision = doc.routing.revision
            routing.save(update_fields=["revision"])
        for i, step_doc in enumerate(doc.steps):
            self._writing_at = f"steps[{i}]"
            ref = step_doc.work_center
            step = routing_step_add(
                routing=routing,
                sequence=step_doc.sequence,
                operation=self.operations[step_doc.operation],
                title=step_doc.title,
                work_center=self.work_centers[(ref.site, ref.code)] if ref else None,
                instructions=step_doc.instructions,
                signoff=step_doc.signoff,
                may_run_out_of_order=step_doc.may_run_out_of_order,
            )
            for j, char in enumerate(step_doc.characteristics):
                self._writing_at = f"steps[{i}].characteristics[{j}]"
                characteristic_add(
                    step=step,
                    sequence=char.sequence,
                    code=char.code,
                    name=char.name,
                    kind=char.kind,
                    unit=char.unit or "",
                    nominal=_decimal(char.nominal),
                    lower_limit=_decimal(char.lower_limit),
                    upper_limit=_decimal(char.upper_limit),
                    decimals=char.decimals,
                    choices=list(char.choices),
                    required=char.required,
                    on_out_of_spec=char.on_out_of_spec,
                )
        change = None
        if doc.routing.status == RoutingStatus.RELEASED and actor is not None:
            self._writing_at = "routing"  # released where it comes from: here it waits for two signatures
            change = routing_change_request(
                routing=routing,
                action="release",
                reason=f"imported: released in its source ({doc.part.number} rev {doc.part_revision.revision})",
                actor=actor,
            )
        return RoutingImport(routing=routing, created=True, aliases_created=aliases_created, change=change)


def _without_status(routing: dict) -> dict:
    return {k: v for k, v in routing.items() if k != "status"}


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
