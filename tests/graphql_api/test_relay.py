"""Relay, complete (issue 22 item 4, ADR 0029): one paging helper for every connection
(first/after/last/before, full pageInfo, totalCount), cursors bound to their connection and
its arguments, and node/nodes authorised per id exactly as the field that lists it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from domain.events import RecordAccessed
from domain.vocabulary import Role
from graphql_api.limits import MAX_PAGE
from graphql_api.relay import (
    Cursors,
    Key,
    ListSource,
    PageArgs,
    Paged,
    Source,
    SqlSource,
    global_id,
    paginate,
)
from graphql_api.trail import trail_cursors
from tests.graphql_api.conftest import AUTHORITY, OTHER, Api
from tests.helpers import topics

CURSORS = Cursors("things", {"team": "Team A"})
C1 = (AUTHORITY, "child", "C1")

# -- the helper, over any list ---------------------------------------------------------------


def _forwards(source: Source[Any], sizes: Iterator[int], cursors: Cursors = CURSORS) -> list[Any]:
    """Every item, page by page with first/after; each page's pageInfo checked against
    where it sits."""
    seen: list[Any] = []
    after: str | None = None
    total = source.count()
    while True:
        page: Paged[Any] = paginate(source, PageArgs(first=next(sizes), after=after), cursors)
        assert page.total_count == total
        assert page.has_previous_page == (bool(seen) and bool(page.items))
        seen.extend(item for _, item in page.items)
        assert page.has_next_page == (len(seen) < total)
        if not page.has_next_page:
            return seen
        after = page.end_cursor


def _backwards(source: Source[Any], sizes: Iterator[int], cursors: Cursors = CURSORS) -> list[Any]:
    """Every item, page by page with last/before from the end, put back in order."""
    seen: list[Any] = []
    before: str | None = None
    total = source.count()
    while True:
        page: Paged[Any] = paginate(source, PageArgs(last=next(sizes), before=before), cursors)
        assert page.total_count == total
        assert page.has_next_page == (bool(seen) and bool(page.items))
        seen[:0] = [item for _, item in page.items]
        assert page.has_previous_page == (len(seen) < total)
        if not page.has_previous_page:
            return seen
        before = page.start_cursor


keys = st.lists(
    st.tuples(st.integers(0, 5), st.text("abcxyz", max_size=3)), unique=True, max_size=30
)
page_sizes = st.lists(st.integers(1, 7), min_size=1, max_size=10)


@given(keys, page_sizes, page_sizes)
def test_paging_forwards_then_backwards_gives_the_list_once_in_order(
    items: list[tuple[int, str]], forward: list[int], backward: list[int]
) -> None:
    """For any list and any page sizes: forwards with first/after, then backwards with
    last/before, each gives the whole list exactly once, in order; totalCount is its length."""
    source = ListSource(items, lambda item: item)
    ordered = sorted(items)

    def cycle(sizes: list[int]) -> Iterator[int]:
        while True:
            yield from sizes

    assert _forwards(source, cycle(forward)) == ordered
    assert _backwards(source, cycle(backward)) == ordered


@given(keys, st.data())
def test_any_window_between_two_cursors_is_the_slice_between_them(
    items: list[tuple[int, str]], data: st.DataObject
) -> None:
    """first/last within after/before: exactly the items strictly between the two cursors,
    the first (or last) n of them; pageInfo says whether the whole list goes on."""
    ordered = sorted(items)
    source = ListSource(items, lambda item: item)
    n = len(ordered)
    low = data.draw(st.integers(-1, n - 1))
    high = data.draw(st.integers(low + 1, n))
    size = data.draw(st.integers(1, 8))
    backwards = data.draw(st.booleans())
    after = CURSORS.encode(ordered[low]) if low >= 0 else None
    before = CURSORS.encode(ordered[high]) if high < n else None
    asked = (
        PageArgs(last=size, after=after, before=before)
        if backwards
        else PageArgs(first=size, after=after, before=before)
    )
    page = paginate(source, asked, CURSORS)
    between = ordered[low + 1 : high]
    expected = between[-size:] if backwards else between[:size]
    assert [item for _, item in page.items] == expected
    if expected:
        start, end = ordered.index(expected[0]), ordered.index(expected[-1])
        assert page.has_previous_page == (start > 0)
        assert page.has_next_page == (end < n - 1)
    else:
        assert page.has_previous_page == (low >= 0)
        assert page.has_next_page == (high < n)


@pytest.fixture
def things(engine: Engine) -> Iterator[Table]:
    """A table to page over in the test's database (either backend)."""
    metadata = MetaData()
    table = Table(
        "relay_things",
        metadata,
        Column("rank", Integer, primary_key=True),
        Column("name", String(10), primary_key=True),
        Column("team", String(10)),
    )
    metadata.create_all(engine)
    yield table
    metadata.drop_all(engine)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys, page_sizes, page_sizes)
