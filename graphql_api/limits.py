"""Bounded work per request (issue 23, ADR 0017).

Everything a client sends is held to a limit before it costs us more than reading it:

- the body: its size (``max_body_bytes``, counted as it arrives in ``app.py``), JSON that
  is an object, nested at most ``max_json_depth`` deep; variables at most
  ``max_variables_depth`` deep;
- the document: at most ``max_tokens`` tokens when parsed; then, **once per fragment**
  (a fragment used twice is measured once and its figures reused, so the work is linear
  in the document, never in its expansion), its depth (introspection's own ceiling,
  ``max_introspection_depth``), its aliases, its directives and its **cost**: one a field,
  a list field's selections multiplied by the page it asks for (``first``/``last``) or
  by ``UNPAGED_LIST_SIZE``; the cost is checked against the caller's role's budget
  (``COST_BUDGETS``);
- dates: ``Date`` and ``DateTime`` values, in arguments, input objects and variables,
  within ``SUPPORTED_DATES``, named by the argument (or variable) that carries them.

Parsing and validation run in a small thread pool of their own (never on the event loop,
and never in the pool the resolvers use), within ``validation_seconds``.

A refusal is a typed error: ``extensions.code`` ``LIMITED`` with ``extensions.limit``
naming which limit, or ``BAD_USER_INPUT`` for a date out of range.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from threading import Lock
from typing import Any, ClassVar

import orjson
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    parse,
    validate,
)
from graphql.language import ArgumentNode
from graphql.type.definition import GraphQLInputType, GraphQLType
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from domain.authorization import AccessRole

LIMITED = "LIMITED"
BAD_USER_INPUT = "BAD_USER_INPUT"

#: The largest page a connection serves (``first``/``last``): a larger one is refused
#: by the resolver, so the cost counts at most this.
MAX_PAGE = 200
#: A list field that takes no page size counts as this many items.
UNPAGED_LIST_SIZE = 100
#: The page size assumed for ``first``/``last`` given by a variable that is absent.
DEFAULT_PAGE = 50
#: What a mutation field costs beside its selections: a write (one transaction).
MUTATION_COST = 10

#: Query cost budgets per role (docs/security.md gives the figures and how to read them).
#: Without a token only introspection answers; the standard introspection query costs 220.
COST_BUDGETS: Mapping[AccessRole | None, int] = {
    None: 1_000,
    AccessRole.PRACTITIONER: 5_000,
    AccessRole.TEAM_MANAGER: 20_000,
    AccessRole.SERVICE_MANAGER: 20_000,
    AccessRole.HEAD_OF_SERVICE: 20_000,
    AccessRole.QA_AUDITOR: 20_000,
    AccessRole.INSPECTOR: 20_000,
    AccessRole.INVESTIGATING_OFFICER: 5_000,
    AccessRole.HR: 5_000,
    AccessRole.DATA_PROTECTION_OFFICER: 20_000,
    AccessRole.ADMINISTRATOR: 5_000,
}

#: The dates the API takes, in arguments and variables alike. Wide enough for a child's
#: date of birth and for the latest retention date any pack sets (100 years after an
#: adoption order [AAR-42]); beyond it the calendar's arithmetic is not defined for us.
SUPPORTED_DATES = (date(1900, 1, 1), date(2199, 12, 31))
DATE_SCALARS = frozenset({"Date", "DateTime"})


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server. The defaults are production's."""

    max_body_bytes: int = 1_000_000
    max_json_depth: int = 32
    max_variables_depth: int = 8
    max_depth: int = 12
    max_introspection_depth: int = 16
    max_aliases: int = 20
    max_directives: int = 50
    #: An upper bound of the comparisons that check fields of one response name can be
    #: merged: quadratic in the repeats (800 copies of ``viewer { staffId }`` took 1.3 s).
    max_overlap: int = 50_000
    max_tokens: int = 5_000
    validation_seconds: float = 2.0
    cost_budgets: Mapping[AccessRole | None, int] = field(default_factory=lambda: COST_BUDGETS)
    #: Requests a second per principal (or, without a token, per client address), and
    #: the burst allowed above it; ``None`` turns the rate limit off.
    rate_per_second: float | None = None
    rate_burst: int = 100
    introspection: bool = True
    ide: bool = True
    #: Trusted documents: the only documents executed (sha256 of the text -> text), as
    #: written by graphql-codegen's persisted documents; ``None`` accepts any document.
    trusted_documents: Mapping[str, str] | None = None
    #: Automatic persisted queries (Apollo's protocol): a client may send a document's
    #: hash alone once it has sent the document with it. Development only by default.
    automatic_persisted_queries: bool = False


