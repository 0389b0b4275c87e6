"""Bounded work per request (issue 23, ADR 0017): the document gate, the body and
variable limits, dates out of range, persisted documents, the rate limit, and errors
that neither echo the request nor put it in the log. In process, on both backends; the
same attacks against a live server, with ``/healthz`` timed, are in
``test_hostile_clients.py``."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

import pytest
from graphql import get_introspection_query, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vocabulary import Role
from graphql_api.limits import Limits, RateLimiter, depth_of
from graphql_api.measure import DocumentMeasurer
from graphql_api.schema import build_schema
from tests.graphql_api.conftest import Api

ACCEPT = {"accept": "application/graphql-response+json"}
SCHEMA = build_schema()._schema


def _first(response: Any) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert errors, response.text
    first: dict[str, Any] = errors[0]
    return first


def _limited(response: Any, limit: str, status: int = 400) -> None:
    error = _first(response)
    assert response.status_code == status, response.text
    assert error["extensions"]["code"] == "LIMITED", error
    assert error["extensions"]["limit"] == limit, error


def fragment_bomb(levels: int) -> str:
    parts = ["query Bomb { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return "\n".join(parts)


# -- the document --------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [21, 30, 200])
def test_a_fragment_bomb_is_refused_by_its_cost_measured_once_per_fragment(
    api: Api, levels: int
) -> None:
    for token in (None, api.token("SM1", Role.SERVICE_MANAGER)):
        response = api.raw({"query": fragment_bomb(levels)}, token, **ACCEPT)
        _limited(response, "cost")
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["cost"] == 2**levels


def test_the_introspection_query_answers_and_deeper_introspection_is_refused(api: Api) -> None:
    full = api.raw({"query": get_introspection_query(descriptions=True)}, None, **ACCEPT)
    assert full.status_code == 200 and full.json()["data"]["__schema"]["queryType"]
    nested = "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }"
    _limited(api.raw({"query": nested}, None, **ACCEPT), "introspectionDepth")
    deep_type = '{ __type(name: "Query") { ' + "ofType { " * 20 + "name" + " }" * 20 + " } }"
    _limited(api.raw({"query": deep_type}, None, **ACCEPT), "introspectionDepth")


def test_cost_follows_the_page_asked_for_and_the_roles_budget(api: Api) -> None:
    query = """query Cases($n: Int!) { cases(asOf: "2026-01-01", team: "Team A", first: $n) {
        edges { node { childId overdue team nextDueOn } } } }"""
    budgets = {Role.TEAM_MANAGER: 1_000, Role.PRACTITIONER: 100, None: 10}
    small_budgets = api.with_limits(Limits(cost_budgets=budgets))
    manager = api.token("TM1", Role.TEAM_MANAGER)
    # cases: 1 + n x (edges: 1 + (node: 1 + 4 fields)); edges are the connection's page.
    small = small_budgets.raw({"query": query, "variables": {"n": 5}}, manager, **ACCEPT)
    assert small.status_code == 200 and "errors" not in small.json(), small.text
    large = small_budgets.raw({"query": query, "variables": {"n": 200}}, manager, **ACCEPT)
    _limited(large, "cost")
    assert _first(large)["extensions"]["cost"] == 1 + 200 * 6
    assert _first(large)["extensions"]["budget"] == 1_000
    # A practitioner's budget is smaller: the same document refused at a smaller page.
    sw1 = api.token("SW1", Role.PRACTITIONER)
    refused = small_budgets.raw({"query": query, "variables": {"n": 30}}, sw1, **ACCEPT)
    _limited(refused, "cost")
    assert _first(refused)["extensions"]["budget"] == 100
    # Without first, the argument's default page (50) is what it costs.
    default = small_budgets.raw(
        {"query": '{ cases(asOf: "2026-01-01", team: "Team A") { edges { cursor } } }'},
        sw1,
        **ACCEPT,
    )
    _limited(default, "cost")
    assert _first(default)["extensions"]["cost"] == 1 + 50 * 2


def test_only_a_short_text_once_parsed_is_checked_on_the_event_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate parses a text in its threads; it then checks the request on the event loop
    (issue 18) if the text is short and its verdict kept, and the variables are short
    scalars. A long text, or bulky variables, are checked in its threads. Either way the
    same checks refuse the same requests."""
    from graphql_api import gate as gate_module
    from graphql_api.app import OversightGraphQL

    budgets = {Role.TEAM_MANAGER: 1_000, Role.PRACTITIONER: 100, None: 10}
    limited_api = api.with_limits(Limits(cost_budgets=budgets))
    endpoints = [getattr(route, "endpoint", None) for route in limited_api.app.routes]
    gate = next(e.gate for e in endpoints if isinstance(e, OversightGraphQL))
    pooled: list[str] = []
    in_pool = gate._in_pool

    async def counting(func: Any, *args: Any) -> Any:
        pooled.append(func.__name__)
        return await in_pool(func, *args)

    monkeypatch.setattr(gate, "_in_pool", counting)
    manager = api.token("TM1", Role.TEAM_MANAGER)
    query = """query Cases($n: Int!, $d: Date!) { cases(asOf: $d, team: "Team A", first: $n) {
        edges { node { childId overdue team nextDueOn } } } }"""
    send = limited_api.raw
    first = send({"query": query, "variables": {"n": 5, "d": "2026-01-01"}}, manager, **ACCEPT)
    assert first.status_code == 200 and "errors" not in first.json(), first.text
    assert pooled == ["_verdict"]  # parsed in the gate's threads, checked on the loop
    over = send({"query": query, "variables": {"n": 200, "d": "2026-01-01"}}, manager, **ACCEPT)
    _limited(over, "cost")  # refused on the loop, by the same measure
    early = send({"query": query, "variables": {"n": 5, "d": "1800-01-01"}}, manager, **ACCEPT)
    assert early.status_code == 400 and _first(early)["extensions"]["field"] == "$d"
    assert pooled == ["_verdict"]
    bulky = {"n": 5, "d": "2026-01-01", "extra": "x" * (gate_module.QUICK_DOCUMENT_CHARS + 1)}
    send({"query": query, "variables": bulky}, manager, **ACCEPT)
    assert pooled == ["_verdict", "_check"]
    long_text = query + " " * gate_module.QUICK_DOCUMENT_CHARS
    send({"query": long_text, "variables": {"n": 5, "d": "2026-01-01"}}, manager, **ACCEPT)
    send({"query": long_text, "variables": {"n": 5, "d": "2026-01-01"}}, manager, **ACCEPT)
    assert pooled == ["_verdict", "_check", "_verdict", "_check", "_check"]


