"""Authority isolation across every query (issue 8): a sentinel string is written into
one authority's records (a worker's name, a trigger's detail, a disagreement, a case
supervision), then every root query field of the schema, with every leaf it can select
three levels down, is asked by each reading role of *another* authority, with the ids
the first authority uses. The sentinel must never come back; asked by the first
authority's auditor, the same documents do return it (so the check can fail)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.schema import build_schema
from tests.graphql_api.conftest import AUTHORITY, OTHER, START, Api, at
from tests.projections.conftest import catch_up_all

SENTINEL = "Isolation sentinel 5f0c"
GRAPHQL_RESPONSE = "application/graphql-response+json"
STRINGS = {"child": "C1", "staff": "SW1", "worker": "SW1", "purpose": "audit", "team": "Team A"}
SCALARS = {
    "Date": '"2026-03-31"',
    "DateTime": '"2026-03-31T12:00:00+00:00"',
    "Int": "5",
    "Boolean": "false",
    "ID": '"1"',
}


def _value(name: str, kind: Any) -> str | None:
    named = get_named_type(kind)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        return None
    if named.name in ("String",):
        found = next((v for k, v in STRINGS.items() if k in name.lower()), "C1")
        return f'"{found}"'
    return SCALARS.get(named.name)


def _arguments(field: GraphQLField, top: bool) -> str | None:
    """Required arguments always; at the top, the optional ids and days too (so that a
    field like ``child(childId:)`` asks for the first authority's C1)."""
    parts = []
    for name, argument in field.args.items():
        required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        if not required and not (top and get_named_type(argument.type).name == "Date"):
            continue
        value = _value(name, argument.type)
        if value is None:
            if required:
                return None
            continue
        parts.append(f"{name}: {value}")
    return f"({', '.join(parts)})" if parts else ""


def _selection(
    kind: Any, depth: int, pick: dict[str, str] | None = None, seen: set[str] | None = None
) -> str | None:
    """Every leaf of ``kind`` ``depth`` levels down. An interface's own fields, and those
    of the one implementation ``pick`` names for it (each implementation of the typed
    events and entries is asked in a document of its own: all at once would cost more
    than any budget); ``seen`` collects the interfaces met."""
    named = get_named_type(kind)
    if is_leaf_type(named):
        return ""
    if depth == 0:
        return None
    if isinstance(named, GraphQLUnionType):
        branches = [
            f"... on {member.name} {{ {inner} }}"
            for member in named.types
            if (inner := _selection(member, depth, pick, seen))
        ]
        return " ".join(["__typename", *branches])
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    parts = [] if isinstance(named, GraphQLObjectType) else ["__typename"]
    for name, field in named.fields.items():
        arguments = _arguments(field, top=False)
        inner = _selection(field.type, depth - 1, pick, seen)
        if arguments is None or inner is None:
            continue
        parts.append(f"{name}{arguments}" + (f" {{ {inner} }}" if inner else ""))
    if isinstance(named, GraphQLInterfaceType):
        if seen is not None:
            seen.add(named.name)
        chosen = (pick or {}).get(named.name)
        if chosen is not None:
            member = SCHEMA.type_map[chosen]
            inner = _selection(member, depth, pick, seen)
            if inner:
                parts.append(f"... on {chosen} {{ {inner} }}")
    return " ".join(parts) or None


SCHEMA = build_schema()._schema


def _documents(node_id: str) -> dict[str, str]:
    """One document per root field (its key: the field's name), and one more for each
    implementation of each interface it reaches (``field/Type``)."""
    SCALARS["ID"] = f'"{node_id}"'  # the first authority's C1, by its global id
    documents = {}
    for name, field in SCHEMA.query_type.fields.items():
        arguments = _arguments(field, top=True)
        seen: set[str] = set()
        inner = _selection(field.type, 3, None, seen)
        if arguments is None or inner is None:
            continue
        documents[name] = "{ " + name + arguments + (f" {{ {inner} }}" if inner else "") + " }"
        for interface in sorted(seen - {"Node"}):
            for member in SCHEMA.get_possible_types(SCHEMA.type_map[interface]):  # type: ignore[arg-type]
                chosen = _selection(field.type, 3, {interface: member.name})
                documents[f"{name}/{member.name}"] = (
                    "{ " + name + arguments + f" {{ {chosen} }}" + " }"
                )
    return documents


def _plant(api: Api) -> None:
    app = api.application
    manager = Actor("TM1", Role.TEAM_MANAGER, AUTHORITY)
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    when = at(START + timedelta(days=20))
    app.execute(
        c.RegisterWorker(
            command_id="iso-worker", actor=admin, occurred_at=when, staff_id="SW9",
            display_name=SENTINEL, role="social_worker", team="Team A",
            line_manager_id="TM1", employment_pattern="full_time", fte=1,
            engagement="permanent", start_date=when.date(), case_holding=True,
        )
    )  # fmt: skip
    app.execute(
        c.TriggerOversight(
            command_id="iso-trigger", actor=manager, occurred_at=when, child_id="C1",
            trigger_id="ISO-T1", kind="significant_incident", detail=SENTINEL,
            incident_dates=[when.date()],
        )
    )  # fmt: skip
    app.execute(
        c.RaiseDisagreement(
            command_id="iso-disagreement", actor=manager, occurred_at=when, child_id="C1",
            disagreement_id="ISO-D1", subject="decision_on_child", about=SENTINEL,
        )
    )  # fmt: skip
    catch_up_all(api.database, app, api.engine)


def test_no_query_returns_another_authoritys_records(api: Api) -> None:
    _plant(api)
    auditor = api.token("QA1", Role.QA_AUDITOR)
    node_id = api.query('{ child(childId: "C1", purpose: "audit") { id } }', auditor)
    documents = _documents(node_id["child"]["id"])
    roots = {name.split("/")[0] for name in documents}
    assert roots == set(build_schema()._schema.query_type.fields)  # every one

    def answers(token: str) -> dict[str, str]:
        found = {}
        for name, document in documents.items():
            response = api.raw(
                {"query": document}, token, accept="application/graphql-response+json"
            )
            assert response.status_code < 500, (name, response.text)
            assert response.status_code != 400, (name, document, response.text)  # well formed
            found[name] = response.text
        return found

    own = answers(auditor)
    assert [name for name, text in own.items() if SENTINEL in text], "the sentinel is readable"

    readers = [
        api.token("QA9", Role.QA_AUDITOR, authority=OTHER),
        api.token("SM9", Role.SERVICE_MANAGER, authority=OTHER),
        api.token("HOS9", Role.HEAD_OF_SERVICE, authority=OTHER),
        api.token("DPO9", Role.DATA_PROTECTION_OFFICER, authority=OTHER),
        api.token(
            "INS9",
            Role.INSPECTOR,
            authority=OTHER,
            grant_expires_at=at(START + timedelta(days=900)),
        ),
        api.token(
            "IO9",
            Role.INVESTIGATING_OFFICER,
            authority=OTHER,
            grants=("child:C1", "worker:SW1", "worker:SW9"),
        ),
    ]
    for token in readers:
        leaked = [name for name, text in answers(token).items() if SENTINEL in text]
        assert leaked == []