def test_a_sql_keyset_pages_as_the_list_does(
    engine: Engine,
    things: Table,
    items: list[tuple[int, str]],
    forward: list[int],
    backward: list[int],
) -> None:
    """The same property for a keyset of two columns paged in the database: forwards and
    backwards give the rows in the database's own order, once each; rows of another team
    (outside the query) never appear."""
    with engine.begin() as conn:
        conn.execute(things.delete())
        rows = [{"rank": r, "name": n, "team": "Team A"} for r, n in items]
        rows += [{"rank": r, "name": n + "q", "team": "Team B"} for r, n in items[:3]]
        if rows:
            conn.execute(things.insert(), rows)
    query = select(things).where(things.c.team == "Team A")
    source = SqlSource(
        engine, query, [things.c.rank, things.c.name], lambda r: (int(r.rank), str(r.name))
    )
    with engine.connect() as conn:
        ordered = [
            (int(r.rank), str(r.name))
            for r in conn.execute(query.order_by(things.c.rank, things.c.name))
        ]

    def cycle(sizes: list[int]) -> Iterator[int]:
        while True:
            yield from sizes

    assert [(r.rank, r.name) for r in _forwards(source, cycle(forward))] == ordered
    assert [(r.rank, r.name) for r in _backwards(source, cycle(backward))] == ordered


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"first": 2, "last": 2}, "last"),
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"last": -3}, "last"),
        ({"last": MAX_PAGE + 1}, "last"),
    ],
)
def test_first_with_last_or_a_size_out_of_bounds_is_bad_input(
    asked: dict[str, int], field: str
) -> None:
    with pytest.raises(GraphQLError) as refused:
        PageArgs(**asked)
    assert refused.value.extensions is not None
    assert refused.value.extensions["code"] == "BAD_USER_INPUT"
    assert refused.value.extensions["field"] == field


def test_a_cursor_is_bound_to_its_connection_and_arguments() -> None:
    source = ListSource([("a",), ("b",)], lambda item: item)
    mine = CURSORS.encode(("a",))
    assert [i for _, i in paginate(source, PageArgs(after=mine), CURSORS).items] == [("b",)]
    others = [
        Cursors("other", {"team": "Team A"}).encode(("a",)),  # another connection
        Cursors("things", {"team": "Team B"}).encode(("a",)),  # other arguments
        Cursors("things", {}).encode(("a",)),
        "bm90IGpzb24",  # base64 of "not json"
        "%%%",
    ]
    for cursor in others:
        for name in ("after", "before"):
            with pytest.raises(GraphQLError) as refused:
                paginate(source, PageArgs(**{name: cursor}), CURSORS)
            assert refused.value.extensions is not None
            assert refused.value.extensions["code"] == "BAD_USER_INPUT", cursor
            assert refused.value.extensions["field"] == name
    # Keys of another shape, under the right binding, are refused too (never a 500).
    forged: Key = (1, 2)
    with pytest.raises(GraphQLError):
        paginate(source, PageArgs(after=CURSORS.encode(forged)), CURSORS)


