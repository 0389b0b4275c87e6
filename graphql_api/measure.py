"""The figures of a document, measured once per fragment (issue 23, ADR 0017).

A fragment spread twice is measured once and its figures reused, so the work is linear
in the document, never in its expansion (strawberry's depth and alias validators walked
every spread again: 21 chained fragments took 8.7 s). The figures: fields on the longest
path (and into introspection), aliases, directives, the cost (``limits.py`` says how a
field and a page count), and a bound of graphql-core's pairwise merge check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type.definition import GraphQLType

# -- the document -----------------------------------------------------------------------------
from graphql_api.limits import DEFAULT_PAGE, MAX_PAGE, MUTATION_COST, UNPAGED_LIST_SIZE


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
        elif is_list and _counted(definition) is not None:
            multiplier = _counted(definition) or 0  # values read with their row (ADR 0028)
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
        if "first" in arguments or "last" in arguments:
            return DEFAULT_PAGE  # a connection asked with neither serves its default page
        return None


def _counted(definition: Any) -> int | None:
    """How many items a list field counts as, where its type says (``counted_items`` in
    the field's metadata): a list of values read with the row that holds them (an audit
    tool's answers, a correction's changes, an entry's citations) runs no resolver per
    item, so it costs as its parent's field does, not ``UNPAGED_LIST_SIZE`` times."""
    extensions = getattr(definition, "extensions", None) or {}
    metadata = getattr(extensions.get("strawberry-definition"), "metadata", None) or {}
    counted = metadata.get("counted_items")
    return counted if isinstance(counted, int) else None


def _is_list(type_: GraphQLType | None) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
