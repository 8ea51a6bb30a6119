"""Domain errors of master data: each carries a plain message and, where it applies, the field."""

from __future__ import annotations


class MasterDataError(Exception):
    """Base class; `field` names what is wrong (a dotted path in documents)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidUnit(MasterDataError):
    pass


class InvalidLimits(MasterDataError):
    pass


class RoutingNotEditable(MasterDataError):
    pass


class RoutingTransitionRefused(MasterDataError):
    pass


class CodeNotMapped(MasterDataError):
    """A source system's code that no alias maps yet; it has been put in the unmapped-code queue."""

    def __init__(self, message: str, *, source_system: str, site_code: str | None, code: str, field=None):
        super().__init__(message, field=field)
        self.source_system = source_system
        self.site_code = site_code
        self.code = code


class PartNotMapped(CodeNotMapped):
    """A source system's material number that is no part and no alias maps yet; queued."""


class AliasConflict(MasterDataError):
    pass


class NotQualified(MasterDataError):
    pass


class QualificationExpired(NotQualified):
    pass


class DocumentInvalid(MasterDataError):
    """A master-data document refused whole; `errors` lists every (field, message) found."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        first_field, first_message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first_message + more, field=first_field)
