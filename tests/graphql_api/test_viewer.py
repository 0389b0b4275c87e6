"""``viewer``: the signed-in caller's person, authority, teams, line manager, caseload and
supervisees, all from the token (issue 22, item 5), on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.limits import MAX_PAGE
from tests.graphql_api.conftest import AUTHORITY, OTHER, START, Api, at
from tests.helpers import topics

VIEWER = """
query ($first: Int!, $caseloadAfter: String, $superviseesAfter: String) {
  viewer {
    staffId role authority
    localAuthority { code name pack }
    person { displayName post }
    teams { name member manages }
    lineManager { staffId displayName }
    caseload(first: $first, after: $caseloadAfter) {
      edges { cursor node { childId team caseType riskLevel closed } }
      pageInfo { hasNextPage endCursor }
    }
    supervisees(first: $first, after: $superviseesAfter) {
      edges { cursor node { staffId displayName role team } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def _viewer(api: Api, token: str, first: int = 50, after: str | None = None) -> dict[str, Any]:
    """The viewer, with ``after`` the supervisees' cursor."""
    variables = {"first": first, "superviseesAfter": after}
    answer: dict[str, Any] = api.query(VIEWER, token, variables)["viewer"]
    return answer


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def test_a_practitioner_sees_their_team_line_manager_and_allocated_children(api: Api) -> None:
    before = len(topics(api.application))
    viewer = _viewer(api, api.token("SW1", Role.PRACTITIONER))
    assert viewer["staffId"] == "SW1"
    assert viewer["role"] == "PRACTITIONER"
    assert viewer["authority"] == AUTHORITY
    assert viewer["localAuthority"] == {
        "code": AUTHORITY, "name": f"{AUTHORITY} Council", "pack": "DUR",
    }  # fmt: skip
    assert viewer["person"] == {"displayName": "Worker SW1", "post": "SOCIAL_WORKER"}
    assert viewer["teams"] == [{"name": "Team A", "member": True, "manages": False}]
    assert viewer["lineManager"] == {"staffId": "TM1", "displayName": "Worker TM1"}
    assert _nodes(viewer["caseload"]) == [
        {"childId": "C1", "team": "Team A", "caseType": "cin", "riskLevel": "medium",
         "closed": None}
    ]  # fmt: skip
    assert viewer["caseload"]["pageInfo"]["hasNextPage"] is False
    assert _nodes(viewer["supervisees"]) == []
    # Reading one's own place and caseload opens no record: nothing is logged.
    assert len(topics(api.application)) == before


def test_a_team_manager_sees_their_supervisees_and_the_team_they_manage(api: Api) -> None:
    viewer = _viewer(api, api.token("TM1", Role.TEAM_MANAGER))
    assert viewer["person"] == {"displayName": "Worker TM1", "post": "TEAM_MANAGER"}
    assert viewer["teams"] == [{"name": "Team A", "member": True, "manages": True}]
    assert viewer["lineManager"] == {"staffId": "SM1", "displayName": "Worker SM1"}
    assert _nodes(viewer["supervisees"]) == [
        {"staffId": "SW1", "displayName": "Worker SW1", "role": "SOCIAL_WORKER", "team": "Team A"},
        {"staffId": "SW3", "displayName": "Worker SW3", "role": "SOCIAL_WORKER", "team": "Team A"},
    ]
    assert _nodes(viewer["caseload"]) == []


def test_a_service_manager_manages_teams_they_are_not_in(api: Api) -> None:
    viewer = _viewer(api, api.token("SM1", Role.SERVICE_MANAGER))
    assert viewer["teams"] == [
        {"name": "Leadership", "member": True, "manages": False},
        {"name": "Team A", "member": False, "manages": True},
        {"name": "Team B", "member": False, "manages": True},
    ]
    assert viewer["lineManager"] is None
    assert [n["staffId"] for n in _nodes(viewer["supervisees"])] == ["TM1", "TM2"]


def test_supervisees_page_with_opaque_cursors(api: Api) -> None:
    token = api.token("TM1", Role.TEAM_MANAGER)
    first = _viewer(api, token, first=1)["supervisees"]
    assert [n["staffId"] for n in _nodes(first)] == ["SW1"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert "SW1" not in first["pageInfo"]["endCursor"]
    second = _viewer(api, token, first=1, after=first["pageInfo"]["endCursor"])["supervisees"]
    assert [n["staffId"] for n in _nodes(second)] == ["SW3"]
    assert second["pageInfo"]["hasNextPage"] is False


def test_a_token_of_another_authority_never_sees_this_authoritys_data(api: Api) -> None:
    # The same staff id, in another authority where no worker SW1 is registered.
    viewer = _viewer(api, api.token("SW1", Role.PRACTITIONER, authority=OTHER))
    assert viewer["authority"] == OTHER
    assert viewer["localAuthority"]["code"] == OTHER
    assert viewer["person"] is None
    assert viewer["teams"] == []
    assert viewer["lineManager"] is None
    assert _nodes(viewer["caseload"]) == []
    assert _nodes(viewer["supervisees"]) == []


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.PRACTITIONER])
def test_a_token_for_someone_not_a_worker_gets_empty_lists(api: Api, role: Role) -> None:
    viewer = _viewer(api, api.token("ADMIN", role))
    assert (viewer["staffId"], viewer["role"]) == ("ADMIN", role.name)
    assert viewer["person"] is None
    assert viewer["teams"] == []
    assert viewer["lineManager"] is None
    assert viewer["caseload"] == {
        "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None},
    }  # fmt: skip
    assert _nodes(viewer["supervisees"]) == []


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1])
@pytest.mark.parametrize("connection", ["caseload", "supervisees"])
def test_a_bad_page_size_is_bad_user_input_naming_first(
    api: Api, first: int, connection: str
) -> None:
    document = (
        "query ($first: Int!) { viewer { " + connection + "(first: $first) { edges { cursor } } } }"
    )
    error = api.error(document, api.token("SW1", Role.PRACTITIONER), {"first": first})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"


def test_a_cursor_of_another_list_is_bad_user_input_naming_after(api: Api) -> None:
    token = api.token("TM1", Role.TEAM_MANAGER)
    issued = _viewer(api, token, first=1)["supervisees"]["pageInfo"]["endCursor"]
    document = "query ($after: String) { viewer { caseload(after: $after) { edges { cursor } } } }"
    error = api.error(document, token, {"after": issued})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "after"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(min_value=1, max_value=3))
