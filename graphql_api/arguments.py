"""Arguments and dates held to their bounds before anything runs (issue 23, ADR 0017).

A ``Date`` or ``DateTime`` out of ``SUPPORTED_DATES`` and an argument out of
``ARGUMENT_BOUNDS`` are refused by validation rules (literals) and by a walk of the
variables, each a ``BAD_USER_INPUT`` naming the argument, the input field or the variable:
a 400 before any resolver runs, never a field error after work.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    IntValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    ValidationContext,
    VariableNode,
    get_named_type,
)
from graphql.language import ArgumentNode
from graphql.type.definition import GraphQLInputType, GraphQLType

# -- dates ------------------------------------------------------------------------------------
from graphql_api.limits import BAD_USER_INPUT, DATE_SCALARS, MAX_PAGE, SUPPORTED_DATES


def _day_of(raw: object) -> date | None:
    """The day a Date or DateTime value names, or None when it is not one (the scalar
    reports that itself)."""
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw).date()
    except ValueError:
        return None


def _out_of_range(raw: object) -> bool:
    day = _day_of(raw)
    low, high = SUPPORTED_DATES
    return day is not None and not low <= day <= high


def _date_error(name: str, nodes: Any = None) -> GraphQLError:
    low, high = SUPPORTED_DATES
    return GraphQLError(
        f"{name}: dates are supported from {low.isoformat()} to {high.isoformat()}",
        nodes=nodes,
        extensions={"code": BAD_USER_INPUT, "classification": "BAD_REQUEST", "field": name},
    )


@dataclass(frozen=True)
class Bound:
    """What an argument of this name may hold: an integer in a range, or a string of a
    length in a range."""

    kind: type
    low: int
    high: int

    def problem(self, value: object) -> str | None:
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                return None  # the scalar's own check answers
            if not self.low <= value <= self.high:
                return f"must be between {self.low} and {self.high}"
        elif isinstance(value, str) and not self.low <= len(value) <= self.high:
            return f"must be {self.low} to {self.high} characters long"
        return None


#: Arguments checked before anything runs, by name, wherever they appear (a query's
#: arguments; mutations carry their fields in ``input``, checked by the domain): a
#: value out of bounds is a 400 naming the argument, never a field error after work.
ARGUMENT_BOUNDS: Mapping[str, Bound] = {
    "first": Bound(int, 1, MAX_PAGE),
    "last": Bound(int, 1, MAX_PAGE),
    "months": Bound(int, 1, 1200),
    "purpose": Bound(str, 1, 500),
    "childId": Bound(str, 1, 64),
    "staffId": Bound(str, 1, 64),
    "team": Bound(str, 1, 200),
    "id": Bound(str, 1, 512),
    "after": Bound(str, 1, 512),
    "before": Bound(str, 1, 512),
    "consistentWith": Bound(str, 1, 32),
}


def _bound_error(name: str, problem: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(
        f"{name} {problem}",
        nodes=nodes,
        extensions={"code": BAD_USER_INPUT, "classification": "BAD_REQUEST", "field": name},
    )


class ArgumentsWithinBounds(ASTValidationRule):
    """A literal argument out of ``ARGUMENT_BOUNDS`` is refused, naming it."""

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        bound = ARGUMENT_BOUNDS.get(node.name.value)
        value = node.value
        if bound is None or isinstance(value, VariableNode):
            return
        raw: object = None
        if isinstance(value, IntValueNode):
            raw = int(value.value)
        elif isinstance(value, StringValueNode):
            raw = value.value
        problem = bound.problem(raw)
        if problem:
            self.report_error(_bound_error(node.name.value, problem, node))


def variable_bound_errors(
    document: DocumentNode, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """Variables out of bounds for the arguments they are given to, named by argument."""
    errors: list[GraphQLError] = []
    seen: set[str] = set()
    for argument, variable in _variable_arguments(document):
        bound = ARGUMENT_BOUNDS.get(argument)
        if bound is None or variable not in variables or argument in seen:
            continue
        problem = bound.problem(variables[variable])
        if problem:
            seen.add(argument)
            errors.append(_bound_error(argument, problem))
    return errors


def _variable_arguments(document: DocumentNode) -> list[tuple[str, str]]:
    """(argument name, variable name) for every argument given a variable: a linear walk
    of the document's selections (fragments once each)."""
    found: list[tuple[str, str]] = []
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for argument in getattr(node, "arguments", None) or ():
            if isinstance(argument.value, VariableNode):
                found.append((argument.name.value, argument.value.name.value))
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return found


class DatesInSupportedRange(ASTValidationRule):
    """A ``Date`` or ``DateTime`` literal outside ``SUPPORTED_DATES`` is refused, naming
    the argument (and the input field) that carries it."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.context: ValidationContext = context
        self.path: list[str] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.pop()

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        named = get_named_type(self.context.get_input_type())
        if named is not None and named.name in DATE_SCALARS and _out_of_range(node.value):
            self.context.report_error(_date_error(".".join(self.path) or "value", node))


def variable_date_errors(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """Dates out of range in the variables, each named by its variable (and path)."""
    errors: list[GraphQLError] = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables:
            continue
        type_ = _input_type(schema, definition.type)
        for path in _dates_out_of_range(type_, variables[name], f"${name}"):
            errors.append(_date_error(path, definition))
    return errors


def _input_type(schema: GraphQLSchema, node: Any) -> GraphQLInputType | None:
    from graphql import type_from_ast

    found: GraphQLInputType | None = type_from_ast(schema, node)
    return found


def _dates_out_of_range(type_: GraphQLType | None, value: object, path: str) -> Iterator[str]:
    stack: list[tuple[GraphQLType | None, object, str]] = [(type_, value, path)]
    while stack:
        current, item, where = stack.pop()
        while isinstance(current, GraphQLNonNull):
            current = current.of_type
        if isinstance(current, GraphQLList):
            items = item if isinstance(item, list) else [item]
            stack.extend((current.of_type, each, f"{where}[{i}]") for i, each in enumerate(items))
        elif isinstance(current, GraphQLInputObjectType) and isinstance(item, dict):
            stack.extend(
                (current.fields[key].type, each, f"{where}.{key}")
                for key, each in item.items()
                if key in current.fields
            )
        elif getattr(current, "name", None) in DATE_SCALARS and _out_of_range(item):
            yield where
