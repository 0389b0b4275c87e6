"""The stored obligations (``compliance_obligation``): their rows, and reading them back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select

from domain.policy.compliance import Obligation, closes
from projections.compliance.tables import chunks, json_text, stored_day, view


def obligation_rows(
    subject_id: str, common: Mapping[str, Any], obligations: Sequence[Obligation]
) -> list[dict[str, Any]]:
    """A subject's obligations as rows, numbered in the order they were found."""
    return [
        {
            "subject_id": subject_id,
            "seq": seq,
            **common,
            "rule_key": o.rule_key,
            "rule_id": o.rule_id,
            "kind": o.kind,
            "arises_on": o.arises_on,
            "due_on": o.due_on,
            "satisfied_on": o.satisfied_on,
            "evidence": json_text(list(o.evidence)),
            "detail": json_text(o.detail),
        }
        for seq, o in enumerate(obligations)
    ]


def stored_obligations(conn: Connection, subject_id: str) -> list[Obligation]:
    """A settled subject's obligations, as ``settle`` found them."""
    table = view("compliance_obligation")
    return [
        Obligation(
            rule_key=r.rule_key,
            rule_id=r.rule_id,
            kind=r.kind,
            arises_on=stored_day(r.arises_on),
            due_on=stored_day(r.due_on) if r.due_on is not None else None,
            satisfied_on=stored_day(r.satisfied_on) if r.satisfied_on is not None else None,
            evidence=tuple(orjson.loads(r.evidence)),
            detail=orjson.loads(r.detail),
        )
        for r in conn.execute(
            select(table).where(table.c.subject_id == subject_id).order_by(table.c.seq)
        )
    ]


@dataclass(frozen=True)
class OpenWork:
    """A subject's stored obligations on a day: how many are overdue, and the next due."""

    overdue: int
    next_due_on: date | None


def open_work(engine: Engine, subject_ids: Sequence[str], as_of: date) -> dict[str, OpenWork]:
    """For many subjects in one query (the API's DataLoader batches into this). Overdue:
    the deadlines open past their due day, and each rule whose last window to close did
    so without the act, with nothing done since (the act is still owed: the subject is
    behind on it, however many windows that has been)."""
    obligation = view("compliance_obligation")
    found: dict[str, list[Any]] = {s: [] for s in subject_ids}
    with engine.connect() as conn:
        for chunk in chunks(subject_ids):
            rows = conn.execute(
                select(
                    obligation.c.subject_id,
                    obligation.c.due_on,
                    obligation.c.satisfied_on,
                    obligation.c.rule_key,
                    obligation.c.kind,
                    obligation.c.arises_on,
                    obligation.c.seq,
                ).where(
                    obligation.c.subject_id.in_(chunk),
                    obligation.c.arises_on <= as_of,
                    obligation.c.due_on.is_not(None),
                )
            ).all()
            for row in rows:
                found[str(row[0])].append(row)
    result: dict[str, OpenWork] = {}
    for subject_id, rows in found.items():
        open_rows = [
            r for r in rows if r.satisfied_on is None or stored_day(r.satisfied_on) > as_of
        ]
        overdue = sum(1 for r in open_rows if not closes(r.kind) and stored_day(r.due_on) < as_of)
        windows: dict[str, list[Any]] = {}
        for r in rows:
            if closes(r.kind):
                windows.setdefault(str(r.rule_key), []).append(r)
        for chain in windows.values():
            chain.sort(key=lambda r: (stored_day(r.arises_on), int(r.seq)))
            current = chain[-1]
            if current.satisfied_on is not None and stored_day(current.satisfied_on) <= as_of:
                continue  # done in the window open now (or the last one): caught up
            closed = [r for r in chain if stored_day(r.due_on) < as_of]
            last = closed[-1] if closed else None
            if last is not None and (
                last.satisfied_on is None or stored_day(last.satisfied_on) > stored_day(last.due_on)
            ):
                overdue += 1
        upcoming = [stored_day(r.due_on) for r in open_rows if stored_day(r.due_on) >= as_of]
        result[subject_id] = OpenWork(overdue, min(upcoming) if upcoming else None)
    return result