def test_repeated_fields_of_one_name_are_bounded_before_graphql_core_compares_them(
    api: Api,
) -> None:
    """graphql-core checks that fields of one response name can be merged by comparing
    every pair, recursively: 800 copies of ``viewer { staffId }`` (within the token
    limit) took 1.3 s. The gate bounds those comparisons first."""
    sw1 = api.token("SW1", Role.PRACTITIONER)
    repeated = "{ " + "viewer { staffId } " * 300 + "}"
    _limited(api.raw({"query": repeated}, sw1, **ACCEPT), "overlappingFields")
    inline = "{ " + "... on Query { viewer { staffId } } " * 300 + "}"
    _limited(api.raw({"query": inline}, sw1, **ACCEPT), "overlappingFields")
    nested = (
        "{ __schema { "
        + " ".join(
            [
                "types { "
                + " ".join(["fields { " + " ".join(["type { name }"] * 8) + " }"] * 8)
                + " }"
            ]
            * 8
        )
        + " } }"
    )
    _limited(api.raw({"query": nested}, None, **ACCEPT), "overlappingFields")
    few = "{ " + "viewer { staffId } " * 20 + "}"
    assert api.raw({"query": few}, sw1).json()["data"]["viewer"]["staffId"] == "SW1"


def test_aliases_and_directives_are_counted_through_fragments(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    aliased = (
        "query { ...A ...A } fragment A on Query { "
        + " ".join(f"a{i}: __typename" for i in range(11))
        + " }"
    )
    _limited(api.raw({"query": aliased}, sw1, **ACCEPT), "aliases")
    directives = "query { __typename" + " @include(if: true)" * 60 + " }"
    _limited(api.raw({"query": directives}, sw1, **ACCEPT), "directives")


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=8))
def test_measuring_once_per_fragment_equals_expanding_every_use(data: Any, size: int) -> None:
    """A random acyclic web of fragments, each with some aliased fields and spreads of
    later fragments: the figures measured once per fragment are those of expanding every
    spread again (the old validators' exponential way), on documents small enough to."""
    spreads: dict[str, list[str]] = {}
    aliased: dict[str, int] = {}
    for index in range(size):
        later = [f"F{j}" for j in range(index + 1, size)]
        drawn = data.draw(st.lists(st.sampled_from(later), max_size=3)) if later else []
        spreads[f"F{index}"] = drawn
        aliased[f"F{index}"] = data.draw(st.integers(min_value=0, max_value=3))

    def expanded(name: str) -> tuple[int, int]:
        """(cost, aliases): an empty body is one plain ``__typename``."""
        cost = aliased[name] or (0 if spreads[name] else 1)
        aliases = aliased[name]
        for spread in spreads[name]:
            more_cost, more_aliases = expanded(spread)
            cost += more_cost
            aliases += more_aliases
        return cost, aliases

    text = ["query { ...F0 }"]
    for name in spreads:
        body = [f"t{k}: __typename" for k in range(aliased[name])]
        body += [f"...{spread}" for spread in spreads[name]]
        text.append(f"fragment {name} on Query {{ {' '.join(body) or '__typename'} }}")
    document = parse("\n".join(text))
    operation = document.definitions[0]
    measure = DocumentMeasurer(SCHEMA, document, None, deadline=float("inf")).operation(
        operation  # type: ignore[arg-type]
    )
    assert (measure.cost, measure.aliases) == expanded("F0")
    assert measure.depth == 1