def test_paging_the_supervisees_lists_each_once_in_order(api: Api, size: int) -> None:
    token = api.token("SM1", Role.SERVICE_MANAGER)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = _viewer(api, token, first=size, after=after)["supervisees"]
        seen += [n["staffId"] for n in _nodes(page)]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["TM1", "TM2"]


def test_a_reallocation_moves_the_child_between_caseloads_at_once(api: Api) -> None:
    """The caseload is the relationship table's (the write model): no read model to wait on."""
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    api.application.execute(
        c.AllocateWorker(
            command_id="realloc-C1", actor=admin, occurred_at=at(START, 12),
            child_id="C1", worker_id="SW3", reason="MANAGE", team="Team A",
        )
    )  # fmt: skip
    assert _nodes(_viewer(api, api.token("SW1", Role.PRACTITIONER))["caseload"]) == []
    moved = _nodes(_viewer(api, api.token("SW3", Role.PRACTITIONER))["caseload"])
    assert [n["childId"] for n in moved] == ["C1"]


def test_a_closed_case_is_listed_as_closed_until_it_is_reallocated(api: Api) -> None:
    """Closing a case does not take it off the worker's allocation (the relationship
    table keeps who holds it): the caseload says it is closed, and how."""
    api.application.execute(
        c.CloseCase(
            command_id="close-C1", actor=Actor("TM1", Role.TEAM_MANAGER, AUTHORITY),
            occurred_at=at(START, 12), child_id="C1", kind="closed", reason="Plan met",
        )
    )  # fmt: skip
    api.catch_up()
    nodes = _nodes(_viewer(api, api.token("SW1", Role.PRACTITIONER))["caseload"])
    assert [(n["childId"], n["closed"]) for n in nodes] == [("C1", "closed")]
