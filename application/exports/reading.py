"""Who reads an export, and the one way every export opens a record: authorised, then
written to the subject's access log, before anything of it is assembled (issue 24).

A ``Reader`` is the adapter's: the API's is its service (the token's person, the
relationship table, no existence oracle); the CLI's is ``StoreReader``, an operator of
one authority reading through the same domain decision (``domain.authorization.decide``)
on relationships read from the store. The rule for personal supervision content is the
one every read obeys (``PersonalFileIsPrivate``): a reader sees a worker's supervision
only where they may read that worker's personal file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine, select

from application.app import OversightApplication
from application.relationships import Relationship, from_values, subject_relationship
from domain import commands as c
from domain.authorization import (
    CHAIN_LIMIT,
    ChildRelations,
    Operation,
    Principal,
    ReportScope,
    WorkerRelations,
    chain_of,
    child_relations_of,
    decide,
    team_in_store,
    worker_relations_of,
)
from domain.errors import DomainError, Forbidden, NotFound
from domain.provenance import Actor

#: What a withheld personal file is withheld under (``domain.authorization``).
PERSONAL_FILE_IS_PRIVATE = "PersonalFileIsPrivate"


class Reader(Protocol):
    """The person an export is for, as the adapter knows them."""

    @property
    def authority_code(self) -> str: ...

    @property
    def purpose(self) -> str:
        """Why they read, kept on each record's access log [DUR-4.8]."""
        ...

    def open_child(self, child_id: str, *, what: str) -> None:
        """Authorise a read of the child's record and log it; ``NotFound`` (naming
        ``child_id``) for a child not there or not theirs to see."""

    def may_read_child(self, child_id: str) -> bool:
        """Whether they may read the child's record now; nothing is logged (a read across
        children logs only the children it returns)."""

    def open_personal_file(self, staff_id: str, *, what: str) -> bool:
        """Whether they may read the worker's personal file; logged when they may."""

    def open_reports(self, team: str | None) -> None:
        """Authorise a read across the authority (or one team): ``Forbidden`` if not."""


@dataclass
class StoreReader:
    """A reader decided on the store: the CLI's operator of one authority. With an
    ``engine``, relationships are read from the relationship table (written with the
    events that change them, ADR 0020 addendum): one row per subject, where replaying a
    child of 2,000 events to learn its team was half a chronology's time; without one,
    from the aggregates."""

    app: OversightApplication
    principal: Principal
    purpose: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    engine: Engine | None = None
    #: How the read was made, kept on each access log line with ``what``: the CLI names
    #: itself and the operating-system account that ran it, since its reader and role are
    #: the operator's declaration, not a verified token's.
    via: str | None = None

    @property
    def authority_code(self) -> str:
        return self.principal.authority_code

    def _team(self) -> str | None:
        if self.engine is None:
            return team_in_store(self.app, self.principal)
        row = self._row("worker", self.principal.staff_id)
        return row.team if row is not None and not row.purged else None

    def _row(self, kind: str, local_id: str) -> Relationship | None:
        assert self.engine is not None
        table = subject_relationship
        with self.engine.connect() as conn:
            found = conn.execute(
                select(*table.columns).where(
                    table.c.authority_code == self.authority_code,
                    table.c.subject_kind == kind,
                    table.c.local_id == local_id,
                )
            ).one_or_none()
        return None if found is None else from_values(tuple(found))

    def _chain(self, staff_id: str | None) -> tuple[str, ...]:
        """A worker's line-management chain, nearest first (bounded, cycles cut)."""
        managers: dict[str, str | None] = {}
        current = staff_id
        while current and current not in managers and len(managers) < CHAIN_LIMIT + 1:
            row = self._row("worker", current)
            managers[current] = row.line_manager_id if row is not None else None
            current = managers[current]
        return chain_of(staff_id, managers, CHAIN_LIMIT)

    def _child(self, child_id: str) -> ChildRelations:
        if self.engine is None:
            return child_relations_of(self.app, self.authority_code, child_id)
        row = self._row("child", child_id)
        if row is None or row.purged:
            raise NotFound("no such child", field="child_id")
        chain = self._chain(row.allocated_worker_id)
        return ChildRelations(
            self.authority_code, child_id, row.team, row.allocated_worker_id, chain
        )

    def _worker(self, staff_id: str) -> WorkerRelations:
        if self.engine is None:
            return worker_relations_of(self.app, self.authority_code, staff_id)
        row = self._row("worker", staff_id)
        if row is None or row.purged:
            raise NotFound("no such worker", field="staff_id")
        supervisors = [s for s in row.supervisor_ids if s != staff_id]
        people = [*supervisors, *self._chain(staff_id)]
        return WorkerRelations(
            self.authority_code,
            staff_id,
            row.team,
            tuple(p for p in dict.fromkeys(people) if p != staff_id),
        )

    def open_child(self, child_id: str, *, what: str) -> None:
        # Not there and not theirs to see answer alike (issue 23): one message, one field.
        if not self.may_read_child(child_id):
            raise NotFound(
                "no such child in this authority, or you may not see it", field="child_id"
            )
        self._log(what, child_id=child_id)

    def may_read_child(self, child_id: str) -> bool:
        try:
            record = self._child(child_id)
        except NotFound:
            return False
        decision = decide(
            self.principal, Operation.READ, record, self.clock(), principal_team=self._team()
        )
        return bool(decision)

    def open_personal_file(self, staff_id: str, *, what: str) -> bool:
        try:
            record = self._worker(staff_id)
        except DomainError:
            return False
        decision = decide(
            self.principal, Operation.READ, record, self.clock(), principal_team=self._team()
        )
        if not decision:
            return False
        self._log(what, staff_id=staff_id)
        return True

    def open_reports(self, team: str | None) -> None:
        scope = ReportScope(self.authority_code, team=team)
        decision = decide(
            self.principal, Operation.READ, scope, self.clock(), principal_team=self._team()
        )
        if not decision:
            raise Forbidden(decision.reason, rule=decision.rule)

    def _log(self, what: str, *, child_id: str | None = None, staff_id: str | None = None) -> None:
        self.app.execute(
            c.RecordAccess(
                command_id=f"read-{uuid.uuid4().hex}",
                actor=Actor(
                    self.principal.staff_id, self.principal.actor_role, self.authority_code
                ),
                occurred_at=self.clock(),
                what=(f"{what} ({self.via})" if self.via else what)[:500],
                purpose=self.purpose,
                child_id=child_id,
                staff_id=staff_id,
            )
        )