# -- the body and the variables ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "limit"),
    [
        (b'"x"', "BAD_USER_INPUT", None),
        (b"1e999999", "BAD_USER_INPUT", None),
        (b"null", "BAD_USER_INPUT", None),
        (b'{"query": NaN}', "BAD_USER_INPUT", None),
        (b"[" * 100_000 + b"]" * 100_000, "LIMITED", "jsonDepth"),
        (b"[" * 40 + b"]" * 40, "LIMITED", "jsonDepth"),
        (b"\xff\xfe{}", "BAD_USER_INPUT", None),
    ],
)
def test_a_body_that_is_not_a_json_object_within_bounds_is_a_typed_400(
    api: Api, body: bytes, code: str, limit: str | None
) -> None:
    response = api.raw(body, None, **{"content-type": "application/json", **ACCEPT})
    assert response.status_code == 400, response.text
    error = _first(response)
    assert error["extensions"]["code"] == code and error["extensions"].get("limit") == limit
    if code == "BAD_USER_INPUT":  # not a GraphQL request at all (ADR 0027)
        assert error["extensions"]["rule"] == "GraphQLOverHttp", error


def test_variables_nest_within_their_limit(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    deep: Any = "leaf"
    for _ in range(20):
        deep = {"a": deep}
    response = api.raw({"query": "{ __typename }", "variables": {"x": deep}}, sw1, **ACCEPT)
    _limited(response, "variablesDepth")
    very: str = '{"query": "{ __typename }", "variables": {"x": ' + "[" * 5_000 + "]" * 5_000
    response = api.raw(very + "}}", sw1, **{"content-type": "application/json", **ACCEPT})
    _limited(response, "jsonDepth")
    assert depth_of({"a": [1, {"b": []}]}, 10) == 4 and depth_of(7, 10) == 0


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_dates_out_of_range_name_their_argument(api: Api, day: str) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    literal = api.raw(
        {"query": f'{{ complianceSummary(asOf: "{day}") {{ asOf }} }}'}, manager, **ACCEPT
    )
    assert literal.status_code == 400, literal.text
    error = _first(literal)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT", "classification": "BAD_REQUEST", "field": "asOf"
    }  # fmt: skip
    variable = api.raw(
        {
            "query": "query S($d: Date!) { complianceSummary(asOf: $d) { asOf } }",
            "variables": {"d": day},
        },
        manager,
        **ACCEPT,
    )
    assert variable.status_code == 400, variable.text
    assert _first(variable)["extensions"]["field"] == "$d"
    # The edges of the range are served.
    edge = api.raw({"query": '{ complianceSummary(asOf: "2199-12-31") { asOf } }'}, manager)
    assert edge.status_code == 200 and "errors" not in edge.json(), edge.text


#: (argument, a document with the value as ``VALUE``, the variable's type, a bad value)
BOUNDED = [
    ("first", '{ child(childId: "C1") { auditTrail(first: VALUE) { edges { cursor } } } }',
     "Int!", 0, "0"),
    ("first", '{ child(childId: "C1") { auditTrail(first: VALUE) { edges { cursor } } } }',
     "Int!", 100_000, "201"),
    ("childId", "{ child(childId: VALUE) { childId } }", "String!", "C" * 900_000,
     '"' + "C" * 65 + '"'),
    ("purpose", '{ child(childId: "C1", purpose: VALUE) { childId } }', "String!",
     "p" * 900_000, '"' + "p" * 501 + '"'),
]  # fmt: skip


