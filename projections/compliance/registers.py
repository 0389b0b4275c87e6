"""The registers and queues (``oversight_register``): their rows, and reading them back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Engine, select

from domain.policy.registers import RegisterItem
from projections.compliance.tables import json_text, stored_day, view


def register_rows(
    subject_id: str, common: Mapping[str, Any], items: Sequence[RegisterItem]
) -> list[dict[str, Any]]:
    """A subject's register items as rows."""
    return [
        {
            "subject_id": subject_id,
            "register": item.register,
            "item_id": item.item_id,
            **common,
            "owner": item.owner,
            "opened_on": item.opened_on,
            "due_on": item.due_on,
            "closed_on": item.closed_on,
            "rule_id": item.rule_id,
            "evidence": json_text(list(item.evidence)),
            "detail": json_text(item.detail),
        }
        for item in items
    ]


@dataclass(frozen=True)
class RegisterRow:
    """One item of a register or queue, as it stood on ``as_of``."""

    subject_id: str
    subject_kind: str
    local_id: str
    team: str | None
    register: str
    item_id: str
    owner: str | None
    opened_on: date
    due_on: date | None
    closed_on: date | None
    rule_id: str | None
    evidence: tuple[int, ...]
    detail: Mapping[str, Any]
    as_of: date

    @property
    def open(self) -> bool:
        return self.closed_on is None or self.closed_on > self.as_of

    @property
    def age_days(self) -> int:
        """Days open, to ``as_of`` (or to closing)."""
        end = self.as_of if self.open or self.closed_on is None else self.closed_on
        return (end - self.opened_on).days

    @property
    def overdue_days(self) -> int | None:
        if self.due_on is None:
            return None
        end = self.as_of if self.open or self.closed_on is None else self.closed_on
        return max(0, (end - self.due_on).days)

    @property
    def days_since_escalation(self) -> int | None:
        """Disagreements: days at the current level (since raised, if never escalated)."""
        if self.register != "disagreement":
            return None
        last = self.detail.get("last_escalated_on")
        since = date.fromisoformat(str(last)) if last else self.opened_on
        return (self.as_of - since).days


def register_items(
    engine: Engine,
    authority_code: str,
    register: str,
    *,
    as_of: date,
    open_only: bool = True,
    team: str | None = None,
    limit: int = 500,
    subject_id: str | None = None,
    item_id: str | None = None,
) -> list[RegisterRow]:
    """A register's items opened by ``as_of``, oldest due first (open ones only, by
    default: the queue as it stood that day); with ``subject_id`` and ``item_id``, the one
    item they name (a node read again by its global id)."""
    r = view("oversight_register")
    s = view("compliance_subject")
    query = (
        select(r, s.c.subject_kind, s.c.local_id)
        .join(s, s.c.subject_id == r.c.subject_id)
        .where(
            r.c.authority_code == authority_code,
            r.c.register == register,
            r.c.opened_on <= as_of,
        )
        .order_by(r.c.due_on.is_(None), r.c.due_on, r.c.opened_on, r.c.item_id)
        .limit(limit)
    )
    if open_only:
        query = query.where((r.c.closed_on.is_(None)) | (r.c.closed_on > as_of))
    if team is not None:
        query = query.where(r.c.team == team)
    if subject_id is not None:
        query = query.where(r.c.subject_id == subject_id)
    if item_id is not None:
        query = query.where(r.c.item_id == item_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        RegisterRow(
            subject_id=str(row.subject_id),
            subject_kind=str(row.subject_kind),
            local_id=str(row.local_id),
            team=row.team,
            register=str(row.register),
            item_id=str(row.item_id),
            owner=row.owner,
            opened_on=stored_day(row.opened_on),
            due_on=stored_day(row.due_on) if row.due_on is not None else None,
            closed_on=stored_day(row.closed_on) if row.closed_on is not None else None,
            rule_id=row.rule_id,
            evidence=tuple(orjson.loads(row.evidence)),
            detail=orjson.loads(row.detail),
            as_of=as_of,
        )
        for row in rows
    ]
