"""Every event of the catalogue as a GraphQL object type, generated in this one place
(ADR 0028).

``domain/events.py`` is the single source: each class there becomes an object type named
after it with ``Event`` after it (``SupervisionSessionHeldEvent``), implementing the
``Event`` interface (its envelope: kind, log position, both times, the entry it
concerns), with one camelCase field per field of the class, typed from its annotation:
text, numbers, days and times as themselves; a vocabulary as its enum (``FIELD_ENUMS``);
an agreed action as ``SmartAction``; a tool's answers as ``AuditAnswer``s; a
correction's changes as ``FieldChange``s. A new event gets its type without anything
written here; ``tests/graphql_api/test_typed_schema.py`` holds every catalogue event to
a type. The same mapping (``graphql_field``) types a timeline entry's and a subject's
attributes (``types.entries``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
import strawberry

from domain.events import (
    CATALOGUE,
    AbsenceStarted,
    AppraisalHeld,
    CaseClosed,
    EventType,
    LegalHoldPlaced,
    OversightTriggered,
    RecordAccessed,
)
from domain.values import SmartAction as SmartActionValue
from graphql_api.names import camel
from graphql_api.types import enums as e
from graphql_api.types.words import words_for
from projections.history import HistoryRow

#: Fields of every stored event that are its envelope, not its content.
ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "originator_id_type",
        "timestamp",
        "provenance",
        "class_version",
    }
)

#: Fields whose values are a vocabulary of the domain, whatever the event.
FIELD_ENUMS: Mapping[str, type[Enum]] = {
    "role": e.Role_,
    "decision_maker_role": e.Role_,
    "file_role": e.Role_,
    "case_type": e.CaseType_,
    "risk_level": e.RiskLevel_,
    "rag": e.Rag_,
    "employment_pattern": e.EmploymentPattern_,
    "engagement": e.EngagementType_,
    "supervision_format": e.SupervisionFormat_,
    "signatory": e.Signatory_,
    "voided": e.Signatory_,
    "subject": e.DisagreementSubject_,
    "level": e.EscalationLevel_,
    "session_kind": e.TeamSessionKind_,
    "category_of_abuse": e.CategoryOfAbuse_,
    "primary_need": e.PrimaryNeed_,
    "reason_for_closure": e.ReasonForClosure_,
    "functions_covered": e.SupervisionFunction_,
    "record": e.AuditedRecord,
    "closed": e.CaseClosureKind_,
    "status": e.SessionStatus,
}

#: Lists of values an event holds (a tool's answers, a correction's changes, agreed
#: actions): read with their row, no resolver per item, so a request's cost counts each
#: list once (``measure._counted``).
VALUE_LISTS = frozenset({"answers", "changes", "actions", "agreed_actions"})

#: The metadata of a list of values read with its row (``measure._counted``).
WITH_ITS_ROW: dict[str, Any] = {"counted_items": 1}


def bounded(name: str) -> dict[str, Any]:
    """The metadata a field ``name`` carries for the request's cost (empty: none)."""
    return WITH_ITS_ROW if name in VALUE_LISTS else {}


#: Fields named ``kind`` and the vocabulary each event's kind is from.
KIND_ENUMS: Mapping[EventType, type[Enum]] = {
    OversightTriggered: e.OversightTriggerKind_,
    LegalHoldPlaced: e.LegalHoldKind_,
    AbsenceStarted: e.AbsenceKind_,
    CaseClosed: e.CaseClosureKind_,
    AppraisalHeld: e.AppraisalKind,
    RecordAccessed: e.AccessedRecord,
}

#: An event's own ``kind`` is named for what it is: ``kind`` is the envelope's (which
#: event of the catalogue), as on every ``Event``.
OWN_KIND: Mapping[EventType, str] = {
    OversightTriggered: "trigger_kind",
    LegalHoldPlaced: "hold_kind",
    AbsenceStarted: "absence_kind",
    CaseClosed: "closure_kind",
    AppraisalHeld: "appraisal_kind",
    RecordAccessed: "record_kind",
}


@strawberry.type(description="An agreed action: specific, with an owner and a due date [POR-6.1].")
class SmartAction:
    action_id: str = strawberry.field(description="The action's id, unique per child.")
    description: str = strawberry.field(description="What is to be done, in words.")
    owner: str = strawberry.field(description="Who does it (a staff id or a named person).")
    due_on: date = strawberry.field(description="The day by which it is to be done.")


@strawberry.type(
    description="One item of the authority's audit tool and how the auditor answered it "
    "[SHR-5.8, POR-7, DUR-7]."
)
class AuditAnswer:
    item: str = strawberry.field(
        description="The tool item's id, as the authority's pack names it."
    )
    yes: bool = strawberry.field(description="True: the file meets the item; false: it does not.")


@strawberry.type(
    description="One field a correction changed, and its new value; the original stays on "
    "record [DUR-4.7b]."
)
class FieldChange:
    field: str = strawberry.field(description="The corrected field's camelCase name.")
    value: str | None = strawberry.field(
        description="The new value as text: days and times in ISO 8601, lists and flags "
        "as JSON literals; null when the correction cleared it."
    )


