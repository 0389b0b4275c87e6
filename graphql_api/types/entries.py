"""A subject's state as types: its attributes and its entries, as the one fold
(``domain.policy.timeline``) gives them (ADR 0028).

The fields are derived from the timeline's own tables, not written twice: an entry
kind's fields are what ``ENTRIES`` sets for it (each event's fields, run once on a
sample of the event at import), what the fold adds (escalations, answers, signatures),
and what a correction may move (``CORRECTED``); a subject's attributes are what
``ATTRIBUTES`` sets. Each is typed as the catalogue types the event field of the same
name (``events.graphql_field``), or by ``EXTRA_HINTS`` for a name the fold makes up.
Every field is nullable: an entry is built up by several events, and a purge or a
timeline read as of an earlier time may leave any of them unset.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Annotated, Any

import strawberry

from domain.events import (
    CATALOGUE,
    EventType,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    WorkerEvent,
    WorkerRegistered,
)
from domain.policy.timeline import ATTRIBUTES, ENTRIES, ESCALATIONS
from domain.vocabulary import Signatory
from graphql_api.types import enums as e
from graphql_api.types.events import bounded, content_fields, enum_of, graphql_field
from graphql_api.types.words import words_for
from projections.history import HistoryRow

#: Names the fold makes up (not an event's field), and their annotations.
EXTRA_HINTS: Mapping[str, Any] = {
    "status": str,
    "cancellation_reason": str,
    "answered_by": str,
    "escalations": int,
    "level": str,
    "resolution": str,
    "lifted": bool,
    "graded": str,
    "record": str,
    "dispute_reasons": str,
    "moderated_by": str,
    "moderation_rationale": str,
    "last_reviewed_on": date,
    "reviews": int,
    "review_due_on": date,
    "held_on": date,
    "observed_on": date,
    "attended_on": date,
    "left_on": date,
    "allocated_worker_id": str,
    "in_care": bool,
    "placement": str,
    "closed": str,
    "signed_by_supervisor": bool,
    "signed_by_supervisee": bool,
    "signed_by_observer": bool,
    "signed_by_line_manager": bool,
    "differing_view": str,
}

#: What a correction may move besides the fields its entry's events set (the days of
#: ``domain.policy.timeline.WHEN_FIELDS``), by entry kind.
CORRECTED: Mapping[str, tuple[str, ...]] = {
    "supervision_session": ("held_on",),
    "appraisal": ("held_on",),
    "direct_observation": (
        "observed_on",
        "signed_by_supervisee",
        "signed_by_observer",
        "signed_by_line_manager",
    ),
    "group_supervision": ("attended_on",),
}

#: Entries whose own event has a ``kind`` of its own: the fold keeps it under ``kind``
#: (over the entry's kind), and the type names it for what it is.
OWN_KIND: Mapping[str, str] = {
    "oversight_trigger": "trigger_kind",
    "legal_hold": "hold_kind",
    "appraisal": "appraisal_kind",
}

_OWN_KIND_WORDS = {
    "trigger_kind": "Which key point of the authority's list arose [DEV-6].",
    "hold_kind": "Why the records are held: litigation, inquiry, review, subject access.",
    "appraisal_kind": "Which review it was: appraisal, pdr or six-month review.",
}


def _sample(event: EventType) -> dict[str, Any]:
    """Every field of ``event`` with a value, so the fold's tables can be read for the
    names they set."""
    return {
        name: _SAMPLES.get(typing.get_origin(hint), "x")
        for name, hint in content_fields(event).items()
    }


_SAMPLES: Mapping[Any, Any] = {dict: {}, list: []}


def _set_by(event: EventType, sets: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> list[str]:
    if event is PersonalRecordCommentRemoved:
        return []  # clears a field the record's own event sets
    if event is PersonalSupervisionRecordSigned:
        found: list[str] = []
        for party in (Signatory.SUPERVISOR, Signatory.SUPERVISEE):
            found.extend(sets({**_sample(event), "signatory": party.value, "differing_view": "x"}))
        return found
    return list(sets(_sample(event)))


def _hint(name: str, events: Sequence[EventType]) -> tuple[Any, EventType | None]:
    for event in events:
        fields = content_fields(event)
        if name in fields:
            return fields[name], event
    return EXTRA_HINTS[name], None


def _entry_fields() -> dict[str, dict[str, tuple[Any, EventType | None]]]:
    """Each entry kind's fields: name -> (annotation, the event that declares it)."""
    found: dict[str, dict[str, tuple[Any, EventType | None]]] = {}
    by_kind: dict[str, list[EventType]] = {}
    for event, entry in ENTRIES.items():
        by_kind.setdefault(entry.kind, []).append(event)
    for kind, events in by_kind.items():
        names: dict[str, None] = {}
        for event in events:
            for name in _set_by(event, ENTRIES[event].fields):
                names[name] = None
        if kind == "disagreement":
            names.update(dict.fromkeys(("escalations", "level")))
        for name in CORRECTED.get(kind, ()):
            names[name] = None
        fields: dict[str, tuple[Any, EventType | None]] = {}
        for name in names:
            hint, declared = _hint(name, events)
            fields[OWN_KIND.get(kind, name) if name == "kind" else name] = (hint, declared)
        found[kind] = fields
    # Escalations are the fold's, not an entry event's (``ESCALATIONS``).
    assert set(ESCALATIONS) <= set(CATALOGUE.values())
    return found


ENTRY_FIELDS = _entry_fields()


@strawberry.interface(
    description="One entry of a subject's record (a session, a record, a trigger, a "
    "plan...), its events' fields merged in valid-time order with every known correction "
    "applied (domain/policy/timeline.py). Each kind is an object type implementing this."
)
class Entry:
    id: str = strawberry.field(description="The entry's id, unique within its subject.")
    kind: e.EntryKind = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of entry it is (its object type is named after it)."
    )


