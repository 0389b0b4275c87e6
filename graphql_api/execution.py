"""How the schema is executed: strawberry and graphql-core, with three lookups in place
of per-value work that a child's history repeats for each of its events (issue 18).

A child's state at two instants is about fifty events, each behind the ``Event``
interface and each with a few leaf fields. Executing them is most of what GraphQL adds
to such a read, and three parts of that work are the same for every value:

- an enum member's name (``_enum_names_by_lookup``);
- an interface's object type for a value (``_interface_types_by_lookup``);
- a plain leaf field: strawberry reads it with ``getattr`` and no ``Info``, but
  graphql-core still builds an ``Info`` and walks the completion of every field
  (``PlainLeaves``).

Each lookup answers exactly what the code it stands in for answers, and hands anything
it does not know (an error, a null where none may be, a value of another class) to that
code: ``tests/graphql_api/test_typed_schema.py`` holds the enum and interface lookups to
strawberry's own answers, ``tests/graphql_api/test_execution.py`` holds ``PlainLeaves``
to graphql-core's (ADR 0036).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.base import StrawberryObjectDefinition


def arrange(schema: strawberry.Schema) -> None:
    """Install the lookups on a schema just built (once, before it serves a request)."""
    _enum_names_by_lookup(schema._schema)
    _interface_types_by_lookup(schema)
    schema.execution_context_class = plain_leaves(schema._schema)


class PlainField(NamedTuple):
    """A field strawberry reads by ``getattr`` alone, with what it takes to write it."""

    resolve: Callable[..., Any]  # strawberry's basic resolver, which takes no Info
    leaf: GraphQLLeafType
    nullable: bool


def plain_fields(schema: GraphQLSchema) -> dict[int, PlainField]:
    """The fields strawberry itself reads with ``getattr`` alone: its definition is a
    basic field (no resolver of ours, no permission, no extension) and strawberry gave it
    its basic resolver (``_get_basic_result``: no exception handler either); with no
    argument, and a scalar or an enum type, nullable or not. By the field's identity (a
    ``GraphQLField`` is not hashable)."""
    plain: dict[int, PlainField] = {}
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get("strawberry-definition")
            if (
                field.args
                or field.resolve is None
                or not getattr(definition, "is_basic_field", False)
                or getattr(field.resolve, "__name__", "") != "_get_basic_result"
            ):
                continue
            nullable = not is_non_null_type(field.type)
            leaf = field.type if nullable else field.type.of_type
            if is_leaf_type(leaf):
                plain[id(field)] = PlainField(field.resolve, leaf, nullable)
    return plain


#: How an object whose selected fields are all plain is written: each field's response
#: name and how to write it (None: ``__typename``).
Plan = tuple[tuple[str, PlainField | None], ...]

#: What ``_written`` answers where graphql-core must write the value itself.
AWAY = object()


def plain_leaves(schema: GraphQLSchema) -> type[StrawberryGraphQLCoreExecutionContext]:
    """strawberry's execution context for ``schema``, reading plain fields
    (``plain_fields``) without building an ``Info`` or walking the completion: the
    value strawberry's resolver gives, written by its type (a null, where the field may
    be null). An object whose selection is all plain fields (and ``__typename``) is
    written in one step, and so is a list of such objects. A null where none may be, an
    error, an awaitable or a value its type refuses goes the whole way instead (the
    object's or list's other fields are read again: a plain read is a ``getattr``), so
    that graphql-core reports or completes it, at its path. With any middleware (an
    extension that wraps resolvers), or within ``@defer`` or ``@stream``, graphql-core
    does everything."""
    plain = plain_fields(schema)

    class PlainLeaves(StrawberryGraphQLCoreExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            manager = self.middleware_manager  # strawberry's, even with no middleware
            self._plain = manager is None or not manager.middlewares
            #: Each selection's plan, by the identity of graphql-core's memoized field
            #: set (kept with it, as graphql-core keeps it, so its id is not reused).
            self._plans: dict[int, tuple[Any, Plan | None]] = {}
            #: An interface's or union's object types, checked, by their names.
            self._runtime_types: dict[tuple[str, str], GraphQLObjectType] = {}

        def complete_list_value(
            self,
            return_type: Any,
            field_details_list: Any,
            info: Any,
            path: Any,
            result: Any,
            position_context: Any,
        ) -> Any:
            if self._plain and position_context is None and isinstance(result, (list, tuple)):
                written = self._list_written(return_type.of_type, field_details_list, info, result)
                if written is not None:
                    return written
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )

        def _list_written(
            self, item_type: Any, field_details_list: Any, info: Any, items: Sequence[Any]
        ) -> list[Any] | None:
            """A list of objects (or of an interface's or union's objects) each written
            by its plan, in one step; or None where an item needs graphql-core (a null,
            an error or an awaitable in the list, a type its interface does not resolve,
            a field that is not plain, a directive on the list such as ``@stream``)."""
            named = item_type.of_type if is_non_null_type(item_type) else item_type
            abstract = is_abstract_type(named)
            if not (abstract or is_object_type(named)) or any(
                details.node.directives for details in field_details_list
            ):
                return None
            written: list[Any] = []
            try:
                for item in items:
                    if (
                        item is None
                        or item is Undefined
                        or isinstance(item, Exception)
                        or self.is_awaitable(item)
                    ):
                        return None
                    runtime = self._runtime_type(named, item, field_details_list, info)
                    if runtime is None:
                        return None
                    if runtime.is_type_of is not None and not runtime.is_type_of(item, info):
                        return None
                    grouped, deferred, _ = self.collect_subfields(runtime, field_details_list)
                    if deferred:
                        return None
                    plan = self._plan_of(runtime, grouped)
                    if plan is None:
                        return None
                    one = _object_written(plan, runtime.name, item)
                    if one is None:
                        return None
                    written.append(one)
            except Exception:
                return None  # graphql-core goes again, and reports it at its path
            return written

        def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
            """The plan for this selection of ``parent_type`` (``_plan``), made once a
            request for each of graphql-core's memoized field sets."""
            kept = self._plans.get(id(grouped_field_set))
            if kept is None:
                kept = grouped_field_set, _plan(parent_type, grouped_field_set, plain)
                self._plans[id(grouped_field_set)] = kept
            return kept[1]

        def _runtime_type(
            self, named: Any, item: Any, field_details_list: Any, info: Any
        ) -> GraphQLObjectType | None:
            """The object type of a list's item: the list's own, or the one its
            interface or union resolves the item to (by its own resolver, for each item;
            the name checked by graphql-core's rules once per request)."""
            if not is_abstract_type(named):
                return cast("GraphQLObjectType", named)
            name = named.resolve_type(item, info, named) if named.resolve_type else None
            if not isinstance(name, str):
                return None
            found = self._runtime_types.get((named.name, name))
            if found is None:
                found = self.ensure_valid_runtime_type(name, named, field_details_list, info, item)
                self._runtime_types[(named.name, name)] = found
            return found

        def execute_collected_subfields(
            self,
            parent_type: GraphQLObjectType,
            source_value: Any,
            path: Any,
            grouped_field_set: Any,
            new_defer_usages: Any,
            delivery_group_map: Any,
        ) -> Any:
            if self._plain and delivery_group_map is None and not new_defer_usages:
                plan = self._plan_of(parent_type, grouped_field_set)
                if plan is not None:
                    written = _object_written(plan, parent_type.name, source_value)
                    if written is not None:
                        return written
            return super().execute_collected_subfields(
                parent_type,
                source_value,
                path,
                grouped_field_set,
                new_defer_usages,
                delivery_group_map,
            )

        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: Any,
            path: Any,
            position_context: Any,
        ) -> Any:
            if self._plain:
                field = parent_type.fields.get(field_details_list[0].node.name.value)
                known = plain.get(id(field))
                if known is not None:
                    written = _written(known, source)
                    if written is not AWAY:
                        return written
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )

    return PlainLeaves


