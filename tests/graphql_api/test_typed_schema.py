"""The schema is typed (issue 22 item 3, ADR 0028): no JSON scalar carries domain data;
every catalogue event, entry kind, subject's attributes, register detail and correction
is an object type with camelCase fields; kinds, statuses and roles are enums mirroring
the domain's vocabularies; rule IDs are citations from the subject's own authority's
pack. The last tests read each through the API on both backends."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from domain import commands as c
from domain.child import Child as ChildAggregate
from domain.events import CATALOGUE
from domain.policy.compliance import Status
from domain.policy.packs import RETENTION_RECORDS, PackLibrary, accounted_clauses
from domain.policy.quality import AuditRecord
from domain.policy.timeline import ENTRIES
from domain.provenance import Actor
from domain.team_sessions import TeamSessionKind
from domain.vocabulary import Role
from domain.worker import Worker as WorkerAggregate
from graphql_api.names import camel
from graphql_api.schema import build_schema
from graphql_api.types import enums as e
from graphql_api.types.citations import citation
from graphql_api.types.entries import ENTRY_FIELDS, ENTRY_TYPES, OWN_KIND
from graphql_api.types.events import EVENT_TYPES, content_fields
from graphql_api.types.events import OWN_KIND as EVENT_OWN_KIND
from graphql_api.types.inputs import CORRECTABLE
from tests.graphql_api.conftest import AUTHORITY, Api

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema()._schema

#: String fields named for a vocabulary that stay text, and why (ADR 0028).
TEXT_ON_PURPOSE = {
    "judgement": "an audit's judgement is on the authority's own tool's scale (its pack's "
    "judgements): no rule of one authority may bind another's, so no one enum",
    "graded": "the auditor's judgement before moderation: the authority's own scale",
    "legalStatus": "an SSDA903 legal status code as the return gives it (the importer "
    "keeps the code list)",
}

VOCABULARY = re.compile(r"(kind|status|role|judgement|graded|post)$", re.IGNORECASE)


def _output_fields() -> list[tuple[str, str, Any]]:
    return [
        (name, field_name, field)
        for name, kind in SCHEMA.type_map.items()
        if not name.startswith("__") and isinstance(kind, GraphQLObjectType | GraphQLInterfaceType)
        for field_name, field in kind.fields.items()
    ]


def test_no_json_scalar_carries_anything() -> None:
    assert "JSON" not in SCHEMA.type_map
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert not re.search(r":\s*\[?JSON", committed)


def test_every_catalogue_event_has_its_object_type() -> None:
    event = SCHEMA.type_map["Event"]
    assert isinstance(event, GraphQLInterfaceType)
    implementing = {t.name for t in SCHEMA.get_possible_types(event)}
    assert implementing == {f"{name}Event" for name in CATALOGUE}
    kinds = SCHEMA.type_map["EventKind"]
    assert isinstance(kinds, GraphQLEnumType)
    assert {v.value for v in kinds.values.values()} == set(CATALOGUE)
    for name, cls in CATALOGUE.items():
        made = SCHEMA.type_map[f"{name}Event"]
        assert isinstance(made, GraphQLObjectType) and made.description
        expected = {
            camel(EVENT_OWN_KIND[cls]) if field == "kind" else camel(field)
            for field in content_fields(cls)
        }
        assert expected <= set(made.fields), (name, expected - set(made.fields))
        assert cls in EVENT_TYPES


def test_every_entry_kind_has_its_object_type_with_what_a_correction_may_change() -> None:
    entry = SCHEMA.type_map["Entry"]
    assert isinstance(entry, GraphQLInterfaceType)
    kinds = {e_.kind for e_ in ENTRIES.values()}
    assert set(ENTRY_TYPES) == kinds
    assert {t.name for t in SCHEMA.get_possible_types(entry)} == {
        ENTRY_TYPES[k].__name__ for k in kinds
    }
    for aggregate in (WorkerAggregate, ChildAggregate):
        for kind, fields in aggregate.CORRECTABLE.items():
            made = ENTRY_FIELDS[kind]
            names = {OWN_KIND.get(kind, f) if f == "kind" else f for f in fields}
            assert names <= set(made), (kind, names - set(made))


def test_the_changes_input_is_every_correctable_field() -> None:
    stored = {s for s, _ in CORRECTABLE.values()}
    correctable = {
        f
        for aggregate in (WorkerAggregate, ChildAggregate)
        for fs in aggregate.CORRECTABLE.values()
        for f in fs
    }
    assert stored == correctable
    changes = SCHEMA.type_map["EntryChangesInput"]
    assert isinstance(changes, GraphQLInputObjectType)
    assert set(changes.fields) == {camel(name) for name in CORRECTABLE}


def test_every_vocabulary_field_is_an_enum_or_text_on_purpose() -> None:
    """Output fields named for a kind, status, role or judgement are enums, or are in
    ``TEXT_ON_PURPOSE`` with the reason (inputs stay text: the domain refuses a value it
    does not know with a typed error naming the field and the rule, ADR 0028)."""
    offenders = [
        f"{name}.{field_name}"
        for name, field_name, field in _output_fields()
        if VOCABULARY.search(field_name)
        and isinstance(get_named_type(field.type), GraphQLScalarType)
        and field_name not in TEXT_ON_PURPOSE
    ]
    assert offenders == [], (
        "these fields are named for a vocabulary but typed as text; make them enums "
        f"(graphql_api/types/enums.py) or say why in TEXT_ON_PURPOSE: {offenders}"
    )


@pytest.mark.parametrize(
    ("mirror", "domain"),
    [
        (e.Role_, [r.value for r in Role]),
        (e.FindingStatus, [s.value for s in Status]),
        (e.AuditedRecord, [r.value for r in AuditRecord]),
        (e.TeamSessionKind_, [k.value for k in TeamSessionKind]),
        (e.RecordClass, sorted(RETENTION_RECORDS)),
        (e.EntryKind, sorted({x.kind for x in ENTRIES.values()})),
    ],
)
def test_each_enum_mirrors_its_domain_vocabulary(mirror: Any, domain: list[str]) -> None:
    assert sorted(e.stored_value(m) for m in mirror) == sorted(domain)


def test_the_audit_trail_kinds_are_those_the_trail_files_entries_under() -> None:
    source = (ROOT / "projections" / "audit_trail.py").read_text(encoding="utf-8")
    written = set(re.findall(r'Described\(\s*"([a-z_]+)"', source)) | set(
        re.findall(r'"kind": "([a-z_]+)"', source)
    )
    assert written == set(e.AUDIT_ENTRY_WORDS)


def test_a_citation_comes_from_the_authoritys_own_pack_only() -> None:
    library = PackLibrary.load()
    for pack_id, pack in library.packs.items():
        lineage = {pack_id}
        parent = pack.extends
        while parent:
            lineage.add(parent)
            parent = library.packs[parent].extends
        for clause in accounted_clauses(pack, library):
            cited = citation(library, pack_id, clause)
            assert cited.pack in lineage, (pack_id, clause, cited.pack)
            assert cited.authority == library.packs[cited.pack].name
        for other_id, other in library.packs.items():
            if other_id in lineage:
                continue
            for clause in accounted_clauses(other, library) - accounted_clauses(pack, library):
                assert citation(library, pack_id, clause).pack is None, (pack_id, clause)


# -- through the API ---------------------------------------------------------------------------


def _write(api: Api) -> None:
    """A session held and corrected, a record signed by one party, a trigger and a
    disagreement escalated, on the fixture's story (Durham's pack)."""
    app = api.application
    tm1 = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    sw1 = Actor("SW1", Role.SOCIAL_WORKER, AUTHORITY)
    day = datetime.now(UTC) - timedelta(days=3)
    app.execute(
        c.HoldSupervisionSession(
            command_id="ty-held", actor=tm1, occurred_at=day, staff_id="SW1", session_id="TY-S1",
            supervisor_id="TM1", duration_minutes=60, functions_covered=["management", "support"],
            wellbeing_discussed=True, equality_and_diversity_discussed=False,
        )
    )  # fmt: skip
    app.execute(
        c.CorrectEntry(
            command_id="ty-corrected", actor=tm1, occurred_at=day + timedelta(hours=2),
            staff_id="SW1", entry_id="TY-S1", changes={"duration_minutes": 75},
            reason="The session ran on.",
        )
    )  # fmt: skip
    app.execute(
        c.TriggerOversight(
            command_id="ty-trigger", actor=sw1, occurred_at=day, child_id="C1",
            trigger_id="TY-T1", kind="court_direction", detail="An interim care order.",
        )
    )  # fmt: skip
    app.execute(
        c.RaiseDisagreement(
            command_id="ty-raised", actor=sw1, occurred_at=day, child_id="C1",
            disagreement_id="TY-D1", subject="decision_on_child", about="The plan's contact.",
        )
    )  # fmt: skip
    api.catch_up()


TODAY = date.today().isoformat()

STATE = """query($id: String!) { worker(staffId: $id) { state {
  attributes { __typename ... on WorkerAttributes { staffId role employmentPattern fte } }
  entries { __typename id kind
    ... on SupervisionSessionEntry { status durationMinutes functionsCovered supervisorId } }
  events { __typename kind position entry
    ... on SupervisionSessionHeldEvent { sessionId durationMinutes functionsCovered }
    ... on EntryCorrectedEvent { entryId reason changes { field value } } } } } }"""


def test_a_workers_state_is_typed_through_the_api(api: Api) -> None:
    _write(api)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    state = api.query(STATE, tm1, {"id": "SW1"})["worker"]["state"]
    assert state["attributes"] == {
        "__typename": "WorkerAttributes", "staffId": "SW1", "role": "SOCIAL_WORKER",
        "employmentPattern": "FULL_TIME", "fte": "1",
    }  # fmt: skip
    [session] = [x for x in state["entries"] if x["id"] == "TY-S1"]
    assert session == {
        "__typename": "SupervisionSessionEntry", "id": "TY-S1", "kind": "SUPERVISION_SESSION",
        "status": "HELD", "durationMinutes": 75, "functionsCovered": ["MANAGEMENT", "SUPPORT"],
        "supervisorId": "TM1",
    }  # fmt: skip
    [held] = [x for x in state["events"] if x["kind"] == "SUPERVISION_SESSION_HELD"]
    assert held["durationMinutes"] == 60 and held["entry"] == "TY-S1"  # as recorded
    [corrected] = [x for x in state["events"] if x["kind"] == "ENTRY_CORRECTED"]
    assert corrected["changes"] == [{"field": "durationMinutes", "value": "75"}]
    assert corrected["__typename"] == "EntryCorrectedEvent"


def test_registers_and_the_trail_are_typed_and_cite_the_authoritys_own_pack(api: Api) -> None:
    _write(api)
    sm1 = api.token("SM1", Role.SERVICE_MANAGER)
    today = datetime.now(UTC).date().isoformat()
    triggers = api.query(
        """query($d: Date!) { register(kind: OVERSIGHT_TRIGGER, asOf: $d) {
          subjectKind itemId detail { __typename ... on TriggerDetail { kind automatic } } } }""",
        sm1,
        {"d": today},
    )["register"]
    [trigger] = [t for t in triggers if t["itemId"] == "TY-T1"]
    assert trigger == {
        "subjectKind": "CHILD", "itemId": "TY-T1",
        "detail": {"__typename": "TriggerDetail", "kind": "COURT_DIRECTION", "automatic": False},
    }  # fmt: skip
    disagreements = api.query(
        """query($d: Date!) { register(kind: DISAGREEMENT, asOf: $d) { itemId detail {
          ... on DisagreementDetail { subject about escalations { level on } level } } } }""",
        sm1,
        {"d": today},
    )["register"]
    [raised] = [d for d in disagreements if d["itemId"] == "TY-D1"]
    assert raised["detail"] == {
        "subject": "DECISION_ON_CHILD", "about": "The plan's contact.", "escalations": [],
        "level": None,
    }  # fmt: skip
    trail = api.query(
        """{ child(childId: "C1") { auditTrail(first: 100) { edges { node {
          kind actorRole ruleIds { id pack authority clause source } } } } } }""",
        sm1,
    )["child"]["auditTrail"]["edges"]
    cited = [c_ for edge in trail for c_ in edge["node"]["ruleIds"]]
    assert cited, "the trail cites Durham's clauses for the events it holds"
    assert {c_["pack"] for c_ in cited} <= {"DUR", "SWRB"}
    assert all(c_["id"].startswith(("DUR-", "SWRB")) for c_ in cited)
    assert {edge["node"]["kind"] for edge in trail} >= {"REGISTRATION", "DISAGREEMENT"}
    findings = api.query(
        """query($d: Date!) { worker(staffId: "SW1") { compliance(asOf: $d) {
          findings { ruleId rule { id pack authority clause source } } } } }""",
        sm1,
        {"d": today},
    )["worker"]["compliance"]["findings"]
    assert findings, "Durham's rules find something for a worker two years in post"
    for finding in findings:
        rule = finding["rule"]
        assert rule["id"] == finding["ruleId"] and rule["pack"] in ("DUR", "SWRB"), finding
        assert rule["authority"] and rule["clause"] and rule["source"], finding


def test_a_correction_is_sent_typed_and_stored_as_before(api: Api) -> None:
    """``EntryChangesInput`` is turned back into the stored names and values: a day as ISO
    text, a vocabulary as its stored value."""
    _write(api)
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    sent = api.query(
        """mutation($input: CorrectEntryInput!) { correctEntry(input: $input,
          idempotencyKey: "ty-typed") { __typename ... on RuleViolationProblem { field rule }
          ... on ValidationProblem { field rule } } }""",
        tm1,
        {
            "input": {
                "staffId": "SW1", "entryId": "TY-S1", "reason": "Functions recorded wrongly.",
                "changes": {"functionsCovered": ["DEVELOPMENT"], "heldOn": TODAY},
            }
        },
    )["correctEntry"]  # fmt: skip
    assert sent == {"__typename": "CommandSuccess"}
    api.catch_up()
    state = api.query(STATE, tm1, {"id": "SW1"})["worker"]["state"]
    corrected = [x for x in state["events"] if x["kind"] == "ENTRY_CORRECTED"][-1]
    assert corrected["changes"] == [
        {"field": "functionsCovered", "value": '["development"]'},
        {"field": "heldOn", "value": TODAY},
    ]
    refused = api.query(
        """mutation($input: CorrectEntryInput!) { correctEntry(input: $input,
          idempotencyKey: "ty-bad") { __typename ... on RuleViolationProblem { field rule }
          ... on ValidationProblem { field rule } } }""",
        tm1,
        {
            "input": {
                "staffId": "SW1", "entryId": "TY-S1", "reason": "x",
                "changes": {"decision": "Not a session's field."},
            }
        },
    )["correctEntry"]  # fmt: skip
    assert refused["__typename"] in ("RuleViolationProblem", "ValidationProblem")
    assert refused["field"].startswith("changes")


def test_a_malformed_typed_input_is_a_typed_error_naming_the_field(api: Api) -> None:
    tm1 = api.token("TM1", Role.TEAM_MANAGER)
    error = api.error(
        """mutation($input: CorrectEntryInput!) { correctEntry(input: $input,
          idempotencyKey: "ty-x") { __typename } }""",
        tm1,
        {
            "input": {
                "staffId": "SW1", "entryId": "TY-S1", "reason": "x",
                "changes": {"functionsCovered": ["NOT_A_FUNCTION"]},
            }
        },
    )  # fmt: skip
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "functionsCovered" in error["message"]


def test_every_enum_member_is_written_by_the_name_strawberry_gives_it() -> None:
    """Enum output is a dictionary lookup (``execution._enum_names_by_lookup``, issue 18):
    every member of every enum is written as strawberry's own comparison writes it, and
    what is not a member (a plain value) still goes to strawberry's."""
    from strawberry.schema.schema_converter import CustomGraphQLEnumType

    enums = [
        named
        for named in build_schema()._schema.type_map.values()
        if isinstance(named, CustomGraphQLEnumType)
    ]
    assert len(enums) >= 10
    members = 0
    for named in enums:
        assert "coerce_output_value" in vars(named), named.name  # the lookup is installed
        for member in named.wrapped_cls:
            assert named.coerce_output_value(member) == CustomGraphQLEnumType.coerce_output_value(
                named, member
            ), (named.name, member)
            members += 1
        plain = next(iter(named.values.values())).value
        assert named.coerce_output_value(plain) == CustomGraphQLEnumType.coerce_output_value(
            named, plain
        )
    assert members >= 100


