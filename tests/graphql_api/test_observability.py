"""What a council's platform team watches (issue 25, ADR 0031): ``/healthz``,
``/readyz`` naming what is not ready, ``/metrics`` in the Prometheus format counting
what happened, a request id on every answer and log line, and logs that never hold
personal data, through the real logging configuration."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from graphql_api.app import Monitoring, create_app
from graphql_api.auth import TokenVerifier
from graphql_api.limits import Limits
from graphql_api.schema import Context
from oversight.observability import PurgeCounts, configure_logging, readiness
from oversight.projecting import source_for
from oversight.serving import monitoring
from oversight.settings import DatabaseSettings, ObservabilitySettings, Settings
from projections.purge_schedule import due_for_destruction
from projections.registry import all_projections
from tests.graphql_api.conftest import AUTHORITY, OTHER, START, Api, at

ACCEPT = {"accept": "application/graphql-response+json"}
CHILD = """query($id: String!, $purpose: String!) {
  child(childId: $id, purpose: $purpose) { childId } }"""


def _get(app: Any, path: str, **headers: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(send())


def _watched(api: Api, observed: ObservabilitySettings | None = None) -> Api:
    """The same service behind an app that is watched as ``oversight serve`` watches it."""
    settings = Settings(database=api.database)
    watched = monitoring(settings, observed or ObservabilitySettings(), api.application, api.engine)
    app = create_app(
        api.service, TokenVerifier(api.tokens), Limits(max_depth=8, max_aliases=10),
        monitoring=watched,
    )  # fmt: skip
    return Api(app, api.application, api.engine, api.database, api.tokens, api.private_key,
               api.service)  # fmt: skip


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_and_readyz_is_ready_once_caught_up(api: Api) -> None:
    watched = _watched(api)
    assert _get(watched.app, "/healthz").json() == {"status": "ok"}
    ready = _get(watched.app, "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


def test_readyz_names_each_projection_further_behind_than_allowed(api: Api) -> None:
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    for n in range(3):
        api.application.execute(
            c.RegisterChild(
                command_id=f"lag-{n}", actor=admin, occurred_at=at(START), child_id=f"L{n}",
                date_of_birth=date(2016, 1, 1), case_type="cin", risk_level="low", rag="green",
            )
        )  # fmt: skip
    behind = _watched(api, ObservabilitySettings(ready_max_lag=2))
    answer = _get(behind.app, "/readyz")
    assert answer.status_code == 503, answer.text
    problems = answer.json()["problems"]
    assert problems, answer.json()
    assert set(problems) == {f"projection:{p.name}" for p in all_projections()}
    assert all("events behind (at most 2)" in why for why in problems.values()), problems
    # Within the allowed lag it is ready; caught up too.
    assert _get(_watched(api, ObservabilitySettings(ready_max_lag=3)).app, "/readyz").is_success
    api.catch_up()
    assert _get(behind.app, "/readyz").status_code == 200


def test_readyz_says_the_schema_is_not_at_head(api: Api, tmp_path: Path) -> None:
    empty = DatabaseSettings.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    check = readiness(empty, api.engine, source_for(api.application), all_projections(), 10)
    app = create_app(api.service, TokenVerifier(api.tokens), monitoring=Monitoring(check))
    answer = _get(app, "/readyz")
    assert answer.status_code == 503
    assert answer.json()["problems"]["schema"].startswith("at none, this code needs ")


def test_metrics_count_commands_errors_access_writes_and_read_the_lag(api: Api) -> None:
    watched = _watched(api)
    before = _samples(_get(watched.app, "/metrics").text)
    sw1 = api.token("SW1", Role.PRACTITIONER)
    assert watched.query(CHILD, sw1, {"id": "C1", "purpose": "home visit planning"})
    refused = watched.error(
        CHILD, api.token("SW2", Role.PRACTITIONER), {"id": "C1", "purpose": "x"}
    )
    assert refused["extensions"]["code"] == "NOT_FOUND"
    assert watched.raw("{", sw1, **ACCEPT).status_code == 400
    page = _get(watched.app, "/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=")
    after = _samples(page.text)

    def grew(name: str, by: float, **labels: str) -> None:
        assert _value(after, name, **labels) - _value(before, name, **labels) == by, name

    grew("oversight_access_log_writes_total", 1, authority=AUTHORITY)
    grew("oversight_api_errors_total", 1, code="NOT_FOUND")
    grew("oversight_api_errors_total", 1, code="BAD_USER_INPUT")
    grew("oversight_command_duration_seconds_count", 1, command="RecordAccess", outcome="written")
    # The refused read never reached a command: counted as an error, not as a command.
    grew("oversight_command_duration_seconds_count", 0, command="RecordAccess", outcome="refused")
    for projection in all_projections():
        # The read just written is not applied yet: one event (two, with the log opened).
        assert _value(after, "oversight_projection_lag_events", projection=projection.name) >= 1
        assert _value(after, "oversight_projection_lag_seconds", projection=projection.name) >= 0
    api.catch_up()
    caught_up = _samples(_get(watched.app, "/metrics").text)
    for projection in all_projections():
        assert _value(caught_up, "oversight_projection_lag_events", projection=projection.name) == 0
        assert (
            _value(caught_up, "oversight_projection_lag_seconds", projection=projection.name) == 0
        )


def test_a_refused_command_is_timed_as_refused(api: Api) -> None:
    before = _samples(_get(_watched(api).app, "/metrics").text)
    admin = Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY)
    with pytest.raises(Exception):  # noqa: B017 (the domain's refusal; any subclass)
        api.application.execute(
            c.AllocateWorker(
                command_id="no-such", actor=admin, occurred_at=at(START, 12),
                child_id="NOPE", worker_id="SW1", reason="NEW", team="Team A",
            )
        )  # fmt: skip
    after = _samples(_get(_watched(api).app, "/metrics").text)
    name = "oversight_command_duration_seconds_count"
    labels = {"command": "AllocateWorker", "outcome": "refused"}
    assert _value(after, name, **labels) - _value(before, name, **labels) == 1


@pytest.mark.parametrize("today", [date(2025, 1, 1), date(2040, 1, 1), date(2200, 1, 1)])
def test_purge_counts_are_the_schedules_due_records(api: Api, today: date) -> None:
    families = {f.name: f for f in PurgeCounts(api.engine, lambda: today).collect()}
    due = {s.labels["authority"]: s.value for s in families["oversight_purge_due_records"].samples}
    overdue = {
        s.labels["authority"]: s.value for s in families["oversight_purge_overdue_records"].samples
    }
    for code in (AUTHORITY, OTHER):
        expected = due_for_destruction(api.engine, authority_code=code, as_of=today)
        assert due.get(code, 0) == len(expected)
        assert overdue.get(code, 0) == sum(1 for r in expected if r.due_on and r.due_on < today)


def test_metrics_can_be_switched_off(api: Api) -> None:
    app = create_app(api.service, TokenVerifier(api.tokens), monitoring=Monitoring(metrics=False))
    assert _get(app, "/metrics").status_code == 404


def test_every_answer_carries_its_request_id(api: Api) -> None:
    chosen = _get(api.app, "/healthz", **{"x-request-id": "probe-42"})
    assert chosen.headers["x-request-id"] == "probe-42"
    made = _get(api.app, "/healthz")
    assert len(made.headers["x-request-id"]) == 32
    # Anything but a short plain token is replaced: a log line cannot be forged with it.
    forged = _get(api.app, "/healthz", **{"x-request-id": 'x" user=SM1'})
    assert forged.headers["x-request-id"] != 'x" user=SM1'
    refused = api.raw({"query": "{ viewer { staffId } }"}, "not-a-token", **ACCEPT)
    assert refused.status_code == 401 and len(refused.headers["x-request-id"]) == 32


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The process's real logging configuration (production: JSON lines), writing here."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(ObservabilitySettings(environment="production"), stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()


#: Nothing a log line should ever hold: a name, and free text about a child.
SENTINEL = "Zebediah-Quillfeather-7731"


def test_no_personal_data_reaches_the_logs(
    api: Api, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = api.token("SM1", Role.SERVICE_MANAGER)
    hr = api.token("HR1", Role.HR)
    register = """mutation($name: String!) { registerWorker(idempotencyKey: "sentinel-w",
      input: {staffId: "SW9", displayName: $name, role: "social_worker", team: "Team A",
      lineManagerId: "TM1", employmentPattern: "full_time", fte: "1", engagement: "permanent",
      startDate: "2025-06-02", caseHolding: true}) { __typename } }"""
    registered = api.query(register, hr, {"name": SENTINEL})["registerWorker"]
    assert registered["__typename"] == "CommandSuccess", registered
    assert api.application.get_worker(AUTHORITY, "SW9").display_name == SENTINEL
    disagree = """mutation($key: String!, $about: String!) {
      raiseDisagreement(idempotencyKey: $key, occurredAt: "2026-01-10T10:00:00+00:00",
        input: {childId: "C1", disagreementId: "S1", subject: "decision_on_child",
                about: $about}) { __typename } }"""
    assert api.query(disagree, manager, {"key": "s-1", "about": f"{SENTINEL} said so"})
    # Client errors: refused input, a literal in an invalid document, unparsable text,
    # a child that is not there, a value too long for its field.
    api.query(register, hr, {"name": SENTINEL * 40})
    api.raw({"query": f'{{ child(childId: "{SENTINEL}", purpose: "x") {{ nope }} }}'}, manager)
    api.raw(f'{{"query": "{{ {SENTINEL}"}}', manager, **ACCEPT)
    api.raw({"query": CHILD, "variables": {"id": SENTINEL, "purpose": SENTINEL}}, manager)
    api.raw({"query": CHILD, "variables": {"id": SENTINEL * 5, "purpose": "x"}}, manager)

    # A server error whose exception's text holds the record it failed on.
    def broken(*_: Any, **__: Any) -> Any:
        raise ValueError(f"cannot read {SENTINEL}")

    monkeypatch.setattr(Context, "who", broken)
    failed = api.raw({"query": "{ viewer { staffId } }"}, manager, **ACCEPT)
    assert failed.json()["errors"][0]["extensions"]["code"] == "INTERNAL"

    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any("graphql.internal" in line["event"] for line in lines), text
    assert any("graphql.error" in line["event"] for line in lines), text
    assert SENTINEL not in text
    assert SENTINEL.split("-")[1] not in text
    # Each request's lines carry its id, the caller's person id and authority.
    requests = [line for line in lines if line["event"].startswith("http.request")]
    assert len(requests) == 8, text
    for line in lines:
        assert {"request_id", "user", "authority", "level", "timestamp"} <= set(line), line
    assert {(line["user"], line["authority"]) for line in requests} == {
        ("SM1", AUTHORITY),
        ("HR1", AUTHORITY),
    }
    assert len({line["request_id"] for line in requests}) == 8


def test_development_logs_are_readable_lines(api: Api) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(ObservabilitySettings(environment="development"), stream)
    try:
        _get(api.app, "/healthz", **{"x-request-id": "dev-1"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()
    line = stream.getvalue().strip()
    assert not line.startswith("{") and "http.request" in line, line
    assert "request_id=dev-1" in line and "user=-" in line, line
