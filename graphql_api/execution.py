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
it does not know (an error, a null, a value of another class) to that code: the tests in
``tests/graphql_api/test_typed_schema.py`` hold each to strawberry's own answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

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


def plain_fields(schema: GraphQLSchema) -> dict[int, GraphQLLeafType]:
    """The fields strawberry reads with ``getattr`` alone (it marks their resolver
    ``_is_default``: no resolver of ours, no permission, no extension), that take no
    argument and whose type is a scalar or an enum, nullable or not: each field's leaf
    type, by the field's identity (a ``GraphQLField`` is not hashable)."""
    plain: dict[int, GraphQLLeafType] = {}
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            if field.args or not getattr(field.resolve, "_is_default", False):
                continue
            leaf = field.type.of_type if is_non_null_type(field.type) else field.type
            if is_leaf_type(leaf):
                plain[id(field)] = leaf
    return plain


#: How an object whose selected fields are all plain leaves is written: each field's
#: response name, strawberry's resolver and leaf type (None and None: ``__typename``).
Plan = tuple[tuple[str, Callable[..., Any] | None, GraphQLLeafType | None], ...]


def plain_leaves(schema: GraphQLSchema) -> type[StrawberryGraphQLCoreExecutionContext]:
    """strawberry's execution context for ``schema``, reading plain leaf fields
    (``plain_fields``) without building an ``Info`` or walking the completion: the
    value strawberry's resolver gives, written by its type. An object whose selection is
    all plain leaves (and ``__typename``) is written in one step. A null, an error or an
    awaitable goes the whole way instead (the object's other fields are read again, as
    a plain read is a ``getattr``), so that it is reported, or completed, as graphql-core
    does it, at its path. With any middleware (an extension that wraps resolvers), or
    with ``@defer``, graphql-core does everything."""
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
            if self._plain and isinstance(result, (list, tuple)):
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
            a type not known by its class, a field that is not a plain leaf, a
            directive on the list such as ``@stream``)."""
            named = item_type.of_type if is_non_null_type(item_type) else item_type
            abstract = is_abstract_type(named)
            if not (abstract or is_object_type(named)) or any(
                details.node.directives for details in field_details_list
            ):
                return None
            written: list[Any] = []
            try:
                for item in items:
                    if item is None:
                        return None
                    runtime = self._runtime_type(named, item, field_details_list, info)
                    if runtime is None:
                        return None
                    if runtime.is_type_of is not None and not runtime.is_type_of(item, info):
                        return None
                    grouped, deferred, _ = self.collect_subfields(runtime, field_details_list)
                    if deferred:
                        return None
                    kept = self._plans.get(id(grouped))
                    if kept is None:
                        kept = grouped, _plan(runtime, grouped, plain)
                        self._plans[id(grouped)] = kept
                    if kept[1] is None:
                        return None
                    one = _object_written(kept[1], runtime.name, item)
                    if one is None:
                        return None
                    written.append(one)
            except Exception:
                return None  # graphql-core goes again, and reports it at its path
            return written

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
                kept = self._plans.get(id(grouped_field_set))
                if kept is None:
                    kept = grouped_field_set, _plan(parent_type, grouped_field_set, plain)
                    self._plans[id(grouped_field_set)] = kept
                if kept[1] is not None:
                    written = _object_written(kept[1], parent_type.name, source_value)
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
                leaf = plain.get(id(field))
                if leaf is not None and field is not None:
                    written = _written(field.resolve, leaf, source)
                    if written is not None:
                        return written
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )

    return PlainLeaves


def _plan(
    parent_type: GraphQLObjectType, grouped_field_set: Any, plain: dict[int, GraphQLLeafType]
) -> Plan | None:
    """How to write an object of ``parent_type`` for this selection, if every field in it
    is a plain leaf or ``__typename``; else None."""
    plan: list[tuple[str, Callable[..., Any] | None, GraphQLLeafType | None]] = []
    for response_name, field_details_list in grouped_field_set.items():
        name = field_details_list[0].node.name.value
        if name == "__typename":
            plan.append((response_name, None, None))
            continue
        field = parent_type.fields.get(name)
        leaf = plain.get(id(field))
        if field is None or leaf is None:
            return None
        plan.append((response_name, field.resolve, leaf))
    return tuple(plan)


def _object_written(plan: Plan, type_name: str, source: Any) -> dict[str, Any] | None:
    """An object written by its plan, in the selection's order; or None if one of its
    fields needs graphql-core."""
    written: dict[str, Any] = {}
    for response_name, resolve, leaf in plan:
        if resolve is None or leaf is None:
            written[response_name] = type_name  # graphql-core's __typename: the type's name
            continue
        value = _written(resolve, leaf, source)
        if value is None:
            return None
        written[response_name] = value
    return written


def _written(resolve: Callable[..., Any], leaf: GraphQLLeafType, source: Any) -> Any:
    """A plain leaf's value as graphql-core would write it, or None where graphql-core
    has more to do (a null to check, an error to locate, an awaitable to wait for)."""
    try:
        value = resolve(source, None)  # strawberry's own call: a basic field takes no Info
        if value is None or hasattr(value, "__await__"):
            return None
        written = leaf.coerce_output_value(value)
    except Exception:
        return None  # graphql-core calls again, and locates the error at its path
    return None if written is Undefined else written


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
