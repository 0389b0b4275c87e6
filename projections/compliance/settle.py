"""Settling: recompute each dirty subject from its facts and replace its rows (ADR 0010).

A subject's rows are replaced, and its marks cleared, in one transaction. An authority's
mark (a new pack, a closure day) is handed on to each of its subjects instead, and a
subject settled under a pack that has changed since is marked again (``mark_stale``). A
worker settled marks their authority's teams, settled once no subject is left to settle
(``teams``, ADR 0024).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Table, delete, func, insert, select

from domain.identifiers import authority_id
from domain.policy.compliance import known_facts
from domain.policy.packs import PackLibrary
from domain.policy.registers import profile
from projections.compliance.context import (
    AuthorityContext,
    authority_context,
    digest_of,
    is_authority,
)
from projections.compliance.derive import derive
from projections.compliance.facts import facts_of, related_of, supervisors_facts
from projections.compliance.retention import purged_subject_rows
from projections.compliance.tables import chunks
from projections.compliance.teams import mark_teams, settle_teams
from projections.engine import Insert, execute_operations

log = logging.getLogger(__name__)

#: The derived tables, each with the column that names the subject its rows are of.
DERIVED_TABLES = {
    "retention_schedule": "subject_id",
    "compliance_subject": "subject_id",
    "compliance_link": "subject_id",
    "compliance_obligation": "subject_id",
    "oversight_register": "subject_id",
    "case_allocation": "child_id",
    "quality_audit": "subject_id",
    "quality_file": "subject_id",
}


def mark_stale(conn: Connection, tables: Mapping[str, Table], library: PackLibrary) -> int:
    """Mark every subject whose stored rows were made under a pack that has changed
    since (its digest differs from the loaded pack's), or is no longer loaded.
    Returns how many were marked."""
    subject, dirty = tables["compliance_subject"], tables["compliance_dirty"]
    marked = set(conn.execute(select(dirty.c.subject_id).where(dirty.c.position == 0)).scalars())
    stale = [
        str(row.subject_id)
        for row in conn.execute(
            select(subject.c.subject_id, subject.c.pack_id, subject.c.pack_digest)
        )
        if row.pack_id is not None
        and digest_of(library, row.pack_id) != row.pack_digest
        and str(row.subject_id) not in marked
    ]
    if stale:
        log.info("compliance: %d subjects were settled under a changed pack", len(stale))
        conn.execute(insert(dirty), [{"position": 0, "subject_id": s} for s in stale])
    return len(stale)


def settle(conn: Connection, tables: Mapping[str, Table], library: PackLibrary, limit: int) -> int:
    """Recompute up to ``limit`` dirty subjects (oldest mark first); return how many."""
    dirty = tables["compliance_dirty"]
    marked = conn.execute(
        select(dirty.c.subject_id, func.max(dirty.c.position))
        .group_by(dirty.c.subject_id)
        .order_by(func.min(dirty.c.position))
        .limit(limit)
    ).all()
    if not marked:
        # Every subject settled: then the teams of authorities whose workers changed.
        return settle_teams(conn, tables, library, limit)
    ids = {str(r[0]) for r in marked}
    facts = facts_of(conn, tables, ids)
    authorities = {i for i in ids if is_authority(facts.get(i, []))}
    if authorities:
        # A new pack or closure day concerns every subject of the authority that was
        # settled without it: hand the mark on to each (settled ``limit`` at a time
        # by the next calls). Subjects settled since read it already.
        subject = tables["compliance_subject"]
        already = set(
            conn.execute(select(dirty.c.subject_id).where(dirty.c.position == 0)).scalars()
        )
        for authority, last in marked:
            if authority not in authorities:
                continue
            code = str(facts[authority][0].data["authority_code"])
            if authority == str(authority_id(code)):
                behind = set(
                    conn.execute(
                        select(subject.c.subject_id).where(
                            subject.c.authority_code == code,
                            subject.c.authority_through < last,
                        )
                    ).scalars()
                )
                if behind - already:
                    conn.execute(
                        insert(dirty),
                        [{"position": 0, "subject_id": s} for s in sorted(behind - already)],
                    )
                    already |= behind
            conn.execute(
                delete(dirty).where(dirty.c.subject_id == authority, dirty.c.position <= last)
            )
        return len(authorities)
    # Subjects whose rules read these subjects' facts (a worker, their supervisor's),
    # unless marked themselves: those are settled in their turn, from the same facts
    # (measured: in a rebuild this recomputed each supervisee once per supervisor).
    link = tables["compliance_link"]
    dependents: set[str] = set()
    for chunk in chunks(ids):
        dependents |= set(
            conn.execute(select(link.c.subject_id).where(link.c.depends_on.in_(chunk))).scalars()
        )
    for chunk in chunks(dependents - ids):
        dependents -= set(
            conn.execute(
                select(dirty.c.subject_id).distinct().where(dirty.c.subject_id.in_(chunk))
            ).scalars()
        )
    facts.update(facts_of(conn, tables, dependents - ids))
    profiles = {i: profile(known_facts(f)) for i, f in facts.items() if f}
    supervisors = supervisors_facts(conn, tables, profiles.values())
    contexts: dict[str, AuthorityContext] = {}
    operations: list[Insert] = []
    recomputed: list[str] = []
    for subject_id, subject_facts in facts.items():
        who = profiles.get(subject_id)
        if who is None:
            # Its registration is purged: nothing derived stays but the tombstones.
            recomputed.append(subject_id)
            operations.extend(
                Insert("retention_schedule", row)
                for row in purged_subject_rows(subject_id, subject_facts)
            )
            continue
        code = who.authority_code
        if code not in contexts:
            contexts[code] = authority_context(conn, tables, code, library)
        related = related_of(supervisors, who)
        derived = derive(subject_id, subject_facts, contexts[code], related=related)
        if derived is None:
            continue
        recomputed.append(subject_id)
        for table, table_rows in derived.rows().items():
            operations.extend(Insert(table, row) for row in table_rows)
    # A worker's change (or purge) may change their teams' obligations [DEV-7, POR-3.3].
    teams_of = {
        p.authority_code for p in profiles.values() if p is not None and p.subject == "worker"
    }
    purged = [s for s in recomputed if profiles.get(s) is None]
    if purged:
        subject = tables["compliance_subject"]
        teams_of |= set(
            conn.execute(
                select(subject.c.authority_code).where(
                    subject.c.subject_id.in_(purged), subject.c.subject_kind == "worker"
                )
            ).scalars()
        )
    mark_teams(conn, tables, teams_of)
    replace(conn, tables, recomputed, operations)
    # Only this runner marks (it holds the lock), so nothing newer than what was read
    # can be among them; the bound keeps it so if that ever changes.
    reached = max(int(last) for _, last in marked)
    for chunk in chunks(ids):
        conn.execute(
            delete(dirty).where(dirty.c.subject_id.in_(chunk), dirty.c.position <= reached)
        )
    return len(marked)


def replace(
    conn: Connection,
    tables: Mapping[str, Table],
    subject_ids: Sequence[str],
    operations: Sequence[Insert],
) -> None:
    """Replace the subjects' derived rows (COPY on PostgreSQL, as the engine writes)."""
    for chunk in chunks(subject_ids):
        for name, key in DERIVED_TABLES.items():
            table = tables[name]
            conn.execute(delete(table).where(table.c[key].in_(chunk)))
    execute_operations(conn, tables, operations)
