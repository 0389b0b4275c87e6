"""Who read a child's record or a worker's personal file [DUR-4.8a, DUR-4.8c, POR-6.2c].

Reads are recorded as events on a per-subject ``AccessLog`` aggregate, not on the subject
itself, so that reading never conflicts with writing and never bumps the subject's version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.events import (
    AccessLogOpened,
    RecordAccessed,
)
from domain.events import ContentPurged as PurgedContent  # subclassed under its own name
from domain.provenance import Provenance, require_text
from domain.rules import OccurredAtIsNotInTheFuture, require

ACCESS_KINDS = frozenset({"child_record", "personal_file"})


class AccessLog(Aggregate):
    """Every read of one subject's record, in order."""

    # The catalogue events an AccessLog triggers. The library subclasses each one as an
    # attribute of the aggregate (``AccessLog.RecordAccessed``, the topic it is stored
    # under), so each must be an attribute here first.
    AccessLogOpened = AccessLogOpened
    RecordAccessed = RecordAccessed

    @staticmethod
    def create_id(subject_id: UUID) -> UUID:
        return uuid5(subject_id, "access-log")

    class ContentPurged(PurgedContent):
        """A read whose year of the access log was purged (ADR 0012): which subject and
        authority it concerned, none of who read what or why."""

        subject_id: UUID

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is None:  # the log's opening was purged: it carries on bare
                return AccessLog.at_version(
                    self.originator_version, self.subject_id, self.authority_code, self.timestamp
                )
            return super().mutate(aggregate)

    @staticmethod
    def at_version(
        version: int, subject_id: UUID, authority_code: str, created_on: datetime
    ) -> AccessLog:
        """The subject's log as it stands at ``version``, without its reads: all a new
        read needs (nothing it records depends on the reads before it)."""
        log = object.__new__(AccessLog)
        log.__base_init__(AccessLog.create_id(subject_id), version, created_on)
        log.subject_id = subject_id
        log.authority_code = authority_code
        return log

    @event(AccessLogOpened)
    def __init__(self, *, subject_id: UUID, authority_code: str, provenance: Provenance) -> None:
        self.subject_id = subject_id
        self.authority_code = authority_code

    def record_access(self, provenance: Provenance, *, what: str, purpose: str, kind: str) -> None:
        OccurredAtIsNotInTheFuture.check(provenance.occurred_at)
        require(kind in ACCESS_KINDS, f"kind is one of {sorted(ACCESS_KINDS)}", field="kind")
        require_text(what, field="what", max_length=500)
        require_text(purpose, field="purpose", max_length=500)
        self._record_read(provenance, self.subject_id, kind, what, purpose)

    @event(RecordAccessed)
    def _record_read(
        self, provenance: Provenance, subject_id: UUID, kind: str, what: str, purpose: str
    ) -> None:
        """A read changes nothing a later read decides on: the log keeps no count, so
        appending to it never needs its earlier reads (``application.access``)."""