@pytest.mark.parametrize(("argument", "document", "type_", "value", "literal"), BOUNDED)
def test_arguments_out_of_bounds_are_a_400_before_anything_runs(
    api: Api, argument: str, document: str, type_: str, value: Any, literal: str
) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    before = api.application.recorder.max_notification_id()
    by_literal = api.raw({"query": document.replace("VALUE", literal)}, sw1, **ACCEPT)
    by_variable = api.raw(
        {
            "query": f"query Q($v: {type_}) " + document.replace("VALUE", "$v"),
            "variables": {"v": value},
        },
        sw1,
        **ACCEPT,
    )
    for answer in (by_literal, by_variable):
        assert answer.status_code == 400, answer.text
        assert _first(answer)["extensions"]["code"] == "BAD_USER_INPUT"
        assert _first(answer)["extensions"]["field"] == argument
        assert "data" not in answer.json()
    # Nothing ran: no read was written to the child's access log.
    assert api.application.recorder.max_notification_id() == before


def test_a_mutations_instant_out_of_range_is_refused_before_it_runs(api: Api) -> None:
    manager = api.token("TM1", Role.TEAM_MANAGER)
    before = api.application.recorder.max_notification_id()
    response = api.raw(
        {
            "query": """mutation { startAbsence(idempotencyKey: "k-range",
                occurredAt: "9999-12-31T10:00:00+00:00",
                input: {staffId: "SW1", absenceId: "A1", kind: "sickness",
                        startedOn: "9999-12-30"}) { __typename } }"""
        },
        manager,
        **ACCEPT,
    )
    assert response.status_code == 400, response.text
    assert {e["extensions"]["field"] for e in response.json()["errors"]} == {
        "occurredAt", "input.startedOn"
    }  # fmt: skip
    assert api.application.recorder.max_notification_id() == before


