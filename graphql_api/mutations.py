"""One mutation per domain command, generated from the command dataclasses (ADR 0011).

The commands in ``domain/commands.py`` are the single source: each becomes an input type
(``RecordCaseSupervisionInput``) and a mutation (``recordCaseSupervision``) returning the
``CommandResult`` union. Adding a command adds its mutation; the committed SDL and its
breaking-change check show the difference. The actor and the authority come from the
token, never from the input; ``idempotencyKey`` is the command id; ``occurredAt`` is
the valid time.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Union

import strawberry
from strawberry.scalars import JSON

from application.handlers import _HANDLERS
from domain import commands as c

#: Words for fields the front-end teams meet in many inputs.
FIELD_WORDS: dict[str, str] = {
    "staff_id": "The worker's staff id in the caller's authority.",
    "child_id": "The child's id in the caller's authority (e.g. SSDA903 CHILD).",
    "session_id": "The supervision session's id, chosen by the client, unique per worker.",
    "entry_id": "The record's id, chosen by the client, unique per subject.",
    "agreement_id": "The supervision agreement's id, unique per worker.",
    "record_id": "The personal supervision record's id, unique per worker.",
    "trigger_id": "The oversight trigger's id, unique per child.",
    "action_id": "The action's id, unique per child.",
    "disagreement_id": "The disagreement's id, unique per subject.",
    "hold_id": "The legal hold's id, unique per subject.",
    "absence_id": "The absence's id, unique per worker.",
    "supervisor_id": "The supervisor's staff id.",
    "worker_id": "The allocated worker's staff id.",
    "line_manager_id": "The line manager's staff id.",
    "reason": "Why, in words, for the record.",
    "team": "The team's name.",
    "frequency": "A period code: P1M (monthly), P4W (four-weekly), P2W, P1W, P3M.",
    "risk_level": "low, medium or high.",
    "rag": "red, amber or green.",
    "case_type": "cin, cp, cla, care_leaver, assessment, feh, yos, disability, ...",
    "policy_pack": "A loaded policy pack's id, e.g. DUR.",
    "actions": "SMART actions agreed: each with an id, a description, an owner and a due date.",
    "action": "The SMART action agreed.",
    "changes": "The corrected fields and their new values (the original is kept).",
}

INPUT_WORDS: dict[str, str] = {
    "SmartActionInput": "An agreed action: specific, with an owner and a due date [POR-6.1].",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def _words(name: str) -> str:
    return FIELD_WORDS.get(name) or (name.replace("_", " ").capitalize() + ".")


@strawberry.input(description=INPUT_WORDS["SmartActionInput"])
class SmartActionInput:
    action_id: str = strawberry.field(description="The action's id, unique per child.")
    description: str = strawberry.field(description="What is to be done.")
    owner: str = strawberry.field(description="Who does it (a staff id or a named person).")
    due_on: date = strawberry.field(description="When it is due.")


def _smart_action(value: SmartActionInput) -> dict[str, Any]:
    return {
        "action_id": value.action_id,
        "description": value.description,
        "owner": value.owner,
        "due_on": value.due_on,
    }


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}
_INPUTS: dict[type, type] = {}


def _input_for(cls: type, name: str, description: str) -> type:
    """A strawberry input type for a dataclass (a command or a nested value)."""
    if cls in _INPUTS:
        return _INPUTS[cls]
    hints = typing.get_type_hints(cls)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__doc__": description}
    converters: dict[str, Callable[[Any], Any]] = {}
    for spec in dataclasses.fields(cls):
        if spec.name in c.Command.COMMON:
            continue
        graphql_type, convert = _map(spec.name, hints[spec.name])
        annotations[spec.name] = graphql_type
        converters[spec.name] = convert
        has_default = (
            spec.default is not dataclasses.MISSING
            or spec.default_factory is not dataclasses.MISSING
        )
        if has_default:
            default = spec.default if spec.default is not dataclasses.MISSING else None
            if default is None and not _is_optional(graphql_type):
                annotations[spec.name] = graphql_type | None  # omitted: the command's default
            namespace[spec.name] = strawberry.field(default=default, description=_words(spec.name))
        else:
            namespace[spec.name] = strawberry.field(description=_words(spec.name))
    generated = type(name, (), namespace)
    strawberry_input = strawberry.input(generated, description=description)
    _INPUTS[cls] = strawberry_input

    def convert_value(value: Any) -> dict[str, Any]:
        return {
            key: converters[key](getattr(value, key))
            for key in converters
            if getattr(value, key) is not None or key in _required(cls)
        }

    _CONVERTERS[cls] = convert_value
    return strawberry_input


def _required(cls: type) -> frozenset[str]:
    return frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _is_optional(graphql_type: Any) -> bool:
    return type(None) in typing.get_args(graphql_type)


def _identity(value: Any) -> Any:
    return value


def _map(name: str, hint: Any) -> tuple[Any, Callable[[Any], Any]]:
    """A field's GraphQL type and how to turn its input value into the command's."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        mapped, convert = _map(name, inner)
        return mapped | None, (lambda v: None if v is None else convert(v))
    if origin is list:
        (item,) = args
        if item is dict or typing.get_origin(item) is dict:
            return list[SmartActionInput], (lambda v: [_smart_action(i) for i in v])
        mapped, convert = _map(name, item)
        return list[mapped], (lambda v: [convert(i) for i in v])  # type: ignore[valid-type]
    if hint is dict or origin is dict:
        if name == "action":
            return SmartActionInput, _smart_action
        return JSON, _identity
    if dataclasses.is_dataclass(hint):
        assert isinstance(hint, type)
        nested = _input_for(hint, f"{hint.__name__}Input", (hint.__doc__ or "").strip())

        def convert_nested(value: Any) -> Any:
            return hint(**_CONVERTERS[hint](value))

        return nested, convert_nested
    if hint in (str, int, bool, date, datetime, Decimal):
        return hint, _identity
    raise TypeError(f"no GraphQL mapping for {name}: {hint!r}")


