"""The exports over GraphQL: documents in base64 and the decisions connection, read as
the token's person, logged, and refused as any read is."""

from __future__ import annotations

import base64
import io
import json

from pypdf import PdfReader

from domain import commands as c
from domain.events import RecordAccessed
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.relay import global_id
from tests.exports.conftest import Told
from tests.exports.story import LA, PURGED_WORDS
from tests.graphql_api.conftest import AUTHORITY, START, Api, at
from tests.helpers import topics

CHRONOLOGY = """query($child: String!, $format: ExportFormat!, $asOf: DateTime) {
  chronology(childId: $child, format: $format, asOf: $asOf) {
    format filename mediaType byteLength contentBase64
  }
}"""
DECISIONS = """query($kinds: [DecisionKind!], $first: Int, $after: String, $last: Int,
  $before: String, $team: String) {
  decisions(kinds: $kinds, first: $first, after: $after, last: $last, before: $before,
            team: $team) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id childId kind entryId decider deciderRole decision team
                          ruleIds { id authority } } }
  }
}"""


def _decide(api: Api) -> None:
    manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    api.application.execute(
        c.RecordManagementDecision(
            command_id="md-1", actor=manager, occurred_at=at(START, 15), child_id="C1",
            entry_id="C1-MD1", decision="End the child protection plan", rationale="Safe",
            consulted_by="SM1",
        )
    )  # fmt: skip
    api.catch_up()


