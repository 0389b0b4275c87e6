"""One mutation per domain command, generated from the command dataclasses (ADR 0011).

The commands in ``domain/commands.py`` are the single source: each becomes an input type
(``RecordCaseSupervisionInput``) and a mutation (``recordCaseSupervision``) returning the
``CommandResult`` union. Adding a command adds its mutation; the committed SDL and its
breaking-change check show the difference. The actor and the authority come from the
token, never from the input; ``idempotencyKey`` is the command id; ``occurredAt`` is
the valid time.

The ``Mutation`` root is assembled here from those generated fields and ``purgeDueRecords``
(a run over the schedule, not a command). Each generated resolver builds its command,
runs it through the service and maps a domain error to its typed result, in one place
(``problem_of``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Union

import strawberry
from sqlalchemy.exc import DataError

from application.handlers import handled_commands
from domain import commands as c
from domain.errors import (
    ConcurrencyConflict,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    RuleViolation,
)
from graphql_api import purge as purge_api
from graphql_api import unavailable
from graphql_api.context import Info, instant
from graphql_api.errors import UNFINISHED_PURGE, run_in_thread, unfinished_purge
from graphql_api.names import camel, camel_words, lower_first
from graphql_api.service import INTERNAL_COMMANDS
from graphql_api.types import (
    CommandResult,
    CommandSuccess,
    ConflictProblem,
    ForbiddenProblem,
    NotFoundProblem,
    PurgeRunResult,
    RuleViolationProblem,
    ValidationProblem,
    schedule_entry,
)
from graphql_api.types.inputs import AuditAnswerInput, EntryChangesInput, answers_of, changes_of
from graphql_api.types.words import COMMAND_WORDS, command_words, words_for

INPUT_WORDS: dict[str, str] = {
    "SmartActionInput": "An agreed action: specific, with an owner and a due date [POR-6.1].",
}


@strawberry.input(description=INPUT_WORDS["SmartActionInput"])
class SmartActionInput:
    action_id: str = strawberry.field(description="The action's id, unique per child.")
    description: str = strawberry.field(description="What is to be done, specifically, in words.")
    owner: str = strawberry.field(description="Who does it (a staff id or a named person).")
    due_on: date = strawberry.field(description="The day by which the owner is to have done it.")


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
            namespace[spec.name] = strawberry.field(
                default=default, description=words_for(spec.name, cls)
            )
        else:
            namespace[spec.name] = strawberry.field(description=words_for(spec.name, cls))
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
        if name == "answers":
            return list[AuditAnswerInput], answers_of
        if name == "changes":
            return EntryChangesInput, changes_of
        raise TypeError(f"no typed GraphQL input for the mapping {name}: {hint!r}")
    if dataclasses.is_dataclass(hint):
        assert isinstance(hint, type)
        nested = _input_for(hint, f"{hint.__name__}Input", (hint.__doc__ or "").strip())

        def convert_nested(value: Any) -> Any:
            return hint(**_CONVERTERS[hint](value))

        return nested, convert_nested
    if hint in (str, int, bool, date, datetime, Decimal):
        return hint, _identity
    raise TypeError(f"no GraphQL mapping for {name}: {hint!r}")


@dataclasses.dataclass(frozen=True)
class GeneratedMutation:
    command: type[c.Command]
    field_name: str
    input_type: type
    convert: Callable[[Any], dict[str, Any]]


def _description(command: type[c.Command]) -> str:
    if command in COMMAND_WORDS:
        return command_words(command)
    doc = (command.__doc__ or "").strip()
    if doc and not doc.startswith(command.__name__ + "("):
        return doc.splitlines()[0]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", command.__name__).lower()
    return f"{words.capitalize()}."


def generated(excluded: frozenset[type[c.Command]]) -> list[GeneratedMutation]:
    found: list[GeneratedMutation] = []
    for command in sorted(handled_commands(), key=lambda k: k.__name__):
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


# -- the Mutation root ----------------------------------------------------------------------


def problem_of(error: DomainError, idempotency_key: str | None = None) -> Any:
    """A domain error as the ``CommandResult`` member that says why nothing was written;
    a reused ``idempotency_key`` is named (ADR 0027)."""
    if isinstance(error, Forbidden):
        return ForbiddenProblem(message=camel_words(error.message), rule=error.rule)
    if isinstance(error, NotFound):
        return NotFoundProblem(
            message=camel_words(error.message), field=error.field and camel(error.field)
        )
    if isinstance(error, IdempotencyKeyReused):
        return ConflictProblem(
            message=camel_words(error.message),
            retryable=False,
            reused_idempotency_key=idempotency_key,
        )
    if isinstance(error, ConcurrencyConflict):
        return ConflictProblem(message=camel_words(error.message), retryable=error.retryable)
    if isinstance(error, RuleViolation):
        return RuleViolationProblem(
            message=camel_words(error.message),
            field=error.field and camel(error.field),
            rule=error.rule,
        )
    return ValidationProblem(
        message=camel_words(error.message),
        field=error.field and camel(error.field),
        rule=error.rule,
    )


def _resolver(mutation: GeneratedMutation) -> Any:
    async def resolve(
        info: Info, input: Any, idempotency_key: str, occurred_at: datetime | None = None
    ) -> Any:
        who = info.context.who()
        service = info.context.service
        when = occurred_at or datetime.now(UTC)

        def run() -> Any:
            # The command is built as given (building it checks nothing) and authorised on
            # every subject it names before any check of its input: no field's rule may
            # answer for a subject the caller may not see (issue 23).
            try:
                command = mutation.command(
                    command_id=idempotency_key,
                    actor=service.actor(who),
                    occurred_at=when,
                    **mutation.convert(input),
                )
                done = service.execute(
                    who,
                    command,
                    checks=lambda: instant(occurred_at, "occurredAt"),
                    occurred_at_given=occurred_at is not None,
                )
            except DomainError as error:
                return problem_of(error, idempotency_key)
            except DataError:
                return ValidationProblem(
                    message="a value cannot be stored (does it contain a NUL character?)",
                    field=None,
                    rule=None,
                )
            except UNFINISHED_PURGE as error:
                unavailable.reraise(error, instead=unfinished_purge(error))
            except Exception as error:
                unavailable.reraise(error)
            return CommandSuccess(
                idempotency_key=done.command_id,
                position=strawberry.ID(str(done.position)) if done.position else None,
                replayed=done.replayed,
            )

        return await asyncio.to_thread(run)

    resolve.__annotations__ = {
        "info": Info,
        "input": Annotated[
            mutation.input_type,
            strawberry.argument(
                description="What happened, to whom: the command's fields (who records "
                "it, and in which role, comes from the token)."
            ),
        ],
        "idempotency_key": Annotated[
            str,
            strawberry.argument(
                description="Unique per command: a retry with the same key returns the "
                "first result and writes nothing again."
            ),
        ],
        "occurred_at": Annotated[
            datetime | None,
            strawberry.argument(description="Valid time: when it happened (default: now)."),
        ],
        "return": CommandResult,
    }
    return strawberry.mutation(
        resolver=resolve,
        name=mutation.field_name,
        description=mutation.input_type.__doc__ or mutation.field_name,
    )


async def _purge_due_records(
    info: Info,
    as_of: Annotated[date, strawberry.argument(description="Destroy what is due by this day.")],
    dry_run: Annotated[
        bool, strawberry.argument(description="List what would be destroyed; destroy nothing.")
    ],
) -> PurgeRunResult:
    """Destroy every record due by asOf that no legal hold covers; the data protection
    officer's alone (ADR 0012). Each is checked again from the event store; a dry run
    stops there and lists exactly those a real run would destroy."""
    who = info.context.who()
    service = info.context.service

    def run() -> PurgeRunResult:
        done = purge_api.purge_due(service, who, as_of, dry_run)
        return PurgeRunResult(
            as_of=as_of,
            dry_run=dry_run,
            destroyed=[schedule_entry(o.row, as_of) for o in done.destroyed],
            refused=[
                ValidationProblem(
                    message=f"{o.row.record_class} {o.row.record_id}: {o.refused}",
                    field=None,
                    rule=o.row.rule_id,
                )
                for o in done.outcomes
                if not o.destroyed
            ],
        )

    return await run_in_thread(run)


def _mutation_type() -> type:
    """The root: a field per generated command, and the purge run."""
    fields = {m.field_name: _resolver(m) for m in generated(INTERNAL_COMMANDS)}
    fields["purge_due_records"] = strawberry.mutation(
        resolver=_purge_due_records, description=_purge_due_records.__doc__
    )
    namespace: dict[str, Any] = {"__doc__": "Record what happened: one mutation per command."}
    namespace.update(fields)
    return strawberry.type(type("Mutation", (), namespace), description=namespace["__doc__"])


Mutation = _mutation_type()