# -- every connection of the API -----------------------------------------------------------------

CASES = """query($asOf: Date!, $team: String, $first: Int, $after: String, $last: Int,
  $before: String) {
  cases(asOf: $asOf, team: $team, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id childId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
WORKERS = CASES.replace("cases(", "workers(").replace("childId", "staffId")
TRAIL = """query($child: String!, $first: Int, $after: String, $last: Int, $before: String,
  $kinds: [AuditEntryKind!]) {
  child(childId: $child) {
    auditTrail(first: $first, after: $after, last: $last, before: $before, kinds: $kinds) {
      totalCount
      edges { cursor node { position kind } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
REGISTER = """query($first: Int, $after: String, $last: Int, $before: String) {
  registerItems(kind: OVERSIGHT_TRIGGER, asOf: "2026-03-31", openOnly: false, first: $first,
    after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { itemId localId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def _code(error: dict[str, Any]) -> str:
    return str(error["extensions"]["code"])


def _pick(answer: dict[str, Any], field: str) -> Any:
    found = answer[field]
    return found["auditTrail"] if field == "child" else found


def _all_pages(api: Api, token: str, document: str, field: str, **variables: Any) -> list[Any]:
    """Every item of a connection, forwards one at a time, then backwards, checked equal."""
    forwards: list[Any] = []
    after = None
    while True:
        answer = api.query(document, token, {**variables, "first": 1, "after": after})
        found = _pick(answer, field)
        forwards += [e["node"] for e in found["edges"]]
        assert found["totalCount"] >= len(forwards)
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    backwards: list[Any] = []
    before = None
    while True:
        answer = api.query(document, token, {**variables, "last": 2, "before": before})
        found = _pick(answer, field)
        backwards[:0] = [e["node"] for e in found["edges"]]
        if not found["pageInfo"]["hasPreviousPage"]:
            break
        before = found["pageInfo"]["startCursor"]
    assert backwards == forwards
    assert found["totalCount"] == len(forwards)
    return forwards


def test_cases_and_workers_page_both_ways_with_counts_and_node_ids(api: Api) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    cases = _all_pages(api, manager, CASES, "cases", asOf="2026-03-31")
    assert [c["childId"] for c in cases] == ["C1", "C2"]
    assert cases[0]["id"] == global_id("Case", AUTHORITY, "C1")
    workers = _all_pages(api, manager, WORKERS, "workers", asOf="2026-03-31")
    assert [w["staffId"] for w in workers] == ["SM1", "SW1", "SW2", "SW3", "TM1", "TM2"]
    team = api.query(WORKERS, manager, {"asOf": "2026-03-31", "team": "Team A", "last": 1})
    page = team["workers"]
    assert [e["node"]["staffId"] for e in page["edges"]] == ["TM1"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasPreviousPage"] and not page["pageInfo"]["hasNextPage"]


def test_an_audit_trail_pages_both_ways_and_by_kinds(api: Api) -> None:
    manager = api.token("TM1", Role.TEAM_MANAGER)
    entries = _all_pages(api, manager, TRAIL, "child", child="C1")
    # The whole trail, read in one page at the end, is what the pages gave, in order.
    whole = api.query(TRAIL, manager, {"child": "C1", "first": MAX_PAGE})["child"]["auditTrail"]
    listed = [e["node"] for e in whole["edges"]]
    assert listed == entries
    positions = [int(e["position"]) for e in entries]
    assert positions == sorted(set(positions))
    kinds = {e["kind"] for e in entries}
    one = sorted(kinds)[0]
    only = api.query(TRAIL, manager, {"child": "C1", "kinds": [one], "first": MAX_PAGE})
    trail = only["child"]["auditTrail"]
    assert {e["node"]["kind"] for e in trail["edges"]} == {one}
    assert trail["totalCount"] == len(trail["edges"])


def test_a_register_is_a_connection(api: Api) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    items = _all_pages(api, manager, REGISTER, "registerItems")
    assert items, "the story's allocations open oversight triggers"
    old = api.query(
        """{ register(kind: OVERSIGHT_TRIGGER, asOf: "2026-03-31", openOnly: false) {
            itemId localId } }""",
        manager,
    )["register"]
    assert sorted((i["itemId"], i["localId"]) for i in old) == sorted(
        (i["itemId"], i["localId"]) for i in items
    )


def test_a_cursor_of_another_connection_or_other_arguments_is_bad_input(api: Api) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    cases = api.query(CASES, manager, {"asOf": "2026-03-31", "first": 1})["cases"]
    cursor = cases["pageInfo"]["endCursor"]
    trail = api.query(TRAIL, manager, {"child": "C1", "first": 1})["child"]["auditTrail"]
    trail_cursor = trail["pageInfo"]["endCursor"]
    refusals = [
        (WORKERS, {"asOf": "2026-03-31", "after": cursor}, "after"),  # another list
        (CASES, {"asOf": "2026-04-01", "after": cursor}, "after"),  # another asOf
        (CASES, {"asOf": "2026-03-31", "team": "Team A", "before": cursor}, "before"),
        (TRAIL, {"child": "C2", "after": trail_cursor}, "after"),  # another child's trail
        (TRAIL, {"child": "C1", "kinds": ["ACCESS"], "after": trail_cursor}, "after"),
        (CASES, {"asOf": "2026-03-31", "after": trail_cursor}, "after"),
        (REGISTER, {"before": cursor}, "before"),
        (CASES, {"asOf": "2026-03-31", "first": 1, "last": 1}, "last"),
        # Bound right, but a key of another shape: forged, refused before any query.
        (TRAIL, {"child": "C1", "before": trail_cursors(*C1).encode(("x",))}, "before"),
        (TRAIL, {"child": "C1", "after": trail_cursors(*C1).encode((1, 2))}, "after"),
    ]
    for document, variables, field in refusals:
        error = api.error(document, manager, variables)
        assert _code(error) == "BAD_USER_INPUT", (variables, error)
        assert error["extensions"]["field"] == field, (variables, error)
    # The same cursor with the same arguments pages on.
    rest = api.query(CASES, manager, {"asOf": "2026-03-31", "after": cursor})["cases"]
    assert [e["node"]["childId"] for e in rest["edges"]] == ["C2"]
    # A negative page size is refused before anything runs.
    negative = api.raw({"query": CASES, "variables": {"asOf": "2026-03-31", "last": -1}}, manager)
    error = negative.json()["errors"][0]
    assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "last"


# -- node and nodes --------------------------------------------------------------------------

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Child { childId } ... on Worker { staffId } ... on Case { childId team }
  ... on StaffMember { staffId } ... on AllocatedChild { childId }
  ... on Supervisee { staffId } } }"""


def _nodes(api: Api, token: str, ids: list[str]) -> tuple[list[Any], dict[int, str]]:
    """The nodes, and each error's code by the index it is at."""
    answer = api.raw({"query": NODES, "variables": {"ids": ids}}, token).json()
    errors: dict[int, str] = {}
    for error in answer.get("errors", []):
        assert error["path"][0] == "nodes", error
        errors[int(error["path"][1])] = error["extensions"]["code"]
    return answer["data"]["nodes"], errors


def test_nodes_reads_each_id_as_its_own_field_would(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    ids = [
        global_id("Child", AUTHORITY, "C1"),  # allocated to SW1: read, and logged
        global_id("Child", OTHER, "C1"),  # another authority's
        global_id("Worker", AUTHORITY, "SW3"),  # a peer's personal file
        global_id("Child", AUTHORITY, "C2"),  # another team's child
        global_id("AllocatedChild", AUTHORITY, "C1"),  # on SW1's caseload
        global_id("AllocatedChild", AUTHORITY, "C2"),  # not on it
        global_id("Case", AUTHORITY, "C1"),  # a manager's list: not SW1's to read
        global_id("Worker", AUTHORITY, "SW1"),  # their own file
    ]
    before = len(topics(api.application))
    found, errors = _nodes(api, sw1, ids)
    assert found[0] == {"__typename": "Child", "id": ids[0], "childId": "C1"}
    assert found[4] == {"__typename": "AllocatedChild", "id": ids[4], "childId": "C1"}
    assert found[7] == {"__typename": "Worker", "id": ids[7], "staffId": "SW1"}
    assert [found[i] for i in (1, 2, 3, 5, 6)] == [None] * 5
    assert errors == {1: "NOT_FOUND", 2: "NOT_FOUND", 3: "NOT_FOUND", 5: "NOT_FOUND",
                      6: "FORBIDDEN"}  # fmt: skip
    # The two records read were logged, one read each; the refused ones were not.
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 2


def test_list_items_resolve_by_their_id_for_who_may_read_the_list(api: Api) -> None:
    tm1 = api.token("TM1", Role.TEAM_MANAGER)  # Team A's manager
    ids = [
        global_id("Case", AUTHORITY, "C1"),  # Team A's
        global_id("Case", AUTHORITY, "C2"),  # Team B's: not their list
        global_id("Case", AUTHORITY, "C9"),  # none such: as refused as Team B's
        global_id("StaffMember", AUTHORITY, "SW1"),
        global_id("Supervisee", AUTHORITY, "SW1"),  # TM1 line manages SW1
        global_id("Supervisee", AUTHORITY, "SW2"),  # TM2's
        global_id("Nonsense", AUTHORITY, "X"),
    ]
    before = len(topics(api.application))
    found, errors = _nodes(api, tm1, ids)
    assert found[0] == {"__typename": "Case", "id": ids[0], "childId": "C1", "team": "Team A"}
    assert found[3] == {"__typename": "StaffMember", "id": ids[3], "staffId": "SW1"}
    assert found[4] == {"__typename": "Supervisee", "id": ids[4], "staffId": "SW1"}
    assert errors == {1: "FORBIDDEN", 2: "FORBIDDEN", 5: "NOT_FOUND", 6: "NOT_FOUND"}
    assert len(topics(api.application)) == before  # list items are not records: no log
    # Every id a list gives is one node(id:) gives back.
    listed = api.query(
        """{ viewer { caseload { edges { node { id childId } } }
            supervisees { edges { node { id staffId } } } } }""",
        tm1,
    )["viewer"]
    for edge in listed["supervisees"]["edges"]:
        again = api.query(
            """query($id: ID!) { node(id: $id) { id ... on Supervisee { staffId } } }""",
            tm1,
            {"id": edge["node"]["id"]},
        )["node"]
        assert again == edge["node"]


def test_nodes_refuses_an_empty_or_too_long_list(api: Api) -> None:
    sw1 = api.token("SW1", Role.PRACTITIONER)
    for ids in ([], [global_id("Child", AUTHORITY, "C1")] * 101):
        error = api.error(NODES, sw1, {"ids": ids})
        assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "ids"
    garbage = api.raw({"query": NODES, "variables": {"ids": ["%%%"]}}, sw1).json()
    assert garbage["data"]["nodes"] == [None]
    assert _code(garbage["errors"][0]) == "BAD_USER_INPUT"


ENTRY = """query($id: ID!) { node(id: $id) { __typename id
  ... on AuditEntry { position kind summary }
  ... on RegisterItem { itemId localId } } }"""


def test_audit_entries_resolve_by_their_id_as_the_trail_reads_them(api: Api) -> None:
    """An audit trail entry's id gives it back through its record: opened, authorised and
    logged with the purpose, as the trail is; to no one who may not read the record."""
    manager = api.token("TM1", Role.TEAM_MANAGER)
    trail = api.query(
        """{ child(childId: "C1") { auditTrail(first: 3) {
            edges { node { id position kind summary } } } } }""",
        manager,
    )["child"]["auditTrail"]["edges"]
    assert trail
    for edge in trail:
        before = len(topics(api.application))
        again = api.query(ENTRY, manager, {"id": edge["node"]["id"]})["node"]
        assert again == {"__typename": "AuditEntry", **edge["node"]}
        assert topics(api.application)[before:].count(RecordAccessed.__name__) == 1
    first = trail[0]["node"]
    # Team B's practitioner may not read C1: its entries answer as missing ones, unlogged.
    outsider = api.token("SW2", Role.PRACTITIONER)
    before = len(topics(api.application))
    refused = api.error(ENTRY, outsider, {"id": first["id"]})
    assert _code(refused) == "NOT_FOUND"
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 0
    # A position the subject's trail does not hold, a malformed id and another authority's.
    for forged in (
        global_id("AuditEntry", AUTHORITY, "child/C1/999999999"),
        global_id("AuditEntry", AUTHORITY, "child/C1/first"),
        global_id("AuditEntry", AUTHORITY, "case/C1/1"),
        global_id("AuditEntry", AUTHORITY, "child/C1/\u00b2"),  # a digit, not an ASCII one
        global_id("AuditEntry", AUTHORITY, "child/C1/" + "9" * 30),  # past any position
        global_id("AuditEntry", OTHER, f"child/C1/{first['position']}"),
    ):
        assert _code(api.error(ENTRY, manager, {"id": forged})) == "NOT_FOUND", forged


def test_register_items_resolve_by_their_id_for_who_may_read_the_register(api: Api) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    listed = api.query(
        """{ registerItems(kind: OVERSIGHT_TRIGGER, asOf: "2026-03-31", openOnly: false) {
            edges { node { id itemId localId team } } } }""",
        manager,
    )["registerItems"]["edges"]
    assert listed
    ids = {edge["node"]["id"] for edge in listed}
    assert len(ids) == len(listed)  # each item its own id
    for edge in listed:
        node = edge["node"]
        again = api.query(ENTRY, manager, {"id": node["id"]})["node"]
        assert again == {
            "__typename": "RegisterItem", "id": node["id"],
            "itemId": node["itemId"], "localId": node["localId"],
        }  # fmt: skip
    # A register is an authority report: a practitioner may not read its items by id
    # either, and an item that is not there is refused the same way.
    practitioner = api.token("SW1", Role.PRACTITIONER)
    assert _code(api.error(ENTRY, practitioner, {"id": listed[0]["node"]["id"]})) == "FORBIDDEN"
    missing = global_id("RegisterItem", AUTHORITY, "oversight_trigger/nobody/T-NONE")
    assert _code(api.error(ENTRY, practitioner, {"id": missing})) == "FORBIDDEN"
    assert _code(api.error(ENTRY, manager, {"id": missing})) == "NOT_FOUND"
    # Another team's manager: the item is not on their team's register.
    team_b = api.token("TM2", Role.TEAM_MANAGER)
    on_team_a = next(e["node"] for e in listed if e["node"]["team"] == "Team A")
    assert _code(api.error(ENTRY, team_b, {"id": on_team_a["id"]})) == "FORBIDDEN"


def test_a_forged_cursor_past_any_key_is_bad_input_not_a_crash(api: Api) -> None:
    """A cursor is unsigned, so one can be forged with a key no column holds: refused
    like any foreign cursor, naming the argument."""
    manager = api.token("TM1", Role.TEAM_MANAGER)
    cursors = trail_cursors(AUTHORITY, "child", "C1")
    for key in (2**63, -(2**63) - 1, 10**30):
        payload = json.dumps([cursors.connection, cursors.bound, [key]]).encode()
        forged = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        error = api.error(TRAIL, manager, {"child": "C1", "first": 1, "after": forged})
        assert _code(error) == "BAD_USER_INPUT" and error["extensions"]["field"] == "after"