def _plan(
    parent_type: GraphQLObjectType, grouped_field_set: Any, plain: dict[int, PlainField]
) -> Plan | None:
    """How to write an object of ``parent_type`` for this selection, if every field in it
    is plain or ``__typename``; else None."""
    plan: list[tuple[str, PlainField | None]] = []
    for response_name, field_details_list in grouped_field_set.items():
        name = field_details_list[0].node.name.value
        if name == "__typename":
            plan.append((response_name, None))
            continue
        known = plain.get(id(parent_type.fields.get(name)))
        if known is None:
            return None
        plan.append((response_name, known))
    return tuple(plan)


def _object_written(plan: Plan, type_name: str, source: Any) -> dict[str, Any] | None:
    """An object written by its plan, in the selection's order; or None if one of its
    fields needs graphql-core."""
    written: dict[str, Any] = {}
    for response_name, known in plan:
        if known is None:
            written[response_name] = type_name  # graphql-core's __typename: the type's name
            continue
        value = _written(known, source)
        if value is AWAY:
            return None
        written[response_name] = value
    return written


def _written(known: PlainField, source: Any) -> Any:
    """A plain field's value as graphql-core writes it (a null for a nullable field that
    holds none), or ``AWAY`` where graphql-core has more to do: a null where none may be,
    an error to locate, an awaitable to wait for, a value its type cannot write."""
    try:
        value = known.resolve(source, None)  # strawberry's own call: it takes no Info
        if value is None or value is Undefined:
            return None if known.nullable else AWAY
        if isinstance(value, Exception) or hasattr(value, "__await__"):
            return AWAY
        written = known.leaf.coerce_output_value(value)
    except Exception:
        return AWAY  # graphql-core calls again, and locates the error at its path
    return AWAY if written is None or written is Undefined else written


