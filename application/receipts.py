"""Exactly once: the receipt each command leaves, and the store's log of them (ADR 0002).

A receipt is written in the same transaction as its command's events, under a unique
key, so a retry with the same command id replays the first result, and the same id for
a different command is refused. Persistence is reached only through the ``CommandLog``
protocol, which the infrastructure's recorders implement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


def refuse_reuse(command: c.Command, fingerprint: str, earlier: CommandReceipt) -> None:
    """The same id for a different command is refused as such [ADR 0002]."""
    if earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"command id {command.command_id!r} was already used for a different "
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
    "receipt_of",
    "refuse_reuse",
]
