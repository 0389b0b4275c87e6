"""The queues and registers an oversight manager works from, as types: each register's
item detail is an object type of its own (ADR 0028)."""

# mypy: disallow-untyped-decorators=False
# (strawberry's field decorator is typed Any when given only a description: ``rule``.)

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Annotated, Any

import strawberry

from domain.policy.registers import ACTIONS, DISAGREEMENTS, REGISTERS, SIGN_OFFS, TRIGGERS
from graphql_api.context import Info
from graphql_api.relay import Node, global_id
from graphql_api.types.citations import RuleCitation, cite
from graphql_api.types.enums import (
    DisagreementSubject_,
    EscalationLevel_,
    OversightTriggerKind_,
    Signatory_,
    SubjectKind,
    member,
    member_or_none,
)
from graphql_api.types.events import WITH_ITS_ROW
from projections import compliance as compliance_model


@strawberry.enum(description="The queues and registers an oversight manager works from.")
class RegisterKind(Enum):
    OVERSIGHT_TRIGGER = strawberry.enum_value(
        "oversight_trigger",
        description="Oversight triggers and whether a manager's oversight record answered "
        "each in time [DEV-6, DEV-6g].",
    )
    ACTION = strawberry.enum_value(
        "action",
        description="SMART actions on children's plans, open until completed [POR-6.1].",
    )
    SIGN_OFF = strawberry.enum_value(
        "sign_off",
        description="Held supervision sessions whose record awaits a party's signature "
        "[POR-6.2a, DUR-4.7a].",
    )
    DISAGREEMENT = strawberry.enum_value(
        "disagreement",
        description="Disagreements, their escalations and resolution [DUR-4.10, SHR-APP1d].",
    )


assert {str(k.value) for k in RegisterKind} == set(REGISTERS)


@strawberry.type(description="What an oversight trigger's register item adds: the key point.")
class TriggerDetail:
    kind: OversightTriggerKind_ = strawberry.field(  # type: ignore[valid-type]
        description="Which key point of the authority's list arose [DEV-6]."
    )
    automatic: bool = strawberry.field(
        description="True when the system raised it from an event, not a person."
    )


@strawberry.type(description="What an action's register item adds: the action itself.")
class ActionDetail:
    description: str = strawberry.field(description="What is to be done, in words.")
    carried_forward: int = strawberry.field(
        description="How many times it was carried forward to a new due date [POR-6.1]."
    )


@strawberry.type(
    description="What a sign-off register item adds: the record and who has yet to sign "
    "it [POR-6.2a, DUR-4.7a]."
)
class SignOffDetail:
    record_id: str | None = strawberry.field(
        description="The personal supervision record of the session (null: not written yet)."
    )
    record_written_on: date | None = strawberry.field(
        description="The day the supervisor wrote the record (null: not written yet)."
    )
    awaiting: list[Signatory_] = strawberry.field(  # type: ignore[valid-type]
        description="The parties whose signature the record still awaits (a correction "
        "voids earlier signatures)."
    )
    differing_view: bool = strawberry.field(
        description="True when the supervisee signed stating a differing view [DUR-4.10]."
    )


@strawberry.type(description="One step of a disagreement up its authority's escalation chain.")
class Escalation:
    level: EscalationLevel_ = strawberry.field(  # type: ignore[valid-type]
        description="The chain's level the disagreement went to [DUR-4.10, SHR-APP1d]."
    )
    on: date = strawberry.field(description="The day it was escalated to that level.")


@strawberry.type(
    description="What a disagreement's register item adds: what it is about and how far "
    "it went up the chain [DUR-4.10, SHR-APP1d]."
)
class DisagreementDetail:
    about: str | None = strawberry.field(
        description="What the worker disagrees with, in their words."
    )
    subject: DisagreementSubject_ | None = strawberry.field(  # type: ignore[valid-type]
        description="What kind of thing it is about, which picks the escalation chain."
    )
    escalations: list[Escalation] = strawberry.field(
        description="Each escalation up the chain, oldest first.",
        metadata=WITH_ITS_ROW,
    )
    level: EscalationLevel_ | None = strawberry.field(  # type: ignore[valid-type]
        description="The level holding it now (null: never escalated)."
    )
    last_escalated_on: date | None = strawberry.field(
        description="The day of its latest escalation (null: never escalated)."
    )


