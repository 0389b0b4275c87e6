"""Provenance: what every event carries besides its payload.

``occurred_at`` is valid time (when it happened in the world); ``recorded_at`` is system
time (the library's event timestamp, set when the event is triggered). See ADR 0004.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ValidationError
from domain.vocabulary import (
    Role,
)

MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class Actor:
    """Who is acting, and in which role."""

    id: str
    role: Role
    authority_id: str

    def __post_init__(self) -> None:
        require_text(self.id, field="actor.id", max_length=MAX_ID_LENGTH)


@dataclass(frozen=True)
class Provenance:
    """When it happened, who recorded it in which role, and under which command."""

    occurred_at: datetime
    actor_id: str
    actor_role: str
    command_id: str
    imported: bool = False

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValidationError(
                "occurred_at must carry a time zone (ISO 8601 with offset)",
                field="occurred_at",
            )
        require_text(self.command_id, field="command_id", max_length=MAX_ID_LENGTH)
        require_text(self.actor_id, field="actor.id", max_length=MAX_ID_LENGTH)


def require_text(value: str | None, *, field: str, max_length: int = 20_000) -> str:
    """A non-blank string no longer than ``max_length``."""
    if value is None or not isinstance(value, str) or not value.strip():
        raise ValidationError("must not be blank", field=field)
    if len(value) > max_length:
        raise ValidationError(f"must be at most {max_length} characters", field=field)
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters", field=field)
    return value


def optional_text(value: str | None, *, field: str, max_length: int = 20_000) -> str | None:
    """Either None or valid text."""
    if value is None:
        return None
    return require_text(value, field=field, max_length=max_length)
