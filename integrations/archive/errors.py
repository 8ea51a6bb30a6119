"""Errors of the archive: a plain message (shown in the backlog, the admin and the commands)."""

from __future__ import annotations

from integrations.errors import IntegrationError


class ArchiveError(IntegrationError):
    """Something stopped a traveler from being archived; it stays in the backlog and is tried again."""


class NotArchivable(ArchiveError):
    """The traveler is still open: only closed or scrapped travelers are archived."""


class PackageProblem(ArchiveError):
    """The package cannot be built faithfully (an attachment is missing or does not match its SHA-256)."""


class IntegrityRefused(ArchiveError):
    """The traveler's record does not verify (signatures, audit chain, reconciliation): it is not sealed
    into the archive until quality has investigated (docs/operations.md, "When the verifier alerts")."""


class StoreUnavailable(ArchiveError):
    """The data lake did not take or give back a package (network, permissions, full disk)."""


class DisposalRefused(ArchiveError):
    """Disposal is not allowed (not yet past retain-until, life of product, no permission, no reason)."""