class RequestRefused(Exception):
    """A request refused before any GraphQL work: answered as a typed JSON error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extensions = extensions


def limited(message: str, limit: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={"code": LIMITED, "classification": "BAD_REQUEST", "limit": limit, **extensions},
    )


# -- the body ------------------------------------------------------------------------------


def load_body(data: str | bytes, limits: Limits) -> object:
    """The request body as JSON: an object (or a batch's array), nested within bounds.
    orjson refuses what ``json`` would turn into a crash or a surprise: infinite numbers
    (``1e999999``), ``NaN``, and nesting past 1,024 levels (``json`` recurses until the
    interpreter's stack gives out)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if "depth" in str(error) or "recursion" in str(error):
            raise RequestRefused(
                400,
                LIMITED,
                f"the request body nests deeper than {limits.max_json_depth} levels",
                limit="jsonDepth",
            ) from None
        raise RequestRefused(
            400, "BAD_REQUEST", "the request body is not JSON (RFC 8259)"
        ) from None
    if not isinstance(value, dict | list):
        raise RequestRefused(400, "BAD_REQUEST", "the request body must be a JSON object")
    if depth_of(value, limits.max_json_depth) > limits.max_json_depth:
        raise RequestRefused(
            400,
            LIMITED,
            f"the request body nests deeper than {limits.max_json_depth} levels",
            limit="jsonDepth",
        )
    return value


def depth_of(value: object, ceiling: int) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), looking no further
    than ``ceiling + 1`` levels: iterative, so no input can exhaust the stack."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if level > ceiling:
            return level
        stack.extend((child, level) for child in children)
    return deepest


# -- trusted documents and automatic persisted queries ---------------------------------------


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedDocuments:
    """Resolves ``extensions.persistedQuery.sha256Hash`` to a document, and in trusted
    mode refuses any document not in the allow-list."""

    def __init__(self, limits: Limits, capacity: int = 10_000) -> None:
        self.trusted = dict(limits.trusted_documents) if limits.trusted_documents else None
        self.automatic = limits.automatic_persisted_queries
        self.capacity = capacity
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            trusted = self.trusted
            if query is not None and trusted is not None and document_hash(query) not in trusted:
                raise RequestRefused(
                    400,
                    "FORBIDDEN",
                    "this server runs trusted documents only",
                    rule="TRUSTED-DOCUMENTS",
                )
            return query
        if not isinstance(persisted, dict):
            raise RequestRefused(
                400,
                BAD_USER_INPUT,
                "extensions.persistedQuery must be an object",
                field="extensions.persistedQuery",
            )
        wanted = persisted.get("sha256Hash")
        if not (
            isinstance(wanted, str)
            and len(wanted) == 64
            and all(c in "0123456789abcdef" for c in wanted)
        ):
            raise RequestRefused(
                400,
                BAD_USER_INPUT,
                "sha256Hash must be 64 lower-case hexadecimal digits",
                field="extensions.persistedQuery.sha256Hash",
            )
        if self.trusted is None and not self.automatic:
            raise RequestRefused(
                400, "PERSISTED_QUERY_NOT_SUPPORTED", "persisted queries are not enabled"
            )
        if query is not None:
            if document_hash(query) != wanted:
                raise RequestRefused(
                    400,
                    BAD_USER_INPUT,
                    "the document's sha256 is not sha256Hash",
                    field="extensions.persistedQuery.sha256Hash",
                )
            if self.trusted is not None:
                if wanted not in self.trusted:
                    raise RequestRefused(
                        400,
                        "FORBIDDEN",
                        "this server runs trusted documents only",
                        rule="TRUSTED-DOCUMENTS",
                    )
                return query
            with self._lock:
                self._known[wanted] = query
                self._known.move_to_end(wanted)
                while len(self._known) > self.capacity:
                    self._known.popitem(last=False)
            return query
        found = self.trusted.get(wanted) if self.trusted is not None else None
        if found is None:
            with self._lock:
                found = self._known.get(wanted)
        if found is None:
            raise RequestRefused(
                400, "PERSISTED_QUERY_NOT_FOUND", "no document is known by this sha256Hash"
            )
        return found


# -- the rate ---------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per key (a principal, or a client address without a token).
    In-process: each API process counts its own (docs/security.md)."""

    def __init__(self, per_second: float, burst: int, max_keys: int = 100_000) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a request may go ahead, else the seconds until it may."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, since = self._buckets.pop(key, (float(self.burst), moment))
            tokens = min(float(self.burst), tokens + (moment - since) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.per_second
            self._buckets[key] = (tokens, moment)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


# -- the document -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A selection set's figures: fields on its longest path (and on its longest path
    into introspection), aliases and directives in it, and its cost; and for the work of
    checking that fields of one response name can be merged (graphql-core's
    OverlappingFieldsCanBeMergedRule compares every such pair, and their selections,
    recursively): ``size`` (field nodes in it, every spread expanded), ``overlap`` (an
    upper bound of that rule's comparisons) and ``names`` (each response name at its top
    level, with the sum and the sum of squares of those fields' sizes)."""

    depth: int = 0
    introspection_depth: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0
    size: int = 0
    overlap: int = 0
    names: tuple[tuple[str, int, int], ...] = ()


class TooLong(Exception):
    """The document's check ran past its time budget."""


class DocumentMeasurer:
    """Measures an operation, each fragment once (memoised), checking the clock."""

    CHECK_EVERY: ClassVar[int] = 256

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        deadline: float,
        unknown_page: int = DEFAULT_PAGE,
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        #: A page given by a variable with no value: DEFAULT_PAGE for a request, 1 for
        #: the least a document can cost whatever its variables.
        self.unknown_page = unknown_page
        self.deadline = deadline
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[str, Measure] = {}
        self.visiting: set[str] = set()
        self.steps = 0

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[operation.operation.value]
        extra = MUTATION_COST if operation.operation.value == "mutation" else 0
        return self.selections(operation.selection_set, root, paged=False, per_field=extra)

    def _tick(self) -> None:
        self.steps += 1
        if self.steps % self.CHECK_EVERY == 0 and time.monotonic() > self.deadline:
            raise TooLong

    def fragment(self, name: str, paged: bool) -> Measure:
        key = f"{name}:{paged}"
        if key in self.done:
            return self.done[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Measure()  # unknown or cyclic: the validation rules report it
        self.visiting.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selections(definition.selection_set, parent, paged=paged)
        self.visiting.discard(name)
        self.done[key] = measure
        return measure

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLType | None,
        *,
        paged: bool,
        per_field: int = 0,
    ) -> Measure:
        depth = introspection = aliases = directives = cost = size = overlap = 0
        names: dict[str, list[int]] = {}
        for selection in selection_set.selections if selection_set else ():
            self._tick()
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                child = self.field(selection, parent, paged=paged)
                child_cost = child.cost + per_field
                key = selection.alias.value if selection.alias else selection.name.value
                merged = [(key, child.size, child.size * child.size)]
            elif isinstance(selection, FragmentSpreadNode):
                child = self.fragment(selection.name.value, paged)
                child_cost = child.cost
                merged = list(child.names)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                child = self.selections(selection.selection_set, condition, paged=paged)
                child_cost = child.cost
                merged = list(child.names)
            else:  # pragma: no cover - the grammar has no other selection
                continue
            depth = max(depth, child.depth)
            introspection = max(introspection, child.introspection_depth)
            aliases += child.aliases
            directives += child.directives
            cost += child_cost
            size += child.size
            overlap += child.overlap
            for key, total, squares in merged:
                sums = names.setdefault(key, [0, 0])
                sums[0] += total
                sums[1] += squares
        # Fields of one response name are compared pairwise, each pair as deep as their
        # selections: at most (sum of sizes)^2 - (sum of squared sizes), halved.
        overlap += sum((total * total - squares) // 2 for total, squares in names.values())
        return Measure(
            depth, introspection, aliases, directives, cost, size, overlap,
            tuple((key, total, squares) for key, (total, squares) in names.items()),
        )  # fmt: skip

    def field(self, node: FieldNode, parent: GraphQLType | None, *, paged: bool) -> Measure:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if isinstance(fields, dict) else None
        if name == "__schema":
            result_type: GraphQLType | None = self.schema.get_type("__Schema")
        elif name == "__type":
            result_type = self.schema.get_type("__Type")
        else:
            result_type = definition.type if definition is not None else None
        page = self._page(node, definition)
        is_list = _is_list(result_type)
        introspective = name.startswith("__") or (
            parent is not None and getattr(parent, "name", "").startswith("__")
        )
        if page is not None:
            multiplier = page  # a connection (or a list) of at most this many items
        elif is_list and introspective:
            multiplier = 1  # the schema's own size bounds it, and the depth ceiling
        elif is_list and paged:
            multiplier = 1  # a connection's edges: the page was counted by the connection
        elif is_list:
            multiplier = UNPAGED_LIST_SIZE
        else:
            multiplier = 1
        inner = self.selections(
            node.selection_set, get_named_type(result_type), paged=page is not None
        )
        depth = 1 + inner.depth
        introspection_depth = (
            1 + max(inner.introspection_depth, inner.depth)
            if name in ("__schema", "__type")
            else (1 + inner.introspection_depth if inner.introspection_depth else 0)
        )
        return Measure(
            depth=0 if name in ("__schema", "__type") else depth,
            introspection_depth=introspection_depth,
            aliases=inner.aliases + (1 if node.alias else 0),
            directives=inner.directives,
            cost=1 + multiplier * inner.cost,
            size=1 + inner.size,
            overlap=inner.overlap,
        )

    def _page(self, node: FieldNode, definition: Any) -> int | None:
        """The page a field asks for: its ``first`` or ``last`` (a literal, a variable's
        value, or the argument's default), or None when it takes neither."""
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return min(MAX_PAGE, max(0, int(value.value)))
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return min(MAX_PAGE, max(0, given))
                return self.unknown_page
        arguments = getattr(definition, "args", None) or {}
        for name in ("first", "last"):
            default = getattr(arguments.get(name), "default_value", None)
            if isinstance(default, int):
                return default
        return None


def _is_list(type_: GraphQLType | None) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


# -- dates ------------------------------------------------------------------------------------


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


# -- the gate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A document's verdict that does not depend on the request: kept per text."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentGate:
    """Parses and validates documents in its own threads, within the time budget; keeps
    the verdicts of the texts it has seen (front ends send the same few again and again)."""

    def __init__(self, schema: GraphQLSchema, limits: Limits, cache_size: int = 512) -> None:
        self.schema = schema
        self.limits = limits
        self.cache_size = cache_size
        self._checked: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], Checked] = (
            OrderedDict()
        )
        self._lock = Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-check")

    async def verdict(self, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Checked:
        """The document parsed, measured and validated (kept per text and rules)."""
        deadline = time.monotonic() + self.limits.validation_seconds
        checked: Checked = await self._in_pool(self._verdict, query, rules, deadline)
        return checked

    async def check(
        self,
        query: str,
        rules: tuple[type[ASTValidationRule], ...],
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: AccessRole | None,
    ) -> list[GraphQLError]:
        """Every error of this request's document, variables and cost for this role."""
        deadline = time.monotonic() + self.limits.validation_seconds
        errors: list[GraphQLError] = await self._in_pool(
            self._check, query, rules, variables, operation_name, role, deadline
        )
        return errors

    async def _in_pool(self, func: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._pool, func, *args)
        try:
            return await asyncio.wait_for(work, timeout=self.limits.validation_seconds)
        except (TimeoutError, TooLong):
            error = limited(
                f"the document could not be checked within {self.limits.validation_seconds} s",
                "validationTime",
            )
            if func == self._verdict:
                return Checked(None, (error,))
            return [error]

    def _check(
        self,
        query: str,
        rules: tuple[type[ASTValidationRule], ...],
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: AccessRole | None,
        deadline: float,
    ) -> list[GraphQLError]:
        checked = self._verdict(query, rules, deadline)
        if checked.errors or checked.document is None:
            return list(checked.errors)
        operation = _operation(checked.document, operation_name)
        if operation is None:
            return []  # strawberry reports the operation it cannot find
        errors = variable_date_errors(self.schema, operation, variables or {})
        errors += variable_bound_errors(checked.document, variables or {})
        if errors:
            return errors
        try:
            measure = DocumentMeasurer(
                self.schema, checked.document, variables, deadline
            ).operation(operation)
        except RecursionError:
            return [limited("the document nests too deeply", "nesting")]
        budget = self.limits.cost_budgets.get(role, min(self.limits.cost_budgets.values()))
        if measure.cost > budget:
            return [
                limited(
                    f"the operation would cost {measure.cost}; this role's budget is {budget}",
                    "cost",
                    cost=measure.cost,
                    budget=budget,
                )
            ]
        return []

    def _verdict(
        self, query: str, rules: tuple[type[ASTValidationRule], ...], deadline: float
    ) -> Checked:
        key = (query, rules)
        with self._lock:
            found = self._checked.get(key)
            if found is not None:
                self._checked.move_to_end(key)
                return found
        try:
            verdict = self._first_check(query, rules, deadline)
        except RecursionError:
            # Selections or fragments nested past what a recursive descent can follow:
            # no client needs that, and it is refused before anything else runs.
            verdict = Checked(None, (limited("the document nests too deeply", "nesting"),))
        with self._lock:
            self._checked[key] = verdict
            while len(self._checked) > self.cache_size:
                self._checked.popitem(last=False)
        return verdict

    def _first_check(
        self, query: str, rules: tuple[type[ASTValidationRule], ...], deadline: float
    ) -> Checked:
        limits = self.limits
        try:
            document = parse(query, max_tokens=limits.max_tokens)
        except GraphQLError as error:
            if "nested too deeply" in error.message:
                return Checked(None, (limited("the document nests too deeply", "nesting"),))
            if "tokens. Parsing aborted" in error.message:
                return Checked(
                    None,
                    (limited(f"the document has more than {limits.max_tokens} tokens", "tokens"),),
                )
            return Checked(None, (error,))
        # Measured first, with no variables: depth, aliases and directives do not depend
        # on them, and a document over them is refused before the validation rules run.
        measurer = DocumentMeasurer(self.schema, document, None, deadline, unknown_page=1)
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            measure = measurer.operation(definition)
            if measure.depth > limits.max_depth:
                return Checked(
                    document,
                    (limited(f"the query is deeper than {limits.max_depth} fields", "depth"),),
                )
            if measure.introspection_depth > limits.max_introspection_depth:
                return Checked(
                    document,
                    (
                        limited(
                            "the introspection query is deeper than "
                            f"{limits.max_introspection_depth} fields",
                            "introspectionDepth",
                        ),
                    ),
                )
            if measure.aliases > limits.max_aliases:
                return Checked(
                    document,
                    (limited(f"the query has more than {limits.max_aliases} aliases", "aliases"),),
                )
            ceiling = max(limits.cost_budgets.values())
            if measure.cost > ceiling:
                # Pages given by variables count as one item here, so this is the least
                # the operation can cost: over every role's budget, nothing can run it.
                return Checked(
                    document,
                    (
                        limited(
                            f"the operation would cost at least {measure.cost}; "
                            f"no role's budget is above {ceiling}",
                            "cost",
                            cost=measure.cost,
                            budget=ceiling,
                        ),
                    ),
                )
            if measure.overlap > limits.max_overlap:
                return Checked(
                    document,
                    (
                        limited(
                            "the query repeats fields of one name too often to be checked",
                            "overlappingFields",
                        ),
                    ),
                )
            if measure.directives > limits.max_directives:
                return Checked(
                    document,
                    (
                        limited(
                            f"the query has more than {limits.max_directives} directives",
                            "directives",
                        ),
                    ),
                )
        if time.monotonic() > deadline:
            raise TooLong
        all_rules = (
            *rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            DatesInSupportedRange,
            ArgumentsWithinBounds,
        )
        errors = validate(self.schema, document, all_rules, max_errors=20)
        return Checked(document, tuple(errors))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class BoundedDocuments(SchemaExtension):
    """Hands parsing and validation to the gate (off the event loop, within the budget).
    A document that cannot be parsed, or is over a limit before validation, is replaced
    by a stand-in so that strawberry never parses it on the event loop: the gate's errors
    are the answer."""

    STAND_IN: ClassVar[DocumentNode] = parse("{ __typename }")

    def __init__(self, gate: DocumentGate) -> None:
        super().__init__()
        self.gate = gate
        self.refused: list[GraphQLError] | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.gate.limits.max_tokens
        if context.graphql_document is None and context.query is not None:
            verdict = await self.gate.verdict(context.query, tuple(context.validation_rules))
            if verdict.document is None:
                context.graphql_document = self.STAND_IN
                self.refused = list(verdict.errors)
            else:
                context.graphql_document = verdict.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.refused is not None:
            context.pre_execution_errors = self.refused
        elif context.pre_execution_errors is None and context.query is not None:
            principal = getattr(context.context, "principal", None)
            context.pre_execution_errors = await self.gate.check(
                context.query,
                tuple(context.validation_rules),
                context.variables,
                context.operation_name,
                getattr(principal, "role", None),
            )
        yield


def variables_too_deep(variables: object, limits: Limits) -> bool:
    return depth_of(variables, limits.max_variables_depth) > limits.max_variables_depth


def document_text_for_log(query: str | None) -> str:
    """What a log line says of a document: its sha256, never its text."""
    return document_hash(query)[:16] if query else "-"
