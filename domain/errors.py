"""Typed domain errors. Each names the field it concerns and the rule it enforces.

The API maps these once, in one place, to typed results; the CLI prints them. None of
them means a partial write: every command validates before any event is triggered.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a command was refused and nothing was written."""

    code: str = "DOMAIN_ERROR"
    retryable: bool = False

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        parts = [self.message]
        if self.field:
            parts.append(f"field: {self.field}")
        if self.rule:
            parts.append(f"rule: {self.rule}")
        return "; ".join(parts)


class ValidationError(DomainError):
    """A value is missing, malformed or out of range."""

    code = "VALIDATION"


class RuleViolation(DomainError):
    """A named invariant or a policy rule forbids the command."""

    code = "RULE_VIOLATION"


class NotFound(DomainError):
    """The subject does not exist in the caller's authority."""

    code = "NOT_FOUND"


class AlreadyExists(DomainError):
    """A subject with that identifier is already registered."""

    code = "ALREADY_EXISTS"


class ConcurrencyConflict(DomainError):
    """Another command changed the subject first; reload and retry."""

    code = "CONFLICT"
    retryable = True


class IdempotencyKeyReused(DomainError):
    """The command id was already used for a different command."""

    code = "IDEMPOTENCY_KEY_REUSED"


class Forbidden(DomainError):
    """The actor may not do this."""

    code = "FORBIDDEN"
