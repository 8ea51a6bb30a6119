"""Errors of the integrations: a plain reason, stored with a dead letter or a failed file."""

from __future__ import annotations


class IntegrationError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class MessageRefused(IntegrationError):
    """The message cannot be processed as it is (bad data, unknown code or part): dead-letter it."""


class DeliveryFailed(IntegrationError):
    """A peer did not take the message (broker down, HTTP error): retry later."""
