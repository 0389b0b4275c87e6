"""A subject's audit trail as a Relay list (ADR 0029): the one place its cursors are made
and its pages read, for the records' ``auditTrail`` connection and the ``auditTrail``
subscription alike, so a cursor of either resumes the other."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from sqlalchemy import Engine

from graphql_api.relay import Cursors, PageArgs, Paged, SqlSource, paginate
from graphql_api.types.enums import stored_value
from projections.audit_trail import AuditEntry as TrailEntry
from projections.audit_trail import encode_cursor, subject_trail, trail_positions


def _kind_names(kinds: Sequence[object]) -> list[str]:
    """The kinds asked for, as the read model names them (an enum by its value)."""
    return sorted(stored_value(k) if isinstance(k, Enum) else str(k) for k in kinds)


def trail_cursors(
    authority: str, kind: str, local_id: str, kinds: Sequence[object] = ()
) -> Cursors:
    """The cursors of one subject's trail: the query's and the subscription's are one list
    (with no kinds), so either resumes from the other's."""
    return Cursors(
        "auditTrail", {"subject": [authority, kind, local_id], "kinds": _kind_names(kinds)}
    )


def read_trail(
    engine: Engine,
    authority: str,
    kind: str,
    local_id: str,
    asked: PageArgs,
    kinds: Sequence[object] = (),
) -> Paged[TrailEntry]:
    """A page of a subject's trail: its positions paged by the keyset, then its entries."""
    query = trail_positions(
        authority_code=authority, subject_kind=kind, local_id=local_id, kinds=_kind_names(kinds)
    )
    source = SqlSource(engine, query, [query.selected_columns[0]], lambda r: (int(r[0]),))
    found = paginate(source, asked, trail_cursors(authority, kind, local_id, kinds))
    if not found.items:
        return Paged([], found.has_next_page, found.has_previous_page, found.total_count)
    start = int(found.items[0][1][0])
    entries = subject_trail(
        engine,
        authority_code=authority,
        subject_kind=kind,
        local_id=local_id,
        first=len(found.items),
        after=encode_cursor(start - 1) if start > 0 else None,
        kinds=_kind_names(kinds),
    ).entries
    by_position = {e.position: e for e in entries}
    items = [(c, by_position[int(r[0])]) for c, r in found.items if int(r[0]) in by_position]
    return Paged(items, found.has_next_page, found.has_previous_page, found.total_count)