@strawberry.interface(
    description="One event on a subject's history, with both of its times (ADR 0007): "
    "each kind of the catalogue is an object type implementing this."
)
class Event:
    kind: e.EventKind = strawberry.field(  # type: ignore[valid-type]
        description="Which event of the catalogue it is (its object type is this name "
        "with Event after it)."
    )
    position: strawberry.ID = strawberry.field(
        description="Its position in the event log: pass it as consistentWith, or find it "
        "as a finding's evidence."
    )
    occurred_at: datetime = strawberry.field(
        description="Valid time: when it happened in the world (a correction may move it)."
    )
    recorded_at: datetime = strawberry.field(
        description="System time: when it was recorded in the event log."
    )
    entry: str | None = strawberry.field(
        description="The id of the entry it concerns (a session, record, trigger...), if any."
    )


# -- one mapping from a field's annotation to its GraphQL type and value -----------------

Convert = Callable[[Any], Any]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _action(value: Any) -> SmartAction:
    data = value if isinstance(value, Mapping) else vars(value)
    return SmartAction(
        action_id=str(data["action_id"]),
        description=str(data["description"]),
        owner=str(data["owner"]),
        due_on=_day(data["due_on"]),
    )


def _answers(value: Any) -> list[AuditAnswer]:
    return [AuditAnswer(item=str(k), yes=bool(v)) for k, v in sorted(dict(value or {}).items())]


def _changes(value: Any) -> list[FieldChange]:
    return [
        FieldChange(field=camel(str(k)), value=_text(v))
        for k, v in sorted(dict(value or {}).items())
    ]


def graphql_field(name: str, hint: Any, enum: type[Enum] | None = None) -> tuple[Any, Convert]:
    """The GraphQL type of a field annotated ``hint``, and how its stored (JSON) value
    becomes that type's value. ``enum``: the vocabulary its text (or its items) is from."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        mapped, convert = graphql_field(name, inner, enum)
        return mapped | None, (lambda v: None if v is None else convert(v))
    if origin is list:
        (item,) = args
        mapped, convert = graphql_field(name, item, enum)
        return list[mapped], (lambda v: [convert(i) for i in (v or ())])  # type: ignore[valid-type]
    if origin is dict or hint is dict:
        if args and args[1] is bool:
            return list[AuditAnswer], _answers
        return list[FieldChange], _changes
    if hint is SmartActionValue:
        return SmartAction, _action
    if enum is not None and hint is str:
        return enum, (lambda v: e.member(enum, v))
    if hint is str:
        return str, str
    if hint is bool:
        return bool, bool
    if hint is int:
        return int, int
    if hint is Decimal:
        return Decimal, (lambda v: Decimal(str(v)))
    if hint is date:
        return date, _day
    if hint is datetime:
        return datetime, _moment
    if hint is UUID:
        return strawberry.ID, (lambda v: strawberry.ID(str(v)))
    raise TypeError(f"no GraphQL type for the field {name}: {hint!r}")


def content_fields(event: EventType) -> dict[str, Any]:
    """An event class's own fields and their annotations (not its envelope)."""
    return {
        name: hint
        for name, hint in typing.get_type_hints(event).items()
        if name not in ENVELOPE and not name.startswith("_")
    }


def enum_of(event: EventType | None, name: str) -> type[Enum] | None:
    """The vocabulary of ``event``'s field ``name``, if it has one."""
    if name == "kind":
        return KIND_ENUMS.get(event) if event is not None else None
    return FIELD_ENUMS.get(name)


def _type_name(event: EventType) -> str:
    return f"{event.__name__}Event"


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _event_type(event: EventType) -> tuple[type, dict[str, tuple[str, Convert]]]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    converters: dict[str, tuple[str, Convert]] = {}
    for name, hint in content_fields(event).items():
        graphql_type, convert = graphql_field(name, hint, enum_of(event, name))
        attribute = OWN_KIND[event] if name == "kind" else name
        annotations[attribute] = graphql_type
        namespace[attribute] = strawberry.field(
            description=words_for(name, event), metadata=bounded(name)
        )
        converters[attribute] = (name, convert)
    description = _first_line(event.__doc__) or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", event.__name__)
    made = type(_type_name(event), (Event,), namespace)
    return strawberry.type(made, description=description), converters


def _generate() -> tuple[dict[EventType, type], dict[EventType, dict[str, tuple[str, Convert]]]]:
    made: dict[EventType, type] = {}
    converters: dict[EventType, dict[str, tuple[str, Convert]]] = {}
    for event in CATALOGUE.values():
        made[event], converters[event] = _event_type(event)
    return made, converters


#: The object type of each catalogue event.
EVENT_TYPES, _CONVERTERS = _generate()


def event_of(row: HistoryRow) -> Event:
    """A history row as its event's object type."""
    kind = row.kind
    fields = {
        attribute: (None if row.data.get(name) is None else convert(row.data[name]))
        for attribute, (name, convert) in _CONVERTERS[kind].items()
    }
    made: Event = EVENT_TYPES[kind](
        kind=e.member(e.EventKind, kind.__name__),
        position=strawberry.ID(str(row.position)),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        entry=row.entry_ref,
        **fields,
    )
    return made


def history_events(rows: list[HistoryRow]) -> list[Event]:
    """The history read model's rows as typed events."""
    return [event_of(r) for r in rows]


__all__ = [
    "EVENT_TYPES",
    "WITH_ITS_ROW",
    "AuditAnswer",
    "Event",
    "FieldChange",
    "SmartAction",
    "bounded",
    "content_fields",
    "enum_of",
    "event_of",
    "graphql_field",
    "history_events",
]
