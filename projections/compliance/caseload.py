"""The case lists and team watermarks, read from ``compliance_subject``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from projections.compliance.tables import view


def team_positions(engine: Engine, authority_code: str, team: str) -> dict[str, int]:
    """Each settled subject of a team, with the position its rows were computed through
    (a change shows as a higher position: the subscription's watermark)."""
    subject = view("compliance_subject")
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                subject.c.subject_id, subject.c.through_position, subject.c.authority_through
            ).where(subject.c.authority_code == authority_code, subject.c.team == team)
        ).all()
    return {str(r[0]): max(int(r[1]), int(r[2])) for r in rows}


@dataclass(frozen=True)
class CaseRow:
    """A child (or worker) on a case list, with who holds the case (or manages them)."""

    subject_id: str
    local_id: str
    team: str | None
    allocated_worker: str | None


def case_list(
    engine: Engine,
    authority_code: str,
    *,
    team: str | None = None,
    first: int = 50,
    after: str | None = None,
    kind: str = "child",
) -> list[CaseRow]:
    """Children (or workers) of the authority or one team, by local id, keyset-paginated
    on it. For a worker, ``allocated_worker`` is their line manager."""
    subject = view("compliance_subject")
    holder = subject.c.worker_id if kind == "child" else subject.c.manager_id
    query = (
        select(subject.c.subject_id, subject.c.local_id, subject.c.team, holder)
        .where(subject.c.authority_code == authority_code, subject.c.subject_kind == kind)
        .order_by(subject.c.local_id)
        .limit(first)
    )
    if team is not None:
        query = query.where(subject.c.team == team)
    if after is not None:
        query = query.where(subject.c.local_id > after)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [CaseRow(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]