def test_a_chronology_document_over_graphql(api: Api) -> None:
    _decide(api)
    token = api.token("SM1", Role.SERVICE_MANAGER)
    pdf = api.query(CHRONOLOGY, token, {"child": "C1", "format": "PDF"})["chronology"]
    assert (pdf["format"], pdf["mediaType"]) == ("PDF", "application/pdf")
    content = base64.b64decode(pdf["contentBase64"])
    assert len(content) == pdf["byteLength"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "End the child protection plan" in text
    as_json = api.query(CHRONOLOGY, token, {"child": "C1", "format": "JSON"})["chronology"]
    document = json.loads(base64.b64decode(as_json["contentBase64"]))
    assert [line["decision"] for line in document["lines"] if line["decision"]] == [
        "End the child protection plan"
    ]


def test_a_chronology_is_refused_as_any_read_is(api: Api) -> None:
    # SW2 (Team B) may not read C1 (Team A): answered as a child that is not there.
    hidden = api.error(
        CHRONOLOGY, api.token("SW2", Role.PRACTITIONER), {"child": "C1", "format": "CSV"}
    )
    missing = api.error(
        CHRONOLOGY, api.token("SW2", Role.PRACTITIONER), {"child": "C9", "format": "CSV"}
    )
    assert hidden["extensions"]["code"] == missing["extensions"]["code"] == "NOT_FOUND"
    assert hidden["message"] == missing["message"]
    assert hidden["extensions"]["field"] == "childId"
    before = api.error(
        CHRONOLOGY,
        api.token("SM1", Role.SERVICE_MANAGER),
        {"child": "C1", "format": "CSV", "asOf": "2020-01-01T00:00:00+00:00"},
    )
    assert before["extensions"]["field"] == "asOf"
    assert before["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_decisions_connection_pages_and_is_for_report_readers(api: Api) -> None:
    _decide(api)
    token = api.token("SM1", Role.SERVICE_MANAGER)
    page = api.query(DECISIONS, token, {"kinds": ["MANAGEMENT_DECISION"], "first": 1})["decisions"]
    assert page["totalCount"] == 1
    (edge,) = page["edges"]
    assert edge["node"]["childId"] == "C1" and edge["node"]["team"] == "Team A"
    assert edge["node"]["decision"] == "End the child protection plan"
    assert (edge["node"]["kind"], edge["node"]["deciderRole"]) == (
        "MANAGEMENT_DECISION", "TEAM_MANAGER"
    )  # fmt: skip
    assert all(cited["authority"] == AUTHORITY for cited in edge["node"]["ruleIds"])
    refused = api.error(DECISIONS, api.token("SW1", Role.PRACTITIONER), {"first": 5})
    assert refused["extensions"]["code"] == "FORBIDDEN"


def test_the_decisions_connection_pages_both_ways_and_binds_its_cursors(api: Api) -> None:
    _decide(api)
    manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    api.application.execute(
        c.RecordManagementDecision(
            command_id="md-2", actor=manager, occurred_at=at(START, 20), child_id="C1",
            entry_id="C1-MD2", decision="Step down to early help", rationale="Stable",
            consulted_by="SM1",
        )
    )  # fmt: skip
    api.catch_up()
    token = api.token("SM1", Role.SERVICE_MANAGER)
    whole = api.query(DECISIONS, token, {"first": 50})["decisions"]
    assert not whole["pageInfo"]["hasNextPage"]
    everything = [e["node"]["entryId"] for e in whole["edges"]]
    assert {"C1-MD1", "C1-MD2"} <= set(everything)
    # One at a time forwards, then backwards from the end: the same list both ways.
    forwards: list[str] = []
    after = None
    while True:
        page = api.query(DECISIONS, token, {"first": 1, "after": after})["decisions"]
        forwards += [e["node"]["entryId"] for e in page["edges"]]
        assert page["totalCount"] == len(everything)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backwards: list[str] = []
    before = None
    while True:
        page = api.query(DECISIONS, token, {"last": 1, "before": before})["decisions"]
        backwards = [e["node"]["entryId"] for e in page["edges"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert forwards == backwards == everything
    # A cursor of the list asked with other filters is refused, naming the argument.
    cursor = whole["edges"][0]["cursor"]
    foreign = api.error(DECISIONS, token, {"first": 1, "after": cursor, "team": "Team A"})
    assert foreign["extensions"]["code"] == "BAD_USER_INPUT"
    assert foreign["extensions"]["field"] == "after"
    both = api.error(DECISIONS, token, {"first": 1, "last": 1})
    assert both["extensions"]["code"] == "BAD_USER_INPUT"


REVIEW = """query($child: String!, $at: DateTime!, $format: ExportFormat!) {
  reviewPack(childId: $child, at: $at, format: $format) { format filename contentBase64 }
}"""


def test_a_review_pack_over_graphql_and_its_bad_input(api: Api) -> None:
    _decide(api)
    token = api.token("SM1", Role.SERVICE_MANAGER)
    later = "2027-01-01T00:00:00+00:00"  # after everything was recorded
    pack = api.query(REVIEW, token, {"child": "C1", "at": later, "format": "JSON"})["reviewPack"]
    assert pack["filename"] == "review-pack-API-LA-C1.json"
    document = json.loads(base64.b64decode(pack["contentBase64"]))
    assert [d["entry"] for d in document["decided"]] == ["C1-MD1"]
    assert document["worker"] == "SW1"
    early = api.error(REVIEW, token, {"child": "C1", "at": "2020-01-01T00:00:00Z", "format": "PDF"})
    assert (early["extensions"]["code"], early["extensions"]["field"]) == ("BAD_USER_INPUT", "at")
    naive = api.error(REVIEW, token, {"child": "C1", "at": "2027-01-01T00:00:00", "format": "PDF"})
    assert naive["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = api.error(REVIEW, token, {"child": "C1", "at": later, "format": "DOCX"})
    assert unknown["extensions"]["code"] == "BAD_USER_INPUT"


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on DecisionItem { childId entryId decision } } }"""


def test_a_decision_resolves_by_its_id_as_the_list_reads_it(api: Api) -> None:
    _decide(api)
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    (edge,) = api.query(DECISIONS, manager, {"kinds": ["MANAGEMENT_DECISION"], "first": 5})[
        "decisions"
    ]["edges"]
    before = len(topics(api.application))
    again = api.query(NODE, manager, {"id": edge["node"]["id"]})["node"]
    assert again == {
        "__typename": "DecisionItem", "id": edge["node"]["id"], "childId": "C1",
        "entryId": "C1-MD1", "decision": "End the child protection plan",
    }  # fmt: skip
    # The child's record was opened to read it: logged once, as the list logs each child.
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 1
    # A practitioner reads no report, so no decision by id either (there or not).
    practitioner = api.token("SW1", Role.PRACTITIONER)
    forged = global_id("Decision", AUTHORITY, "C1/999999")
    before = len(topics(api.application))
    for given in (edge["node"]["id"], forged):
        refused = api.error(NODE, practitioner, {"id": given})
        assert refused["extensions"]["code"] == "FORBIDDEN"
    # Refused before anything was opened: no child's record, no personal file logged.
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 0
    # A report reader gets a missing one, or another authority's, as not found.
    for given in (forged, global_id("Decision", AUTHORITY, "nonsense"),
                  global_id("Decision", AUTHORITY, "C1/\u00b2"),
                  global_id("Decision", AUTHORITY, "C404/1"),  # no such child
                  global_id("Decision", "OTHER", "C1/1")):  # fmt: skip
        assert api.error(NODE, manager, {"id": given})["extensions"]["code"] == "NOT_FOUND"


def test_a_trail_with_the_lines_a_purge_left_reads_whole(api: Api, told: Told) -> None:
    """The story purges SW1-S2: the line the purge leaves on SW1's trail keeps no actor's
    role, and every page of the trail, and each line by its id, still reads."""
    manager = api.token("SM1", Role.SERVICE_MANAGER, authority=LA)
    trail = api.query(
        """{ worker(staffId: "SW1") { auditTrail(first: 200) {
            totalCount edges { node { id kind actorRole summary } } } } }""",
        manager,
    )["worker"]["auditTrail"]
    nodes = [e["node"] for e in trail["edges"]]
    assert len(nodes) == trail["totalCount"]
    purged = [n for n in nodes if n["actorRole"] is None]
    assert purged, "the purge leaves a line without a role"
    assert all(PURGED_WORDS not in n["summary"] for n in nodes)
    again = api.query(NODE_ENTRY, manager, {"id": purged[0]["id"]})["node"]
    assert again == {"id": purged[0]["id"], "actorRole": None}


NODE_ENTRY = """query($id: ID!) { node(id: $id) { id ... on AuditEntry { actorRole } } }"""


def test_decisions_log_only_the_children_of_the_page_and_refuse_a_bad_purpose(
    api: Api,
) -> None:
    _decide(api)
    manager = Actor("TM2", Role.TEAM_MANAGER, AUTHORITY)
    api.application.execute(
        c.RecordManagementDecision(
            command_id="md-c2", actor=manager, occurred_at=at(START, 16), child_id="C2",
            entry_id="C2-MD1", decision="Convene a strategy meeting", rationale="New concern",
            consulted_by="SM1",
        )
    )  # fmt: skip
    api.catch_up()
    token = api.token("SM1", Role.SERVICE_MANAGER)
    before = len(topics(api.application))
    page = api.query(DECISIONS, token, {"kinds": ["MANAGEMENT_DECISION"], "first": 1})["decisions"]
    assert page["totalCount"] == 2 and len(page["edges"]) == 1
    # One child given out, one read logged: the other child's decision was counted only.
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 1
    for purpose in (" ", "\u0000", "x" * 501):
        before = len(topics(api.application))
        refused = api.error(
            """query($purpose: String!) { decisions(purpose: $purpose) { totalCount } }""",
            token,
            {"purpose": purpose},
        )
        assert refused["extensions"]["code"] == "BAD_USER_INPUT"
        assert refused["extensions"]["field"] == "purpose"
        assert len(topics(api.application)) == before
