"""The queues and registers an oversight manager works from, as types."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from domain.policy.registers import REGISTERS
from projections import compliance as compliance_model


@strawberry.enum(description="The queues and registers an oversight manager works from.")
class RegisterKind(Enum):
    OVERSIGHT_TRIGGER = "oversight_trigger"
    ACTION = "action"
    SIGN_OFF = "sign_off"
    DISAGREEMENT = "disagreement"


assert {k.value for k in RegisterKind} == set(REGISTERS)


@strawberry.type(description="An item of a queue or register, as it stood on asOf.")
class RegisterItem:
    subject_kind: str = strawberry.field(description="worker or child.")
    local_id: str = strawberry.field(description="The worker's or child's id.")
    team: str | None = strawberry.field(description="Their team.")
    item_id: str = strawberry.field(description="The trigger, action, session or dispute.")
    owner: str | None = strawberry.field(description="Who it is with, when recorded.")
    opened_on: date = strawberry.field(description="When it was opened.")
    due_on: date | None = strawberry.field(description="When the pack says it is due.")
    closed_on: date | None = strawberry.field(description="When it was closed, if it was.")
    rule_id: str | None = strawberry.field(description="The rule giving the due date.")
    age_days: int = strawberry.field(description="Days open (to asOf or to closing).")
    overdue_days: int | None = strawberry.field(description="Days past due; null: no due.")
    detail: JSON = strawberry.field(description="Kind-specific detail (escalations...).")


def register_item(row: compliance_model.RegisterRow) -> RegisterItem:
    """A register's row as an item."""
    return RegisterItem(
        subject_kind=row.subject_kind,
        local_id=row.local_id,
        team=row.team,
        item_id=row.item_id,
        owner=row.owner,
        opened_on=row.opened_on,
        due_on=row.due_on,
        closed_on=row.closed_on,
        rule_id=row.rule_id,
        age_days=row.age_days,
        overdue_days=row.overdue_days,
        detail=JSON(dict(row.detail)),
    )
