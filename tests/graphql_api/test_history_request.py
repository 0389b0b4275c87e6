"""The history request's cheaper path (session 10, issue 18): the subject's row, its
chain and the caller's team in one statement; the access log appended after one read;
the read engine's pooled connections checked without a round trip."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, event, insert, text

from application.relationships import COLUMNS, Relationship, subject_relationship
from domain.access import AccessLog
from domain.authorization import Principal
from domain.errors import NotFound
from domain.events import AccessLogOpened, RecordAccessed
from domain.identifiers import child_id
from domain.vocabulary import Role
from graphql_api.service import Named, Service
from oversight.settings import DatabaseSettings
from tests.graphql_api.conftest import AUTHORITY, Api
from tests.helpers import topics

WORKERS = [f"W{n}" for n in range(6)]


def _rows(managers: dict[str, str | None], allocated: str | None) -> list[Relationship]:
    workers = [
        Relationship(f"w-{w}", AUTHORITY, "worker", w, team=f"T-{w}", line_manager_id=m)
        for w, m in managers.items()
    ]
    child = Relationship("c-C1", AUTHORITY, "child", "C1", team="T", allocated_worker_id=allocated)
    other = Relationship("x-C1", "ELSEWHERE", "child", "C1", allocated_worker_id=WORKERS[0])
    return [*workers, child, other]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    managers=st.dictionaries(
        st.sampled_from(WORKERS), st.none() | st.sampled_from([*WORKERS, "GONE"]), min_size=1
    ),
    allocated=st.none() | st.sampled_from([*WORKERS, "GONE"]),
    caller=st.sampled_from([*WORKERS, "NOBODY"]),
    kind=st.sampled_from(["child", "worker"]),
    local_id=st.sampled_from(["C1", "NOPE", *WORKERS]),
)
def test_one_statement_finds_what_the_three_queries_found(
    engine: Engine,
    managers: dict[str, str | None],
    allocated: str | None,
    caller: str,
    kind: str,
    local_id: str,
) -> None:
    """Any line management (cycles, missing managers, other authorities' rows): the one
    statement gives the subject's row, chain and the caller's row as the subject's row,
    its chain and ``team_of`` did, each apart."""
    with engine.begin() as conn:
        conn.execute(delete(subject_relationship))
        conn.execute(
            insert(subject_relationship),
            [dict(zip(COLUMNS, r.values(), strict=True)) for r in _rows(managers, allocated)],
        )
    service = Service(app=None, engine=engine, library=None)  # type: ignore[arg-type]
    row, chain, mine = service._lookup(AUTHORITY, kind, local_id, caller)
    assert row == service._subject_row(AUTHORITY, kind, local_id)
    assert mine == service._subject_row(AUTHORITY, "worker", caller)
    start = local_id if kind == "worker" else (row.allocated_worker_id if row else None)
    assert chain == service._chain(AUTHORITY, start)


def test_opening_a_record_is_one_statement_whoever_asks_for_whatever(api: Api) -> None:
    """Allowed, hidden or missing, a child or a file: one statement, the same for every
    subject of a kind, so the work cannot tell them apart (issue 23)."""
    service = api.service
    engine = service.engine
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not sql.startswith("BEGIN"):
            seen.append(sql)

    answers: list[tuple[str, str, str, int]] = []
    event.listen(engine, "before_cursor_execute", statement)
    try:
        for who in (
            Principal("TM1", Role.TEAM_MANAGER, AUTHORITY),
            Principal("SW2", Role.PRACTITIONER, AUTHORITY),
        ):
            for kind, local_id in (("child", "C1"), ("child", "C404"), ("worker", "SW1")):
                before = len(seen)
                try:
                    service._open(who, Named(kind, local_id, f"{kind}_id"))
                    outcome = "read"
                except NotFound:
                    outcome = "hidden"
                answers.append((who.staff_id, kind, outcome, len(seen) - before))
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert answers == [
        ("TM1", "child", "read", 1),
        ("TM1", "child", "hidden", 1),
        ("TM1", "worker", "read", 1),
        ("SW2", "child", "hidden", 1),
        ("SW2", "child", "hidden", 1),
        ("SW2", "worker", "hidden", 1),
    ]
    assert len(set(seen)) == 2  # one statement for children, one for files


def test_every_read_appends_one_event_to_the_log_it_opened(api: Api) -> None:
    """The log is appended at its last version without reading its opening: reads go
    on one after another, each exactly once, and the log still replays whole."""
    log_id = AccessLog.create_id(child_id(AUTHORITY, "C1"))
    assert not api.application.recorder.select_events(log_id)
    query = '{ child(childId: "C1", purpose: "review") { childId } }'
    for staff_id, role in (("TM1", Role.TEAM_MANAGER), ("SW1", Role.PRACTITIONER)) * 2:
        assert api.query(query, api.token(staff_id, role))["child"] == {"childId": "C1"}
    stored = api.application.recorder.select_events(log_id)
    assert [s.originator_version for s in stored] == [1, 2, 3, 4, 5]
    assert [s.topic.rsplit(".", 1)[-1] for s in stored] == [
        AccessLogOpened.__name__,
        *[RecordAccessed.__name__] * 4,
    ]
    log = api.application.repository.get(log_id)
    assert isinstance(log, AccessLog) and log.version == 5
    assert log.subject_id == child_id(AUTHORITY, "C1") and log.authority_code == AUTHORITY


def test_a_connection_the_server_closed_is_replaced_before_it_is_lent(
    database: DatabaseSettings, engine: Engine
) -> None:
    """No ping on every loan: a pooled connection the server ended (a restart, an
    administrator's terminate) is seen by its socket and replaced, so the next read
    works; on SQLite every read opens its own connection."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar() if _pg(database) else None
    if pid is not None:
        with psycopg.connect(database.url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            # It ends asynchronously: wait (on the server's own word) until it is gone.
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                admin.execute("SELECT pg_sleep(0.01)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        if pid is not None:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def _pg(database: DatabaseSettings) -> bool:
    return database.backend == "postgresql"


@pytest.mark.parametrize("role", [Role.TEAM_MANAGER])
def test_the_history_request_reads_and_logs_once(api: Api, role: Role) -> None:
    """Through GraphQL: the state is answered and the read logged, once."""
    before = len(topics(api.application))
    body = api.query(
        '{ child(childId: "C1", purpose: "review") { state { attributes { __typename } } } }',
        api.token("TM1", role),
    )
    assert body["child"]["state"]["attributes"] is not None
    assert topics(api.application)[before:][-1] == RecordAccessed.__name__
    assert topics(api.application)[before:].count(RecordAccessed.__name__) == 1