def _type_name(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_")) + "Entry"


def _nullable(graphql_type: Any) -> Any:
    return graphql_type | None


def _make_entry_type(
    kind: str, fields: Mapping[str, tuple[Any, EventType | None]]
) -> tuple[type, dict[str, Callable[[Any], Any]]]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    converters: dict[str, Callable[[Any], Any]] = {}
    for name, (hint, declared) in fields.items():
        if name in _OWN_KIND_WORDS:
            enum = enum_of(declared, "kind")
            graphql_type, convert = graphql_field(name, hint, enum)
            words = _OWN_KIND_WORDS[name]
        else:
            graphql_type, convert = graphql_field(name, hint, enum_of(declared, name))
            words = words_for(name, declared)
        annotations[name] = _nullable(graphql_type)
        namespace[name] = strawberry.field(default=None, description=words, metadata=bounded(name))
        converters[name] = convert
    made = type(_type_name(kind), (Entry,), namespace)
    return strawberry.type(made, description=e.ENTRY_KIND_WORDS[kind]), converters


def _generate_entries() -> tuple[dict[str, type], dict[str, dict[str, Callable[[Any], Any]]]]:
    made: dict[str, type] = {}
    converters: dict[str, dict[str, Callable[[Any], Any]]] = {}
    for kind, fields in ENTRY_FIELDS.items():
        made[kind], converters[kind] = _make_entry_type(kind, fields)
    return made, converters


#: The object type of each entry kind.
ENTRY_TYPES, _ENTRY_CONVERTERS = _generate_entries()


def _convert(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def entries_of(entries: Mapping[str, Mapping[str, Any]], rows: Sequence[HistoryRow]) -> list[Entry]:
    """The fold's entries (by id) as typed entries, each kind known from the events that
    made it (the fold keeps an event's own ``kind`` over the entry's)."""
    kinds: dict[str, str] = {}
    for row in rows:
        entry = ENTRIES.get(row.kind)
        if entry is not None and row.entry_ref is not None:
            kinds.setdefault(row.entry_ref, entry.kind)
    found: list[Entry] = []
    for ref, values in entries.items():
        kind = kinds.get(ref)
        if kind is None:
            continue  # a fact about an entry whose own events are not in this answer
        converters = _ENTRY_CONVERTERS[kind]
        own_kind = OWN_KIND.get(kind)
        fields: dict[str, Any] = {}
        for name, value in values.items():
            target = own_kind if (name == "kind" and own_kind) else name
            if target in converters:
                fields[target] = _convert(converters[target], value)
        found.append(ENTRY_TYPES[kind](id=ref, kind=e.member(e.EntryKind, kind), **fields))
    return found


# -- a subject's attributes --------------------------------------------------------------


def _attribute_fields(worker: bool) -> dict[str, tuple[Any, EventType | None]]:
    """The attributes ``ATTRIBUTES`` sets on a worker (or a child), and their types."""
    fields: dict[str, tuple[Any, EventType | None]] = {}
    for event, sets in ATTRIBUTES.items():
        if (issubclass(event, WorkerEvent) or event is WorkerRegistered) != worker:
            continue
        for name in sets(_sample(event)):
            fields.setdefault(name, _hint(name, [event]))
    return fields


WORKER_ATTRIBUTES = _attribute_fields(worker=True)
CHILD_ATTRIBUTES = _attribute_fields(worker=False)


def _attributes_type(
    name: str, description: str, fields: Mapping[str, tuple[Any, EventType | None]]
) -> tuple[type, dict[str, Callable[[Any], Any]]]:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    converters: dict[str, Callable[[Any], Any]] = {}
    for field_name, (hint, declared) in fields.items():
        graphql_type, convert = graphql_field(field_name, hint, enum_of(declared, field_name))
        annotations[field_name] = _nullable(graphql_type)
        namespace[field_name] = strawberry.field(default=None, description=words_for(field_name))
        converters[field_name] = convert
    return strawberry.type(type(name, (), namespace), description=description), converters


WorkerAttributes, _WORKER_CONVERTERS = _attributes_type(
    "WorkerAttributes",
    "A worker's attributes as of a valid time (each the latest by valid time), as their "
    "employment events set them [DEV-4.1b, SHR-3.6c].",
    WORKER_ATTRIBUTES,
)
ChildAttributes, _CHILD_CONVERTERS = _attributes_type(
    "ChildAttributes",
    "A child's attributes as of a valid time (each the latest by valid time): the case's "
    "type, risk, allocation and care [DEV-5.1b, DEV-5.1c].",
    CHILD_ATTRIBUTES,
)

SubjectAttributes = Annotated[
    WorkerAttributes | ChildAttributes,  # type: ignore[valid-type]
    strawberry.union(
        "SubjectAttributes",
        description="A worker's or a child's attributes, by the kind of record read.",
    ),
]


def attributes_of(kind: str, attributes: Mapping[str, Any]) -> Any:
    """The fold's attributes of a ``kind`` (worker or child) subject as their type."""
    converters = _WORKER_CONVERTERS if kind == "worker" else _CHILD_CONVERTERS
    made = WorkerAttributes if kind == "worker" else ChildAttributes
    return made(
        **{
            name: _convert(converters[name], value)
            for name, value in attributes.items()
            if name in converters
        }
    )


__all__ = [
    "CHILD_ATTRIBUTES",
    "ENTRY_FIELDS",
    "ENTRY_TYPES",
    "WORKER_ATTRIBUTES",
    "ChildAttributes",
    "Entry",
    "SubjectAttributes",
    "WorkerAttributes",
    "attributes_of",
    "entries_of",
]