# -- results -------------------------------------------------------------------------------------


@strawberry.type(description="The command ran (or had already run under this key).")
class CommandSuccess:
    idempotency_key: str = strawberry.field(description="The command's idempotency key.")
    position: strawberry.ID | None = strawberry.field(
        description="The log position of its last event: pass it as consistentWith to read "
        "your own write. Null when it wrote nothing."
    )
    replayed: bool = strawberry.field(
        description="True when this key had already run: nothing new was written."
    )


@strawberry.type(description="A value is missing, malformed or out of range.")
class ValidationProblem:
    message: str = strawberry.field(description="What is wrong, in words.")
    field: str | None = strawberry.field(description="The input field concerned.")
    rule: str | None = strawberry.field(description="The rule it breaks, if one is named.")


@strawberry.type(description="A policy rule or invariant forbids it; the rule ID is cited.")
class RuleViolationProblem:
    message: str = strawberry.field(description="What the rule forbids, in words.")
    field: str | None = strawberry.field(description="The input field concerned.")
    rule: str | None = strawberry.field(description="The rule ID, e.g. DUR-4.7a.")


@strawberry.type(description="No such record in the caller's authority.")
class NotFoundProblem:
    message: str = strawberry.field(description="What was not found.")
    field: str | None = strawberry.field(description="The input field naming it.")


@strawberry.type(description="Another write got there first, or the key was reused.")
class ConflictProblem:
    message: str = strawberry.field(description="What conflicted.")
    retryable: bool = strawberry.field(
        description="True: reload and retry with the same idempotency key."
    )


@strawberry.type(description="The caller may not do this; the access rule is cited.")
class ForbiddenProblem:
    message: str = strawberry.field(description="Why not, in words.")
    rule: str | None = strawberry.field(description="The access rule, e.g. DUR-4.8a.")


CommandResult = Annotated[
    CommandSuccess
    | ValidationProblem
    | RuleViolationProblem
    | NotFoundProblem
    | ConflictProblem
    | ForbiddenProblem,
    strawberry.union(
        "CommandResult",
        description="What a mutation did: success, or the typed reason nothing was written.",
    ),
]


@dataclasses.dataclass(frozen=True)
class GeneratedMutation:
    command: type[c.Command]
    field_name: str
    input_type: type
    convert: Callable[[Any], dict[str, Any]]


def _description(command: type[c.Command]) -> str:
    doc = (command.__doc__ or "").strip()
    if doc and not doc.startswith(command.__name__ + "("):
        return doc.splitlines()[0]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", command.__name__).lower()
    return f"{words.capitalize()}."


def generated(excluded: frozenset[type[c.Command]]) -> list[GeneratedMutation]:
    found: list[GeneratedMutation] = []
    for command in sorted(_HANDLERS, key=lambda k: k.__name__):
        if command in excluded or command.__module__ != "domain.commands":
            continue
        input_type = _input_for(command, f"{command.__name__}Input", _description(command))
        found.append(
            GeneratedMutation(
                command, lower_first(command.__name__), input_type, _CONVERTERS[command]
            )
        )
    return found


def arguments_of(mutation: GeneratedMutation, value: Any) -> Mapping[str, Any]:
    return mutation.convert(value)
