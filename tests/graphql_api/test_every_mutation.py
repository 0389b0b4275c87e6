"""Every mutation through the GraphQL client, on both stores: the scenario that runs each
domain command once (tests/application/test_application.py) is replayed through the API, each
command turned into its mutation's input and sent with a token for its actor. Each must
succeed and record exactly the events the command records directly; then each is sent
again with a broken input and must come back as a typed problem that writes nothing."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from application.handlers import handled_commands
from domain import commands as c
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier
from graphql_api.limits import Limits
from graphql_api.mutations import camel, lower_first
from graphql_api.service import EMPLOYMENT_COMMANDS, HOLD_COMMANDS, INTERNAL_COMMANDS, Service
from graphql_api.types.enums import member
from graphql_api.types.inputs import CORRECTABLE
from oversight.settings import DatabaseSettings
from tests.application.test_application import every_command_scenario
from tests.graphql_api.conftest import Api
from tests.helpers import kinds

ROLE = {
    Role.ADMINISTRATOR: Role.ADMINISTRATOR,
    Role.SUPERVISOR: Role.TEAM_MANAGER,
    Role.TEAM_MANAGER: Role.TEAM_MANAGER,
    Role.SERVICE_MANAGER: Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE: Role.HEAD_OF_SERVICE,
    Role.SUPERVISEE: Role.PRACTITIONER,
    Role.PRACTITIONER: Role.PRACTITIONER,
    Role.DATA_PROTECTION_OFFICER: Role.DATA_PROTECTION_OFFICER,
}
PROBLEMS = """__typename
  ... on CommandSuccess { position }
  ... on ValidationProblem { message field rule }
  ... on RuleViolationProblem { message field rule }
  ... on NotFoundProblem { message field }
  ... on ConflictProblem { message }
  ... on ForbiddenProblem { message rule }"""


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): _value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {camel(k): _value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A correction's changes as ``EntryChangesInput``: typed fields, camelCase, each
    vocabulary as its enum's name."""
    found: dict[str, Any] = {}
    for stored, value in changes.items():
        name = next(n for n, (s, _) in CORRECTABLE.items() if s == stored)
        graphql_type = CORRECTABLE[name][1]
        item = (typing.get_args(graphql_type) or (graphql_type,))[0]
        if isinstance(item, type) and issubclass(item, Enum):
            value = (
                [member(item, v).name for v in value]
                if isinstance(value, list)
                else member(item, value).name
            )
        found[camel(name)] = _value(value)
    return found


def _field(name: str, value: Any) -> Any:
    if name == "changes":
        return _changes(value)
    if name == "answers":
        return [{"item": item, "yes": yes} for item, yes in value.items()]
    return _value(value)


def _input(command: c.Command) -> dict[str, Any]:
    return {
        camel(f.name): _field(f.name, getattr(command, f.name))
        for f in dataclasses.fields(command)
        if f.name not in c.Command.COMMON and getattr(command, f.name) is not None
    }


def _document(command: c.Command) -> tuple[str, str]:
    name = lower_first(type(command).__name__)
    document = (
        f"mutation($input: {type(command).__name__}Input!, $key: String!, $at: DateTime) "
        f"{{ {name}(input: $input, idempotencyKey: $key, occurredAt: $at) {{ {PROBLEMS} }} }}"
    )
    return name, document


def _role(command: c.Command) -> Role:
    if type(command) in HOLD_COMMANDS:
        return Role.DATA_PROTECTION_OFFICER
    if type(command) in EMPLOYMENT_COMMANDS and not isinstance(command, c.RegisterWorker):
        return Role.HR  # employment records are HR's; administrators register
    return ROLE[command.actor.role]


def test_every_mutation_through_the_client(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    token_settings: tuple[TokenSettings, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Purges need their ledger outside the database (as the ``api`` fixture sets it).
    monkeypatch.setenv("OVERSIGHT_PURGE_LEDGER", str(tmp_path / "purge-ledger.jsonl"))
    tokens, private_key = token_settings
    service = Service(app, engine, PackLibrary.load())
    api = Api(
        create_app(service, TokenVerifier(tokens), Limits()),
        app, engine, database, tokens, private_key, service,
    )  # fmt: skip
    sent: set[type[c.Command]] = set()
    refused: set[type[c.Command]] = set()

    def run(command: c.Command, *expected: str) -> None:
        if type(command) in INTERNAL_COMMANDS or command.imported:
            app.execute(command)  # the API records reads itself; imports are not its job
            return
        api.catch_up()  # relationships come from the read models
        name, document = _document(command)
        token = api.token(command.actor.id, _role(command), authority=command.actor.authority_id)
        variables = {
            "input": _input(command),
            "key": command.command_id,
            "at": command.occurred_at.isoformat(),
        }
        # First a broken input: an id no record has. Typed, and nothing written.
        before = len(kinds(app))
        broken = dict(variables, key=f"{command.command_id}-broken")
        for id_field in ("childId", "staffId"):
            if id_field in broken["input"]:
                broken["input"] = dict(broken["input"], **{id_field: "NO-SUCH-ID"})
        if broken["input"] != variables["input"] and not isinstance(
            command, c.RegisterWorker | c.RegisterChild
        ):
            answer = api.query(document, token, broken)[name]
            assert answer["__typename"] in ("NotFoundProblem", "ValidationProblem"), answer
            assert len(kinds(app)) == before, name
            refused.add(type(command))
        answer = api.query(document, token, variables)[name]
        assert answer["__typename"] == "CommandSuccess", (name, answer)
        assert kinds(app)[before:] == list(expected), name
        sent.add(type(command))

    every_command_scenario(app, run)
    mutations = {
        k for k in handled_commands() if k.__module__ == "domain.commands"
    } - INTERNAL_COMMANDS
    assert mutations - sent == set()
    assert len(refused) >= 30
