"""Plain leaf fields are read without an ``Info`` (``graphql_api.execution``, issue 18):
the answer, its errors and their paths are graphql-core's own, whatever a field holds."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api import execution


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Broken(Exception):
    pass


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Thing:
    name: str
    colour: Colour
    count: int | None
    ratio: float
    # No resolver of ours, but a permission or an extension: never taken as plain.
    secret: str | None = strawberry.field(default="s", permission_classes=[Deny])
    loud: str = strawberry.field(default="quiet", extensions=[Upper()])

    @strawberry.field
    def shout(self) -> str:  # a resolver of ours: never taken as plain
        return self.name.upper()


class Raising:
    """A source whose attribute read fails, as a property can."""

    colour = Colour.RED
    count = 1
    ratio = 0.5
    secret = "s"
    loud = "quiet"

    @property
    def name(self) -> str:
        raise Broken("no name")

    def shout(self) -> str:
        return "?"


@strawberry.interface
class Shape:
    name: str


@strawberry.type
class Circle(Shape):
    radius: float


@strawberry.type
class Square(Shape):
    side: int | None
    colour: Colour


@strawberry.type
class Label:
    text: str


class Stranger:
    """Neither a Circle nor a Square: no type of the interface's."""

    name = "stranger"


#: What a field may hold: its proper value, a null, a value of another type, an error.
NAMES = st.sampled_from(["a", "", None, 3])
COLOURS = st.sampled_from([Colour.RED, Colour.GREEN, "red", "blue", None])
COUNTS = st.sampled_from([0, 7, None, "x", 2**40])
RATIOS = st.sampled_from([0.5, 1, None, "nan", float("inf")])
THINGS = st.lists(
    st.one_of(
        st.builds(lambda n, c, k, r: Thing(name=n, colour=c, count=k, ratio=r),
                  NAMES, COLOURS, COUNTS, RATIOS),
        st.just(Raising()),
        st.just(Broken("an item that is an error")),
    ),
    max_size=4,
)  # fmt: skip

#: Mixed selections (a resolver among plain leaves), all-plain ones (written in one step),
#: __typename, and one response name for two fields of one type in two selections.
SHAPES = st.lists(
    st.one_of(
        st.builds(lambda n, r: Circle(name=n, radius=r), NAMES, RATIOS),
        st.builds(lambda n, k, c: Square(name=n, side=k, colour=c), NAMES, COUNTS, COLOURS),
        st.builds(lambda n: Label(text=n), NAMES),
        st.just(Stranger()),
        st.none(),
    ),
    max_size=5,
)

#: Mixed selections (a resolver among plain leaves), all-plain ones (written in one step),
#: __typename, one response name for two fields of one type in two selections, and lists
#: of an interface's objects and a union's, nullable or not.
DOCUMENT = """{ things { name colour count ratio shout again: name }
  one { name colour __typename } plain: things { __typename a: name b: count ratio }
  other: things { a: colour }
  shapes { __typename name ... on Circle { radius } ... on Square { side colour } }
  maybeShapes { name ... on Square { colour } }
  mixed { ... on Circle { name } ... on Label { text } }
  guarded: things { __typename count secret loud } names: things { __typename } }"""


def _schema(things: list[Any], plain: bool, shapes: list[Any] | None = None) -> strawberry.Schema:
    held = shapes or []

    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> list[Thing] | None:
            return things

        @strawberry.field
        def shapes(self) -> list[Shape] | None:
            return held

        @strawberry.field
        def maybe_shapes(self) -> list[Shape | None] | None:
            return held

        @strawberry.field
        def mixed(
            self,
        ) -> list[Annotated[Circle | Label, strawberry.union("Mixed")] | None] | None:
            return held

        @strawberry.field
        def one(self) -> Thing | None:
            return things[0] if things else None

    # Each root field nullable: an error bubbles to its own field, and the others still
    # run (a non-null root would null the whole answer at the first error).
    schema = strawberry.Schema(query=Query, types=[Circle, Square])
    if plain:
        execution.arrange(schema)
        assert schema.execution_context_class is not StrawberryGraphQLCoreExecutionContext
    return schema


def _answer(schema: strawberry.Schema) -> tuple[Any, list[tuple[str, Any]]]:
    result = schema.execute_sync(DOCUMENT)
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


@settings(max_examples=200, deadline=None)
@given(things=THINGS, shapes=SHAPES)
def test_plain_leaves_answer_as_graphql_core_does(things: list[Any], shapes: list[Any]) -> None:
    ours = _answer(_schema(things, plain=True, shapes=shapes))
    theirs = _answer(_schema(things, plain=False, shapes=shapes))
    assert ours == theirs


def test_an_all_plain_selection_builds_no_info_below_the_root() -> None:
    """Where every field below the root is plain, graphql-core builds an ``Info`` only
    for the root fields: the fast path is taken (a strawberry or graphql-core upgrade
    that bypassed it would fail here, not only slow down)."""
    things = [Thing(name="a", colour=Colour.RED, count=None, ratio=0.5)]
    shapes = [Circle(name="c", radius=1.0), Square(name="s", side=None, colour=Colour.GREEN)]
    schema = _schema(things, plain=True, shapes=shapes)
    built: list[str] = []
    context_class: Any = schema.execution_context_class
    original = context_class.build_resolve_info

    def counting(self: Any, field_def: Any, field_nodes: Any, *rest: Any) -> Any:
        built.append(field_nodes[0].name.value)
        return original(self, field_def, field_nodes, *rest)

    context_class.build_resolve_info = counting
    result = schema.execute_sync(
        "{ shapes { __typename name ... on Circle { radius } ... on Square { side colour } }"
        " things { name count colour } }"
    )
    assert result.errors is None and result.data is not None
    assert result.data["shapes"][1] == {
        "__typename": "Square", "name": "s", "side": None, "colour": "GREEN"
    }  # fmt: skip
    assert result.data["things"] == [{"name": "a", "count": None, "colour": "RED"}]
    assert built == ["shapes", "things"]


def test_the_plain_fields_are_strawberrys_basic_leaves() -> None:
    schema = _schema([], plain=True)
    plain = execution.plain_fields(schema._schema)
    thing = schema._schema.type_map["Thing"]
    assert {name for name, field in thing.fields.items() if id(field) in plain} == {
        "name",
        "colour",
        "count",
        "ratio",
    }  # not shout (a resolver), secret (a permission), loud (an extension), nor Query's
    query = schema._schema.type_map["Query"]
    assert not any(id(field) in plain for field in query.fields.values())
