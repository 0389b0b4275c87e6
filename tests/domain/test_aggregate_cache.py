"""The aggregate cache (ADR 0016): a command decides on what the store holds now, however
many processes write, whatever they purge; on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.application import OversightApplication
from domain.errors import DomainError
from domain.vocabulary import ActorRole
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.helpers import (
    MIXED_STEP_KINDS,
    NOW,
    actor,
    case_discussion,
    common,
    mixed_plan,
    setup_team,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@contextmanager
def _uncached(database: DatabaseSettings) -> Iterator[OversightApplication]:
    """An application keeping no aggregates between commands: the reference."""
    application = OversightApplication(
        env={**database.eventsourcing_env(), "AGGREGATE_CACHE_SIZE": "0"}
    )
    assert application.aggregate_cache is None
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def second(database: DatabaseSettings) -> Iterator[OversightApplication]:
    """Another process's application on the same store, with a cache of its own."""
    application = open_application(database)
    try:
        yield application
    finally:
        application.close()


def _state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, comparable: everything but the replay's scratch."""
    return {k: v for k, v in vars(aggregate).items() if k != "_applying_timestamp"}


def _supervise(app: OversightApplication, child: str, entry: str) -> Any:
    return app.execute(
        c.RecordCaseSupervision(
            **common(NOW, actor("TM1", ActorRole.SUPERVISOR)),
            worker_id="SW1",
            supervisor_id="TM1",
            **vars(case_discussion(child, entry)),
        )
    )


def test_a_command_decides_on_what_another_process_wrote_since(
    app: OversightApplication, second: OversightApplication, database: DatabaseSettings
) -> None:
    setup_team(app)
    _supervise(app, "C1", "E1")
    assert app.aggregate_cache is not None and len(app.aggregate_cache) > 0
    _supervise(second, "C1", "E2")  # app's kept C1 is now a version behind
    with pytest.raises(DomainError) as refused:
        _supervise(app, "C1", "E2")  # the entry id the other process took
    assert refused.value.field == "entry_id"
    result = _supervise(app, "C1", "E3")
    assert result.events == 1
    kept = app.get_child("TEST-LA", "C1")
    with _uncached(database) as uncached:
        fresh = uncached.get_child("TEST-LA", "C1")
    assert kept.version == fresh.version == second.get_child("TEST-LA", "C1").version == 4
    assert _state(kept) == _state(fresh)


def test_a_refused_command_leaves_nothing_of_itself_in_the_cache(
    app: OversightApplication,
) -> None:
    setup_team(app, children=("C1", "C2"))
    _supervise(app, "C1", "E1")
    before = pickle.dumps(_state(app.get_child("TEST-LA", "C1")))
    # A session whose second discussion names a child that does not exist: refused
    # after the first discussion was applied to C1 in memory.
    with pytest.raises(DomainError):
        app.execute(
            c.HoldSupervisionSession(
                **common(NOW, actor("TM1", ActorRole.SUPERVISOR)),
                staff_id="SW1",
                session_id="S1",
                supervisor_id="TM1",
                duration_minutes=60,
                functions_covered=["management"],
                wellbeing_discussed=True,
                equality_and_diversity_discussed=False,
                case_discussions=[case_discussion("C1", "S1-C1"), case_discussion("NO", "S1-NO")],
            )
        )
    assert pickle.dumps(_state(app.get_child("TEST-LA", "C1"))) == before
    assert "S1-C1" not in app.get_child("TEST-LA", "C1").entries


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(MIXED_STEP_KINDS),
        st.sampled_from(["C1", "C2", "C3"]),
        st.integers(min_value=0, max_value=5),
        st.booleans(),  # which of two processes runs the command
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ACTIONS)
def test_two_caching_processes_decide_exactly_as_one_without_a_cache(
    app: OversightApplication,
    second: OversightApplication,
    database: DatabaseSettings,
    other_database: DatabaseSettings,
    steps: list[tuple[str, str, int, bool]],
) -> None:
    """Property: commands spread at random over two processes, each keeping aggregates
    between commands, are accepted and refused exactly as one process without a cache
    decides them, and leave every aggregate as a fresh fold of the store has it."""
    authority = f"P{uuid4().hex[:10].upper()}"
    commands = mixed_plan(authority, [step[:3] for step in steps])
    setup = len(commands) - len(steps)
    writers = [app] * setup + [second if step[3] else app for step in steps]

    def outcome(writer: OversightApplication, command: c.Command) -> Any:
        try:
            result = writer.execute(command)
        except DomainError as error:
            return (type(error).__name__, error.field)
        return ("ok", result.events, result.replayed)

    got = [outcome(writer, command) for writer, command in zip(writers, commands, strict=True)]
    with _uncached(other_database) as reference:
        expected = [outcome(reference, command) for command in commands]
    assert got == expected
    with _uncached(database) as uncached:
        for child in ("C1", "C2", "C3"):
            fresh = uncached.get_child(authority, child)
            for process in (app, second):
                kept = process.get_child(authority, child)
                assert kept.version == fresh.version
                assert _state(kept) == _state(fresh)


def test_the_cache_size_is_a_setting(database: DatabaseSettings) -> None:
    sized = OversightApplication(env={**database.eventsourcing_env(), "AGGREGATE_CACHE_SIZE": "2"})
    setup_team(sized, children=("C1", "C2", "C3"))
    for child in ("C1", "C2", "C3"):
        sized.get_child("TEST-LA", child)
    assert sized.aggregate_cache is not None and len(sized.aggregate_cache) == 2
    with pytest.raises(ValueError, match="OVERSIGHT_AGGREGATE_CACHE_SIZE"):
        _ = OversightApplication(
            env={**database.eventsourcing_env(), "AGGREGATE_CACHE_SIZE": "many"}
        ).aggregate_cache
    sized.close()
