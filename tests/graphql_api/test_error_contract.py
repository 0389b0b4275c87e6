"""One error contract (issue 22 item 6, ADR 0027, docs/api-errors.md), on both backends.

Every error a client sees, whatever went wrong (syntax, validation, variables, a token,
a limit, a resolver, the transport itself), carries ``extensions.code`` from the
documented set, and no Python text: no exception's words ("invalid literal for int()"),
no class names, no snake_case internal names. Malformed variables and arguments are sent
across every root field of the schema (hypothesis); a few transport-level refusals and
the log lines follow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import string
from typing import Any

import httpx2 as httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.vocabulary import Role
from graphql_api.errors import CLASSIFICATIONS, CODES
from graphql_api.schema import Context, build_schema
from tests.graphql_api.conftest import Api

SCHEMA = build_schema()._schema

#: What Python says, and never a client: an exception's words or its class's name.
PYTHON_TEXT = re.compile(
    r"invalid literal|Traceback|object has no attribute|NoneType|not supported between"
    r"|unexpected keyword|required positional|\bint\(\)|\bfloat\(\)|\bdict\b|\btuple\b"
    r"|[A-Z][A-Za-z]*(?:Error|Exception)\b|\bself\.|__\w+__"
)
#: An internal (snake_case) name outside quotes: the API's names are camelCase.
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


def assert_contract(body: dict[str, Any], context: object) -> None:
    """Every error typed from the documented set, with no Python text in its message."""
    for error in body.get("errors") or []:
        extensions = error.get("extensions") or {}
        assert extensions.get("code") in CODES, (context, error)
        assert extensions.get("classification") == CLASSIFICATIONS[extensions["code"]], (
            context,
            error,
        )
        message = str(error.get("message", ""))
        assert not PYTHON_TEXT.search(message), (context, error)
        assert not SNAKE.search(_QUOTED.sub("", message)), (context, error)
        if extensions["code"] == "INTERNAL":
            assert re.fullmatch(r"[0-9a-f]{32}", extensions.get("correlationId", "")), error


def _selection(field: GraphQLField) -> str:
    return "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"


def _operation(kind: str, root: GraphQLObjectType, name: str) -> str:
    """One root field, every argument a variable of its declared type."""
    field = root.fields[name]
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    passed = ", ".join(f"{a}: ${a}" for a in field.args)
    return (
        f"{kind}{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''}{_selection(field)} }}"
    )


ROOTS: list[tuple[str, GraphQLObjectType]] = [
    ("query", SCHEMA.query_type),  # type: ignore[list-item]
    ("mutation", SCHEMA.mutation_type),  # type: ignore[list-item]
]
FIELDS = [(kind, root, name) for kind, root in ROOTS for name in root.fields]

#: Text without "_": a value a message may echo is never mistaken for an internal name.
_TEXT = st.text(string.ascii_letters + string.digits + " -:.+T", max_size=24)
#: The malformed and the nearly right: wrong types, out-of-range numbers, bad dates,
#: cursors, positions and global ids, nesting where a scalar is wanted.
_PLAUSIBLE = st.sampled_from(
    [
        "abc", "", "12x", "-1", "99999999999999999999999", "2026-13-45", "2026-02-30",
        "2026-03-02T25:00:00Z", "1e309", "NaN", "null", "Q2hpbGQ6eA", "not-a-cursor",
        "V29ya2VyOkFQSS1MQTpTVzE", 0, -1, 2**31, 2**63, 1.5, True, [], {}, [1, "a"],
        {"staffId": 1}, {"x": {"y": []}},
    ]
)  # fmt: skip
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=5,
)


#: Values of the right type, some of them wrong all the same (an unknown id, a cursor
#: this server never issued, a date out of range): these reach the resolvers.
_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.one_of(st.sampled_from(["SW1", "C1", "TM1", "Team A", "x"]), _TEXT),
    "ID": st.one_of(st.sampled_from(["1", "abc", "Q2hpbGQ6eA", "99999999999999999999"]), _TEXT),
    "Int": st.integers(-5, 300),
    "Float": st.floats(-5, 300),
    "Boolean": st.booleans(),
    "Date": st.sampled_from(["2026-03-02", "1899-12-31", "2026-02-30", "x"]),
    "DateTime": st.sampled_from(["2026-03-02T10:00:00Z", "2026-03-02T10:00:00", "1e309"]),
    "Decimal": st.sampled_from(["1.5", "x", "1e999"]),
    "JSON": st.just({}),
}


def _well_typed(type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    named: GraphQLNamedType = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        value: st.SearchStrategy[Any] = st.sampled_from(sorted(named.values))
    elif isinstance(named, GraphQLInputObjectType):
        if depth > 2:
            return st.just({})
        value = st.fixed_dictionaries(
            {name: _well_typed(field.type, depth + 1) for name, field in named.fields.items()}
        )
    else:
        value = _SCALARS.get(named.name, _TEXT)
    wrapped = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(wrapped, GraphQLList):
        return st.lists(value, max_size=2)
    return value


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind, root, name = draw(st.sampled_from(FIELDS))
    arguments = root.fields[name].args
    variables = {
        argument: draw(
            st.one_of(_well_typed(arguments[argument].type), _PLAUSIBLE, _VALUES)
            if draw(st.integers(0, 3)) == 0
            else _well_typed(arguments[argument].type)
        )
        for argument in arguments
        if draw(st.integers(0, 6))  # now and then left out, required or not
    }
    return _operation(kind, root, name), variables


def _post(api: Api, body: Any, token: str | None, **headers: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            chosen = {"accept": "application/graphql-response+json", **headers}
            if token:
                chosen["authorization"] = f"Bearer {token}"
            if isinstance(body, bytes):
                return await http.post("/graphql", content=body, headers=chosen)
            return await http.post("/graphql", json=body, headers=chosen)

    return asyncio.run(send())


def test_malformed_variables_across_the_schema_meet_the_contract(api: Api) -> None:
    tokens = [api.token("SM1", Role.SERVICE_MANAGER), api.token("TM1", Role.TEAM_MANAGER), None]
    seen: dict[str, int] = {}

    @given(request=_requests(), who=st.sampled_from(tokens))
    @settings(
        max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(request: tuple[str, dict[str, Any]], who: str | None) -> None:
        query, variables = request
        response = _post(api, {"query": query, "variables": variables}, who)
        assert response.status_code < 500 or response.status_code == 503, response.text
        body = response.json()
        assert_contract(body, (query, variables))
        for error in body.get("errors") or []:
            code = error["extensions"]["code"]
            seen[code] = seen.get(code, 0) + 1

    check()
    # The run reached past the request's checks as well as being refused by them.
    assert {"BAD_USER_INPUT", "UNAUTHENTICATED"} <= set(seen), seen


@pytest.mark.parametrize(
    "literal",
    [
        'worker(staffId: "SW1", consistentWith: "abc") { staffId }',
        'worker(staffId: "SW1", consistentWith: "99999999999999999999999") { staffId }',
        'node(id: "not a global id") { id }',
        'node(id: "Q2hpbGQ6eA") { id }',
        'child(childId: "C1", purpose: "") { childId }',
        "worker(staffId: 12) { staffId }",
        "worker { staffId }",
        "nothingHere",
        'worker(staffId: "SW1") { noSuchField }',
    ],
)
def test_malformed_arguments_meet_the_contract(api: Api, literal: str) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    response = _post(api, {"query": f"{{ {literal} }}"}, token)
    body = response.json()
    assert body.get("errors"), body
    assert_contract(body, literal)


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b'"x"', b"[]", b"{}", b'{"query": 1}', b'{"query": "{ viewer"}',
     b'{"query": "query { viewer { staffId } }", "variables": "x"}'],
)  # fmt: skip
def test_unreadable_requests_meet_the_contract(api: Api, body: bytes) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    response = _post(api, body, token, **{"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert_contract(response.json(), body)


def test_syntax_and_validation_errors_name_their_rule(api: Api) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    syntax = _post(api, {"query": "{ viewer { staffId }"}, token).json()["errors"][0]
    assert syntax["extensions"]["code"] == "BAD_USER_INPUT"
    assert syntax["extensions"]["rule"] == "Syntax"
    invalid = _post(api, {"query": "{ viewer { noSuchField } }"}, token).json()["errors"][0]
    assert invalid["extensions"]["code"] == "BAD_USER_INPUT"
    assert invalid["extensions"]["rule"] == "FieldsOnCorrectType"
    assert invalid["extensions"]["path"] == ["viewer"]


def test_a_missing_or_bad_token_is_unauthenticated_with_401(api: Api) -> None:
    missing = _post(api, {"query": "{ viewer { staffId } }"}, None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert_contract(missing.json(), "missing")
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = _post(api, {"query": "{ viewer { staffId } }"}, "not.a.token")
    assert bad.status_code == 401
    assert bad.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "classification": "UNAUTHORIZED",
    }


def test_client_errors_are_one_line_without_a_traceback(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    with caplog.at_level(logging.INFO):
        _post(api, {"query": "{ viewer { noSuchField } }"}, token)
        _post(api, {"query": "{ viewer { staffId }"}, token)
        _post(api, {"query": 'query { worker(staffId: "SW1", consistentWith: "x") { id } }'}, token)
        _post(api, {"query": "{ viewer { staffId } }"}, None)
        _post(api, {"query": "{ viewer { staffId } }"}, "not.a.token")  # refused before GraphQL
        _post(api, b"not json", token, **{"content-type": "application/json"})
    lines = [r for r in caplog.records if r.name.startswith("graphql_api")]
    assert len(lines) >= 6, [r.getMessage() for r in caplog.records]
    codes = [re.search(r"\bcode=(\w+)", r.getMessage()) for r in lines]
    assert {"UNAUTHENTICATED", "BAD_USER_INPUT"} <= {c.group(1) for c in codes if c}
    for record in caplog.records:
        assert record.exc_info is None and record.exc_text is None, record.getMessage()
        assert "Traceback" not in record.getMessage(), record.getMessage()
    for record in lines:
        message = record.getMessage()
        assert "\n" not in message, message
        assert re.search(r"\bcode=[A-Z_]+\b", message), message
        assert re.search(r"\bcorrelation=[0-9a-f]{32}\b", message), message
        assert re.search(r"\bpath=\S+", message), message


def test_an_internal_error_is_masked_with_a_correlation_id_logged_once(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "-".join(("secret", "value"))  # so that no source line in the traceback holds it

    def broken(*_: Any, **__: Any) -> Any:
        raise ValueError(f"invalid literal for int() with base 10: {secret!r}")

    monkeypatch.setattr(Context, "who", broken)
    token = api.token("SM1", Role.SERVICE_MANAGER)
    with caplog.at_level(logging.INFO):
        body = _post(api, {"query": "{ viewer { staffId } }"}, token).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL", body
    assert_contract(body, "internal")
    assert secret not in json.dumps(body)
    correlation = error["extensions"]["correlationId"]
    logged = [r for r in caplog.records if correlation in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert "Traceback" in logged[0].getMessage() or "File " in logged[0].getMessage()
    assert secret not in caplog.text  # an exception's text can hold the data it failed on
