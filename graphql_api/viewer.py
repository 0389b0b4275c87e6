"""What the signed-in caller's own ``viewer`` reads: their row of the relationship table
(their team and line manager), the children allocated to them and the workers they line
manage (issue 22, item 5).

Everything is keyed on the token's authority and staff id, never on an argument, so a
token of one authority reads nothing of another's. Nothing here opens a record: it is the
caller's own place in the authority and a list of who they hold, as the managers' lists
are (``cases``, ``workers``), so nothing is written to an access log. The relationship
table is the write model's (ADR 0020, addendum): a team or manager changed a moment ago
shows at once. Names, posts and case facts are the history read model's attributes (the
one fold, ``Timeline``), as ``state`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from application.relationships import Relationship, from_values, subject_relationship
from graphql_api.relay import SqlSource
from projections import history as history_model


@dataclass(frozen=True)
class Team:
    """A team the caller belongs to, manages (a direct report is in it), or both."""

    name: str
    member: bool
    manages: bool


def own_row(engine: Engine, authority: str, staff_id: str) -> Relationship | None:
    """The caller's row as a worker (None: not a registered worker here, or purged)."""
    table = subject_relationship
    query = select(*table.columns).where(
        table.c.authority_code == authority,
        table.c.subject_kind == "worker",
        table.c.local_id == staff_id,
    )
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    found = None if row is None else from_values(tuple(row))
    return None if found is None or found.purged else found


def _held(engine: Engine, authority: str, kind: str, holder: Any, staff_id: str) -> SqlSource:
    table = subject_relationship
    query = select(*table.columns).where(
        table.c.authority_code == authority,
        table.c.subject_kind == kind,
        holder == staff_id,
        table.c.purged.is_(False),
    )
    return SqlSource(engine, query, [table.c.local_id], lambda r: (str(r.local_id),))


def caseload(engine: Engine, authority: str, staff_id: str) -> SqlSource:
    """The children allocated to the caller, by child id (their rows of the table)."""
    column = subject_relationship.c.allocated_worker_id
    return _held(engine, authority, "child", column, staff_id)


def supervisees(engine: Engine, authority: str, staff_id: str) -> SqlSource:
    """The workers the caller line manages, by staff id (their rows of the table)."""
    column = subject_relationship.c.line_manager_id
    return _held(engine, authority, "worker", column, staff_id)


def holds(source: SqlSource, local_id: str) -> Relationship | None:
    """The row of ``local_id`` if it is on the caller's list (a caseload or supervisees)."""
    found = source.fetch((local_id,), (local_id,), 1, inclusive=True)
    return from_values(tuple(found[0][1])) if found else None


def teams(engine: Engine, authority: str, staff_id: str, own: Relationship | None) -> list[Team]:
    """The caller's own team, then the teams of the workers they line manage."""
    table = subject_relationship
    query = (
        select(table.c.team)
        .where(
            table.c.authority_code == authority,
            table.c.subject_kind == "worker",
            table.c.line_manager_id == staff_id,
            table.c.purged.is_(False),
            table.c.team.is_not(None),
        )
        .distinct()
    )
    with engine.connect() as conn:
        managed = sorted({str(r[0]) for r in conn.execute(query).all() if r[0]})
    mine = own.team if own is not None and own.team else None
    found = [Team(mine, member=True, manages=mine in managed)] if mine else []
    return found + [Team(t, member=False, manages=True) for t in managed if t != mine]


def attributes(engine: Engine, subject_id: str) -> dict[str, Any]:
    """A subject's attributes now (the history read model's fold)."""
    return dict(history_model.state(engine, subject_id).attributes)
