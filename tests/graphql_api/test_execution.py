"""Plain leaf fields are read without an ``Info`` (``graphql_api.execution``, issue 18):
the answer, its errors and their paths are graphql-core's own, whatever a field holds."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api import execution


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Broken(Exception):
    pass


@strawberry.type
class Thing:
    name: str
    colour: Colour
    count: int | None
    ratio: float

    @strawberry.field
    def shout(self) -> str:  # a resolver of ours: never taken as plain
        return self.name.upper()


class Raising:
    """A source whose attribute read fails, as a property can."""

    colour = Colour.RED
    count = 1
    ratio = 0.5

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
  mixed { ... on Circle { name } ... on Label { text } } }"""


def _schema(things: list[Any], plain: bool, shapes: list[Any] | None = None) -> strawberry.Schema:
    held = shapes or []

    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> list[Thing]:
            return things

        @strawberry.field
        def shapes(self) -> list[Shape]:
            return held

        @strawberry.field
        def maybe_shapes(self) -> list[Shape | None]:
            return held

        @strawberry.field
        def mixed(self) -> list[Annotated[Circle | Label, strawberry.union("Mixed")] | None]:
            return held

        @strawberry.field
        def one(self) -> Thing | None:
            return things[0] if things else None

    schema = strawberry.Schema(query=Query, types=[Circle, Square])
    if plain:
        execution.arrange(schema)
        assert schema.execution_context_class is not StrawberryGraphQLCoreExecutionContext
    return schema


def _answer(schema: strawberry.Schema) -> tuple[Any, list[tuple[str, Any]]]:
    result = schema.execute_sync(DOCUMENT)
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


@settings(max_examples=300, deadline=None)
@given(things=THINGS, shapes=SHAPES)
def test_plain_leaves_answer_as_graphql_core_does(things: list[Any], shapes: list[Any]) -> None:
    ours = _answer(_schema(things, plain=True, shapes=shapes))
    theirs = _answer(_schema(things, plain=False, shapes=shapes))
    assert ours == theirs


def test_the_plain_fields_are_strawberrys_basic_leaves() -> None:
    schema = _schema([], plain=True)
    plain = execution.plain_fields(schema._schema)
    thing = schema._schema.type_map["Thing"]
    assert {name for name, field in thing.fields.items() if id(field) in plain} == {
        "name",
        "colour",
        "count",
        "ratio",
    }  # not shout (a resolver), and nothing of Query (resolvers)
    query = schema._schema.type_map["Query"]
    assert not any(id(field) in plain for field in query.fields.values())