def test_every_interface_resolves_each_type_as_strawberry_does() -> None:
    """Interfaces resolve an object's type by its class (``execution.
    _interface_types_by_lookup``, issue 18): for every object type behind every interface
    (every catalogue event behind ``Event``, every entry behind ``Entry``, every node),
    the same name as strawberry's own resolver gives."""
    from types import SimpleNamespace

    from graphql import GraphQLInterfaceType, GraphQLObjectType

    schema = build_schema()
    graphql_schema = schema._schema
    interfaces = [
        named
        for named in graphql_schema.type_map.values()
        if isinstance(named, GraphQLInterfaceType) and not named.name.startswith("__")
    ]
    assert {"Event", "Entry", "Node"} <= {i.name for i in interfaces}
    resolved = 0
    for interface in interfaces:
        strawberrys = interface.resolve_type.__wrapped__  # type: ignore[union-attr]
        info = SimpleNamespace(schema=graphql_schema, field_name="any")
        for implementation in graphql_schema.get_possible_types(interface):
            assert isinstance(implementation, GraphQLObjectType)
            origin = schema.schema_converter.type_map[implementation.name].definition.origin  # type: ignore[union-attr]
            obj = object.__new__(origin)
            ours = interface.resolve_type(obj, info, interface)  # type: ignore[misc]
            assert ours == strawberrys(obj, info, interface) == implementation.name
            resolved += 1
    assert resolved >= len(EVENT_TYPES) + len(ENTRY_TYPES)