# -- persisted documents ----------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_automatic_persisted_queries(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    query = "query Me { viewer { staffId } }"
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": _sha(query)}}
    off = api.raw({"extensions": hashed}, sw1, **ACCEPT)
    assert _first(off)["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    apq = api.with_limits(Limits(automatic_persisted_queries=True))
    unknown = apq.raw({"extensions": hashed}, sw1, **ACCEPT)
    assert unknown.status_code == 400
    assert _first(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    first = apq.raw({"query": query, "extensions": hashed}, sw1, **ACCEPT)
    assert first.json()["data"] == {"viewer": {"staffId": "SW1"}}
    again = apq.raw({"extensions": hashed}, sw1, **ACCEPT)
    assert again.json()["data"] == {"viewer": {"staffId": "SW1"}}
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": _sha("other")}}
    mismatch = apq.raw({"query": query, "extensions": wrong}, sw1, **ACCEPT)
    assert _first(mismatch)["extensions"]["code"] == "BAD_USER_INPUT"
    malformed = apq.raw({"extensions": {"persistedQuery": {"sha256Hash": "xyz"}}}, sw1, **ACCEPT)
    assert _first(malformed)["extensions"]["field"] == "extensions.persistedQuery.sha256Hash"


def test_trusted_documents_only(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    query = "query Me { viewer { staffId } }"
    trusted = api.with_limits(Limits(trusted_documents={_sha(query): query}))
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": _sha(query)}}
    assert trusted.raw({"extensions": by_hash}, sw1).json()["data"]["viewer"]["staffId"] == "SW1"
    assert trusted.raw({"query": query}, sw1).json()["data"]["viewer"]["staffId"] == "SW1"
    other = trusted.raw({"query": "{ viewer { role } }"}, sw1, **ACCEPT)
    assert other.status_code == 400
    assert _first(other)["extensions"] == {
        "code": "FORBIDDEN", "classification": "BAD_REQUEST", "rule": "TRUSTED-DOCUMENTS"
    }  # fmt: skip
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": _sha("{ viewer { role } }")}}
    refused = trusted.raw({"extensions": unknown}, sw1, **ACCEPT)
    assert _first(refused)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# -- the rate -----------------------------------------------------------------------------------


def test_the_rate_limit_is_per_principal_and_says_when_to_retry(api: Api) -> None:
    limited = api.with_limits(Limits(rate_per_second=0.5, rate_burst=3))
    sw1 = api.token("SW1", Role.PRACTITIONER)
    answers = [limited.raw({"query": "{ viewer { staffId } }"}, sw1) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    _limited(answers[-1], "rate", status=429)
    assert int(answers[-1].headers["retry-after"]) >= 1
    # Another person is not held back by SW1's requests.
    sw3 = api.token("SW3", Role.PRACTITIONER)
    assert limited.raw({"query": "{ viewer { staffId } }"}, sw3).status_code == 200


def test_the_token_bucket_refills_at_its_rate() -> None:
    bucket = RateLimiter(per_second=2, burst=2)
    assert [bucket.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.5]
    assert bucket.take("k", now=0.5) == 0.0  # one token back after half a second
    assert bucket.take("k", now=0.5) == 0.5
    small = RateLimiter(per_second=1, burst=1, max_keys=2)
    for key in ("a", "b", "c"):
        small.take(key, now=0.0)
    assert len(small._buckets) == 2  # bounded, whatever the number of callers


# -- no echo, no personal data in the log --------------------------------------------------------


def test_errors_and_logs_carry_no_echo_of_the_request(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    sentinel = f"SENTINEL{uuid.uuid4().hex}"
    sw1 = api.token("SW1", Role.PRACTITIONER)
    requests: list[dict[str, Any]] = [
        {"query": f"{{ {sentinel} }}"},  # an unknown field
        {"query": f"{{ viewer {{ staffId }} }} {sentinel}"},  # a syntax error
        {"query": f'{{ complianceSummary(asOf: "{sentinel}") {{ asOf }} }}'},  # a bad literal
        {
            "query": "query Q($d: Date!) { complianceSummary(asOf: $d) { asOf } }",
            "variables": {"d": sentinel},
        },
        {"query": f'{{ child(childId: "{sentinel}", purpose: "x") {{ childId }} }}'},
        {"query": f"query {sentinel} {{ viewer {{ staffId }} }}"},
        {"query": "{ viewer { staffId } }", "variables": {"x": sentinel}},
    ]
    with caplog.at_level(logging.DEBUG):
        for body in requests:
            response = api.raw(body, sw1, **ACCEPT)
            assert response.status_code < 500, response.text
            assert sentinel not in response.text, response.text
            for error in response.json().get("errors") or []:
                assert error["extensions"]["code"], error
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert sentinel not in logged
    assert "graphql.error code=BAD_USER_INPUT" in logged  # logged, as one line, without it
    assert not any(record.exc_info for record in caplog.records)


def test_an_unexpected_failure_is_masked_with_a_correlation_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    original = api.service._lookup  # the one statement that opens a record
    secret = f"secret-{uuid.uuid4().hex}"

    def broken(*args: Any) -> Any:
        raise RuntimeError(secret)

    api.service._lookup = broken  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.INFO):
            response = api.raw({"query": '{ child(childId: "C1") { childId } }'}, sw1)
    finally:
        api.service._lookup = original  # type: ignore[method-assign]
    error = _first(response)
    assert error["message"] == "Unexpected error." and error["extensions"]["code"] == "INTERNAL"
    correlation = error["extensions"]["correlationId"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"correlation={correlation}" in logged and "RuntimeError" in logged
    assert secret not in logged and secret not in response.text


def test_limits_are_documented_as_configured() -> None:
    """docs/security.md states the limits this code enforces."""
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("docs", "security.md").read_text()
    limits = Limits()
    for figure in (
        limits.max_body_bytes, limits.max_json_depth, limits.max_variables_depth,
        limits.max_depth, limits.max_introspection_depth, limits.max_aliases,
        limits.max_directives, limits.max_tokens, limits.max_overlap,
    ):  # fmt: skip
        assert f"{figure:,}" in text or str(figure) in text, figure
    for role, budget in limits.cost_budgets.items():
        assert f"| {role.value if role else 'no token'} | {budget:,} |" in text, role


def test_a_trusted_documents_manifest_is_made_checked_and_loaded(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from oversight.cli import main
    from oversight.serving import load_trusted_documents

    me = tmp_path / "me.graphql"
    me.write_text("query Me { viewer { staffId } }\n", encoding="utf-8")
    bad = tmp_path / "bad.graphql"
    bad.write_text("query Bad { viewer { nothingHere } }\n", encoding="utf-8")
    manifest = tmp_path / "persisted-documents.json"
    made = CliRunner().invoke(main, ["graphql", "trust", str(me), "--write", str(manifest)])
    assert made.exit_code == 0, made.output
    loaded = load_trusted_documents(manifest)
    assert loaded == {_sha(me.read_text()): me.read_text()}
    refused = CliRunner().invoke(main, ["graphql", "trust", str(me), str(bad)])
    assert refused.exit_code != 0 and "bad.graphql" in refused.output
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({_sha("{ viewer { role } }"): "{ viewer { staffId } }"}))
    with pytest.raises(ValueError, match="not the sha256 of its document"):
        load_trusted_documents(tampered)
