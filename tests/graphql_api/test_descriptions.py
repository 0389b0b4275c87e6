"""Descriptions that explain (issue 22 item 7): every type, field, argument, enum value
and input field of the built schema says what it means in the domain, and none only
restates its name. A description restates its name when, once the name's own words and
the commonest function words are set aside, it adds fewer than ``AT_LEAST`` words of its
own: "Their team." for ``team``, "The rule ID." for ``ruleId``, "Status on asOf." for
``status``. The failure lists every offender, by where it is, with its description."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from graphql_api.schema import build_schema

#: How many words of its own a description must add to its name's.
AT_LEAST = 2

#: Words that carry no meaning of their own here (function words, and the pronouns a
#: description of a field uses for its subject).
FUNCTION_WORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "as",
        "or",
        "and",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "their",
        "them",
        "they",
        "his",
        "her",
        "he",
        "she",
        "we",
        "our",
        "you",
        "your",
        "if",
        "any",
        "each",
        "which",
        "what",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "how",
        "why",
        "not",
        "no",
        "yes",
        "null",
        "true",
        "false",
        "e",
        "g",
        "i",
        "one",
        "all",
        "some",
    )
)

#: GraphQL's own scalars: their meaning is the specification's.
BUILT_IN = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def words(text: str) -> list[str]:
    """The words of a name or a description: camelCase, snake_case and UPPER_CASE split,
    lower case, a plural's s dropped."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    found = re.findall(r"[a-zA-Z]+", spaced.replace("_", " "))
    return [w.lower().removesuffix("s") if len(w) > 3 else w.lower() for w in found]


def restates(name: str, description: str | None) -> bool:
    """Whether ``description`` is missing or adds fewer than ``AT_LEAST`` words of its
    own to ``name``'s."""
    if not description or not description.strip():
        return True
    own = set(words(name)) | FUNCTION_WORDS
    added = {w for w in words(description) if w not in own}
    return len(added) < AT_LEAST


def described() -> Iterator[tuple[str, str, str | None]]:
    """Every (where, name, description) of the built schema."""
    schema = build_schema()._schema
    for type_name, kind in sorted(schema.type_map.items()):
        if type_name.startswith("__") or type_name in BUILT_IN:
            continue
        yield type_name, type_name, kind.description
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                yield f"{type_name}.{field_name}", field_name, field.description
                for arg_name, arg in field.args.items():
                    where = f"{type_name}.{field_name}({arg_name})"
                    yield where, arg_name, arg.description
        elif isinstance(kind, GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                yield f"{type_name}.{field_name}", field_name, field.description
        elif isinstance(kind, GraphQLEnumType):
            for value_name, value in kind.values.items():
                yield f"{type_name}.{value_name}", value_name, value.description
        else:
            assert isinstance(kind, GraphQLScalarType | GraphQLUnionType), type_name


def test_the_rule_tells_a_restatement_from_an_explanation() -> None:
    assert restates("team", "Their team.")
    assert restates("ruleId", "The rule ID.")
    assert restates("status", "Status on asOf.")  # "on" and "as of" add nothing
    assert restates("status", "Status.")
    assert restates("dueOn", None) and restates("dueOn", "  ")
    assert not restates("team", "The team holding the child's case on asOf.")
    assert not restates("HEAD_OF_SERVICE", "A Head of Service: above service managers.")


def test_every_description_explains_more_than_its_name() -> None:
    offenders = [
        f"{where}: {description!r}"
        for where, name, description in described()
        if restates(name, description)
    ]
    assert offenders == [], (
        f"{len(offenders)} descriptions are missing or only restate their name; say what "
        "each means in the domain, citing the policy where one applies:\n  "
        + "\n  ".join(offenders)
    )
