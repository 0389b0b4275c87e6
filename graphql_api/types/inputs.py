"""Typed inputs for what a command carries as a mapping: a correction's changes and an
audit's answers (ADR 0028). Each is turned back into the mapping the command takes, with
the values the domain stores (days as ISO 8601 text, vocabularies as their stored
values), so what is recorded is what an untyped client sent before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graphql_api.types import enums as e
from graphql_api.types.words import FIELD_WORDS

#: Every field a correction may change, of any entry kind (the aggregates' CORRECTABLE,
#: held to them by tests/graphql_api/test_typed_schema.py): its stored name and GraphQL
#: type. Which of them an entry's kind allows is the domain's rule
#: (``CorrectionChangesOnlyCorrectableFields``), refused naming the field.
CORRECTABLE: Mapping[str, tuple[str, Any]] = {
    # a supervision session, a direct observation, a group session, an appraisal
    "held_on": ("held_on", date),
    "observed_on": ("observed_on", date),
    "attended_on": ("attended_on", date),
    "duration_minutes": ("duration_minutes", int),
    "functions_covered": ("functions_covered", list[e.SupervisionFunction_]),  # type: ignore[valid-type]
    "wellbeing_discussed": ("wellbeing_discussed", bool),
    "equality_and_diversity_discussed": ("equality_and_diversity_discussed", bool),
    "topic": ("topic", str),
    "summary": ("summary", str),
    "appraisal_kind": ("kind", e.AppraisalKind),
    # a personal supervision record
    "actions_reviewed": ("actions_reviewed", str),
    "wellbeing": ("wellbeing", str),
    "workload": ("workload", str),
    "development": ("development", str),
    "disagreements": ("disagreements", str),
    # case supervision, management oversight and decisions
    "current_situation": ("current_situation", str),
    "child_last_seen_on": ("child_last_seen_on", date),
    "childs_views": ("childs_views", str),
    "reflection": ("reflection", str),
    "analysis": ("analysis", str),
    "decision": ("decision", str),
    "rationale": ("rationale", str),
    "previous_actions_reviewed": ("previous_actions_reviewed", str),
    "reason": ("reason", str),
    # a child in need: what a corrected census may change (ADR 0026)
    "referral_source": ("referral_source", str),
    "primary_need": ("primary_need", e.PrimaryNeed_),
    "reason_for_closure": ("reason_for_closure", e.ReasonForClosure_),
    "started_on": ("started_on", date),
    "factors": ("factors", list[str]),
    "conference_required": ("conference_required", bool),
    "category_of_abuse": ("category_of_abuse", e.CategoryOfAbuse_),
}

_WORDS = {
    **FIELD_WORDS,
    "appraisal_kind": "Which review it was: appraisal, pdr or six-month review.",
}


def _changes_input() -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for name, (_, graphql_type) in CORRECTABLE.items():
        annotations[name] = graphql_type | None
        namespace[name] = strawberry.field(
            default=None, description=f"The corrected value. {_WORDS[name]}"
        )
    made = type("EntryChangesInput", (), namespace)
    return strawberry.input(
        made,
        description="The fields a correction supersedes, each with its new value; the "
        "original stays on record [DUR-4.7b]. Give only those that change: which fields "
        "an entry's kind allows is the domain's rule, refused naming the field.",
    )


EntryChangesInput = _changes_input()


def _stored(value: Any) -> Any:
    if isinstance(value, Enum):
        return e.stored_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def changes_of(value: Any) -> dict[str, Any]:
    """A correction's changes as the command takes them (stored names and values)."""
    return {
        stored: _stored(getattr(value, name))
        for name, (stored, _) in CORRECTABLE.items()
        if getattr(value, name) is not None
    }


@strawberry.input(
    description="One item of the authority's audit tool and the auditor's answer to it "
    "[SHR-5.8, POR-7, DUR-7]."
)
class AuditAnswerInput:
    item: str = strawberry.field(
        description="The tool item's id, as the authority's pack names it (an unknown item "
        "is refused naming it)."
    )
    yes: bool = strawberry.field(description="True: the file meets the item; false: it does not.")


def answers_of(value: Any) -> dict[str, bool]:
    """An audit's answers as the command takes them (by item id)."""
    return {str(answer.item): bool(answer.yes) for answer in value}


__all__ = ["CORRECTABLE", "AuditAnswerInput", "EntryChangesInput", "answers_of", "changes_of"]
