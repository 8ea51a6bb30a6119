"""Domain errors of compliance: a plain message and the field it concerns."""

from __future__ import annotations


class ComplianceError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class SignatureRefused(ComplianceError):
    """Signing refused: wrong secret, locked, not the signed-in user, reset pending…"""


class SigningLocked(SignatureRefused):
    pass


class CredentialRefused(ComplianceError):
    """A new password, PIN or profile value that is not acceptable (a 422: fix the input)."""