def _enum_names_by_lookup(schema: GraphQLSchema) -> None:
    """Each enum's output by a dictionary from member to name. strawberry finds a
    member's name by comparing it with every value of its enum in turn, through the
    ``Enum.value`` property: a child's history of 50 events, each with its kind (one
    of about 60), spent about a tenth of its request there (issue 18, session 14). The
    same names: the first value equal to the member's, as strawberry's loop finds;
    anything else (a raw value) goes to strawberry's own."""
    for named in schema.type_map.values():
        if not isinstance(named, CustomGraphQLEnumType):
            continue
        names: dict[Any, str] = {}
        members: list[Any] = list(named.wrapped_cls)
        for member in members:
            for name, value in named.values.items():
                if member.value == value.value:
                    names[member] = name
                    break
        named.coerce_output_value = _lookup(  # type: ignore[method-assign, assignment]
            named.wrapped_cls, names, named.coerce_output_value
        )


def _interface_types_by_lookup(schema: strawberry.Schema) -> None:
    """Each interface resolves an object's type by a dictionary from its class to the
    type's name. strawberry's resolver first looks for a ``strawberry.cast`` on the
    object, then checks it against the interface and reads its definition: a child's
    history of 50 events, each behind the ``Event`` interface, spent about a seventh of
    its execution there (issue 18, session 14). The same name for every object type that
    implements the interface (its definition's, as strawberry's gives it); anything else
    goes to strawberry's own."""
    converted = schema.schema_converter.type_map
    for concrete in converted.values():
        interface = concrete.definition
        graphql_type = concrete.implementation
        if not isinstance(graphql_type, GraphQLInterfaceType) or not isinstance(
            interface, StrawberryObjectDefinition
        ):
            continue
        origin = interface.origin
        names = {
            other.definition.origin: other.definition.name
            for other in converted.values()
            if isinstance(other.implementation, GraphQLObjectType)
            and isinstance(other.definition, StrawberryObjectDefinition)
            and not other.definition.is_graphql_generic
            and issubclass(other.definition.origin, origin)
        }
        if graphql_type.resolve_type is not None:
            graphql_type.resolve_type = _by_class(names, graphql_type.resolve_type)


def _by_class(names: dict[type, str], otherwise: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_type(obj: Any, info: Any, abstract_type: Any) -> Any:
        name = names.get(type(obj))
        return name if name is not None else otherwise(obj, info, abstract_type)

    resolve_type.__wrapped__ = otherwise  # type: ignore[attr-defined]  # strawberry's own, for tests
    return resolve_type


def _lookup(
    members: type, names: dict[Any, str], otherwise: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    def coerce_output_value(output_value: Any) -> Any:
        if isinstance(output_value, members):  # strawberry's test: a member, not a value
            name = names.get(output_value)
            if name is not None:
                return name
        return otherwise(output_value)

    return coerce_output_value
