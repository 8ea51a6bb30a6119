"""The B2MML XSDs Traveler reads and writes against, shipped inside this package (xsd/, with MESA's
licence and acknowledgment beside them): nothing outside the checkout is read.

One schema per (version, document): V0401, V0500 and V0600 ProductionSchedule / ProductionPerformance,
V0600 and V0700 OperationsSchedule / OperationsPerformance. Each is loaded once per process."""

from __future__ import annotations

import functools
from pathlib import Path

from ..errors import IntegrationError

XSD_DIR = Path(__file__).resolve().parent / "xsd"

FILES: dict[tuple[str, str], str] = {
    ("V0401", "ProductionSchedule"): "V0401/B2MML-V0401-ProductionSchedule.xsd",
    ("V0401", "ProductionPerformance"): "V0401/B2MML-V0401-ProductionPerformance.xsd",
    ("V0500", "ProductionSchedule"): "V0500/B2MML-V05-ProductionSchedule.xsd",
    ("V0500", "ProductionPerformance"): "V0500/B2MML-V05-ProductionPerformance.xsd",
    ("V0600", "ProductionSchedule"): "V0600/B2MML-V0600-ProductionSchedule.xsd",
    ("V0600", "ProductionPerformance"): "V0600/B2MML-V0600-ProductionPerformance.xsd",
    ("V0600", "OperationsSchedule"): "V0600/B2MML-V0600-OperationsSchedule.xsd",
    ("V0600", "OperationsPerformance"): "V0600/B2MML-V0600-OperationsPerformance.xsd",
    ("V0700", "OperationsSchedule"): "V0700/B2MML-OperationsSchedule.xsd",
    ("V0700", "OperationsPerformance"): "V0700/B2MML-OperationsPerformance.xsd",
}


class SchemaMissing(IntegrationError):
    """No shipped schema for that version and document (or the package lost its xsd/ folder)."""


class DocumentInvalid(IntegrationError):
    """A document does not validate against its B2MML XSD (a bug, or unusual data)."""

    def __init__(self, errors: list[str], *, version: str = "V0700", document: str = "OperationsPerformance"):
        self.errors = errors
        self.version = version
        self.document = document
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"the document does not validate against the B2MML {version} {document} XSD: {errors[0]}{more}"
        )


def schema_path(version: str, document: str) -> Path:
    name = FILES.get((version, document))
    if name is None:
        known = ", ".join(f"{v} {d}" for v, d in FILES)
        raise SchemaMissing(f"Traveler ships no B2MML {version} {document} schema (it has {known})")
    path = XSD_DIR / name
    if not path.is_file():
        raise SchemaMissing(f"the shipped schema {name} is missing from {XSD_DIR}: the installation is incomplete")
    return path


@functools.lru_cache(maxsize=len(FILES))
def _load(path: str):
    import xmlschema  # noqa: PLC0415 — ~0.3 s to import: only a validation pays it, not every process start

    return xmlschema.XMLSchema(path)


def schema_for(version: str, document: str):
    """The loaded XMLSchema of one B2MML document type in one version."""
    return _load(str(schema_path(version, document)))


def validate(root, *, version: str, document: str) -> None:
    """DocumentInvalid listing every problem of `root` (an lxml element) against its schema."""
    errors = [f"{e.path}: {e.reason}" for e in schema_for(version, document).iter_errors(root)]
    if errors:
        raise DocumentInvalid(errors, version=version, document=document)
