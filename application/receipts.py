"""Exactly once: the receipt each command leaves, and the store's log of them (ADR 0002).

A receipt is written in the same transaction as its command's events, under a unique
key, so a retry with the same command id replays the first result, and the same id for
a different command is refused. Persistence is reached only through the ``CommandLog``
protocol, which the infrastructure's recorders implement.

What "the same command" means is the fingerprint's (ADR 0027): the command's input, its
instants compared as instants (in UTC, whatever offset they were given in), and its
valid time only where the caller gave one: an adapter's default of "now" differs on
every retry and is not part of what the caller asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, StoredEvent

from domain import commands as c
from domain.errors import IdempotencyKeyReused


@dataclass(frozen=True)
class CommandReceipt:
    """Written in the same transaction as a command's events; its key is unique."""

    authority_code: str
    command_id: str
    command_name: str
    fingerprint: str
    last_originator_id: UUID | None
    last_originator_version: int | None
    aggregate_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class CommandResult:
    """What a command did. ``position`` is the notification id of its last event, for
    read-your-writes; ``replayed`` is true when the command id had already been run."""

    command_id: str
    position: int | None
    aggregate_ids: tuple[UUID, ...]
    replayed: bool
    #: How many events it wrote (none when replayed).
    events: int = 0


class StaleRead(Exception):
    """The store refused a command's write because an aggregate the command read but did
    not change has been changed since (read-set validation, ADR 0016)."""


def receipt_of(
    command: c.Command, fingerprint: str, aggregates: Sequence[Aggregate]
) -> CommandReceipt:
    """The receipt of a command just decided (its aggregates' events still pending)."""
    pending = [(a.id, e.originator_version) for a in aggregates for e in a.pending_events]
    last = pending[-1] if pending else (None, None)
    return CommandReceipt(
        authority_code=command.actor.authority_id,
        command_id=command.command_id,
        command_name=type(command).__name__,
        fingerprint=fingerprint,
        last_originator_id=last[0],
        last_originator_version=last[1],
        aggregate_ids=tuple(dict.fromkeys(a.id for a in aggregates)),
    )


#: The prefix of the fingerprint's second form (ADR 0027): ``2:<input>:<valid time>``.
#: A receipt without it holds the first form, ``Command.fingerprint()`` (ADR 0002).
FORM = "2:"
#: The valid-time part of a fingerprint whose caller left the valid time to the default.
DEFAULTED = "-"
#: What every valid time is replaced by in the input part: the instant is its own part.
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def fingerprint(command: c.Command, *, occurred_at_given: bool = True) -> str:
    """The command's fingerprint as receipts store it: its input (every aware instant
    made UTC) and, apart, its valid time in UTC, or ``-`` when the caller did not give
    one (``occurred_at_given``)."""
    instants: dict[str, Any] = {
        name: value.astimezone(UTC)
        for name, value in command.values().items()
        if isinstance(value, datetime) and value.tzinfo is not None and name != "occurred_at"
    }
    instants["occurred_at"] = _NO_TIME
    # The hash of the command with these values in place, without making it (making it
    # ran every check of the command again: a fifth of an import's Python).
    body = command.fingerprint(**instants)
    when = command.occurred_at
    if not occurred_at_given:
        valid_time = DEFAULTED
    else:
        utc = when.astimezone(UTC) if when.tzinfo is not None else when
        valid_time = hashlib.sha256(utc.isoformat().encode()).hexdigest()[:32]
    return f"{FORM}{body}:{valid_time}"


def same_command(command: c.Command, fingerprint: str, earlier: str) -> bool:
    """Whether a receipt's fingerprint ``earlier`` is that of ``command``, whose own is
    ``fingerprint``: the same input, and the same valid time where both callers gave
    one. A receipt of the first form (written before ADR 0027) matches its command as
    it was given then, offset and all."""
    if earlier == fingerprint:
        return True
    if not earlier.startswith(FORM):
        return earlier == command.fingerprint()
    earlier_body, _, earlier_time = earlier[len(FORM) :].partition(":")
    body, _, valid_time = fingerprint[len(FORM) :].partition(":")
    return earlier_body == body and DEFAULTED in (earlier_time, valid_time)


def refuse_reuse(command: c.Command, fingerprint: str, earlier: CommandReceipt) -> None:
    """The same id for a different command is refused as such, naming the key [ADR 0002,
    ADR 0027]."""
    if not same_command(command, fingerprint, earlier.fingerprint):
        raise IdempotencyKeyReused(
            f"idempotency key {command.command_id!r} was already used for a different "
            f"{earlier.command_name} command",
            field="command_id",
        )


@runtime_checkable
class CommandLog(Protocol):
    """What the recorder must offer beyond the library's ApplicationRecorder."""

    def select_command_receipt(
        self, authority_code: str, command_id: str
    ) -> CommandReceipt | None: ...

    def notification_id_of(self, originator_id: UUID, originator_version: int) -> int | None: ...

    def select_subject_notifications(self, originator_id: UUID) -> list[Notification]:
        """Every stored event of one aggregate, with its position in the log."""
        ...

    def select_command_receipts(
        self, authority_code: str, command_ids: Sequence[str]
    ) -> dict[str, CommandReceipt]:
        """The receipts of those of ``command_ids`` already executed, by command id."""
        ...

    def insert_batch(
        self,
        stored_events: Sequence[StoredEvent],
        receipts: Sequence[CommandReceipt],
        relationships: dict[UUID, list[Any]] | None = None,
    ) -> int | None:
        """Many commands' events and receipts in one transaction (COPY on PostgreSQL),
        under the same insert lock and uniqueness constraints as one command's, with
        the relationship rows their ``relationships`` events change; returns the log
        position of the last event."""
        ...

    def analyze(self) -> None:
        """Refresh the planner's statistics of the events and receipts tables."""
        ...


__all__ = [
    "CommandLog",
    "CommandReceipt",
    "CommandResult",
    "StaleRead",
    "fingerprint",
    "receipt_of",
    "refuse_reuse",
    "same_command",
]