RegisterDetail = Annotated[
    TriggerDetail | ActionDetail | SignOffDetail | DisagreementDetail,
    strawberry.union(
        "RegisterDetail",
        description="What an item adds for its register: one object type per register kind.",
    ),
]


@strawberry.type(description="An item of a queue or register, as it stood on asOf.")
class RegisterItem(Node):
    subject_kind: SubjectKind = strawberry.field(  # type: ignore[valid-type]
        description="Whose record the item is on: a worker's or a child's."
    )
    local_id: str = strawberry.field(
        description="The worker's staff id or the child's id in the authority."
    )
    team: str | None = strawberry.field(
        description="The worker's or child's team on asOf (a register is read by team)."
    )
    item_id: str = strawberry.field(
        description="The id of the trigger, action, session or disagreement it tracks."
    )
    owner: str | None = strawberry.field(
        description="Who the item is with (an action's owner, a session's supervisor)."
    )
    opened_on: date = strawberry.field(description="The day the item went on the register.")
    due_on: date | None = strawberry.field(
        description="When the authority's pack says it is due (null: the pack sets no deadline)."
    )
    closed_on: date | None = strawberry.field(
        description="The day it was answered, completed, signed or resolved (null: open)."
    )
    rule_id: str | None = strawberry.field(
        description="The rule ID of the authority's pack that gives the due date."
    )
    age_days: int = strawberry.field(
        description="Days it has been open, to asOf or to the day it closed."
    )
    overdue_days: int | None = strawberry.field(
        description="Days past its due date (null: the pack sets no due date)."
    )
    detail: RegisterDetail = strawberry.field(
        description="What the item adds for its register (the trigger's key point, the "
        "action, who has yet to sign, the escalations)."
    )

    @strawberry.field(
        description="The rule ID cited from the authority's own pack: whose it is, its "
        "words and their source (null when no rule applies)."
    )
    async def rule(self, info: Info) -> RuleCitation | None:
        return await cite(info, self.rule_id)


def _day(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value)[:10])


def register_detail(register: str, detail: Mapping[str, Any]) -> Any:
    """A register item's stored detail as its register's type."""
    if register == TRIGGERS:
        return TriggerDetail(
            kind=member(OversightTriggerKind_, detail["kind"]),
            automatic=bool(detail.get("automatic")),
        )
    if register == ACTIONS:
        return ActionDetail(
            description=str(detail.get("description") or ""),
            carried_forward=int(detail.get("carried_forward") or 0),
        )
    if register == SIGN_OFFS:
        return SignOffDetail(
            record_id=detail.get("record_id"),
            record_written_on=_day(detail.get("record_written_on")),
            awaiting=[member(Signatory_, p) for p in detail.get("awaiting", ())],
            differing_view=bool(detail.get("differing_view")),
        )
    assert register == DISAGREEMENTS, register
    return DisagreementDetail(
        about=detail.get("about"),
        subject=member_or_none(DisagreementSubject_, detail.get("subject")),
        escalations=[
            Escalation(level=member(EscalationLevel_, s["level"]), on=date.fromisoformat(s["on"]))
            for s in detail.get("escalations", ())
        ],
        level=member_or_none(EscalationLevel_, detail.get("level")),
        last_escalated_on=_day(detail.get("last_escalated_on")),
    )


def register_item(authority: str, row: compliance_model.RegisterRow) -> RegisterItem:
    """A register's row as an item; its global id names the register, the subject and
    the item (read again with node(id:), as of that day)."""
    return RegisterItem(
        id=global_id("RegisterItem", authority, f"{row.register}/{row.subject_id}/{row.item_id}"),
        subject_kind=member(SubjectKind, row.subject_kind),
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
        detail=register_detail(row.register, row.detail),
    )
