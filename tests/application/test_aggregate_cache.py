"""The aggregate cache (ADR 0016): a command decides on what the store holds now, however
many processes write, whatever they purge; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.identifiers import authority_id, child_id
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from tests.helpers import (
    NOW,
    actor,
    case_discussion,
    case_supervision,
    common,
    mixed_plan,
    mixed_steps,
    opened,
    register_child,
    setup_team,
    stored_events,
    supervision_session,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def second(database: DatabaseSettings) -> Iterator[OversightApplication]:
    """Another process's application on the same store, with a cache of its own."""
    with opened(database) as application:
        yield application


def _state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, comparable: everything but the replay's scratch."""
    return {k: v for k, v in vars(aggregate).items() if k != "_applying_timestamp"}


def _kept(app: OversightApplication, aggregate_id: Any) -> Any:
    """What ``app`` keeps of an aggregate (put back: looking takes it out)."""
    cache = app.aggregate_cache
    assert cache is not None
    aggregate = cache.take(aggregate_id)
    if aggregate is not None:
        cache.put(aggregate)
    return aggregate


def _as_stored(database: DatabaseSettings, aggregate: Any) -> Any:
    """The same aggregate folded from the store at the same version."""
    with opened(database, aggregate_cache_size=0) as uncached:
        return uncached.repository.get(aggregate.id, version=aggregate.version)


def _supervise(app: OversightApplication, child: str, entry: str) -> Any:
    return app.execute(case_supervision(NOW, actor("TM1", Role.SUPERVISOR), child, entry))


def test_a_command_decides_on_what_another_process_wrote_since(
    app: OversightApplication, second: OversightApplication, database: DatabaseSettings
) -> None:
    """``app`` keeps C1 and decides on it without reading the store; ``second`` has
    written to C1 since. The write's version check sends ``app`` back to the store, so
    the entry id ``second`` took is refused, as it would be without a cache."""
    setup_team(app)
    _supervise(app, "C1", "E1")
    c1 = child_id("TEST-LA", "C1")
    assert _kept(app, c1).version == 2
    _supervise(second, "C1", "E2")  # app's kept C1 is now a version behind
    with pytest.raises(DomainError) as refused:
        _supervise(app, "C1", "E2")  # the entry id the other process took
    assert refused.value.field == "entry_id"
    assert _kept(app, c1) is None  # a refused command puts nothing back
    result = _supervise(app, "C1", "E3")
    assert result.events == 1
    kept = _kept(app, c1)
    assert kept.version == 4 == app.get_child("TEST-LA", "C1").version
    assert _state(kept) == _state(_as_stored(database, kept))


def test_a_command_that_only_read_a_changed_aggregate_is_decided_again(
    app: OversightApplication, second: OversightApplication, database: DatabaseSettings
) -> None:
    """Registering a child reads the authority and changes only the child. What a
    command only read is checked at the write too (``read_versions``): here the
    authority ``app`` keeps has changed since (a closure day added by ``second``), so
    the registration is decided again on the authority as the store has it, which
    ``app`` then keeps."""
    setup_team(app)
    authority = authority_id("TEST-LA")
    assert _kept(app, authority) is not None
    second.execute(
        c.AddClosureDay(**common(NOW, actor()), day=date(2026, 12, 29), reason="Closure")
    )
    with opened(database, aggregate_cache_size=0) as uncached:
        current = uncached.get_authority("TEST-LA").version
    assert _kept(app, authority).version == current - 1  # behind: decided on as kept
    register_child(app, "C9")
    assert _kept(app, authority).version == current  # decided again, on the store's


def test_a_refused_command_leaves_nothing_of_itself_in_the_cache(
    app: OversightApplication, database: DatabaseSettings
) -> None:
    setup_team(app, children=("C1", "C2"))
    _supervise(app, "C1", "E1")
    c1 = child_id("TEST-LA", "C1")
    assert _kept(app, c1) is not None
    # A session whose second discussion names a child that does not exist: refused
    # after the first discussion was applied to C1 in memory.
    with pytest.raises(DomainError):
        app.execute(
            supervision_session(
                NOW,
                actor("TM1", Role.SUPERVISOR),
                "S1",
                [case_discussion("C1", "S1-C1"), case_discussion("NO", "S1-NO")],
            )
        )
    assert _kept(app, c1) is None
    _supervise(app, "C1", "S1-C1")  # the refused session's entry id was never taken
    kept = _kept(app, c1)
    assert _state(kept) == _state(_as_stored(database, kept))


ACTIONS = mixed_steps(st.booleans())  # and which of two processes runs it


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
    decides them, write the same events, and keep only states the store holds."""
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
    with opened(other_database, aggregate_cache_size=0) as reference:
        assert reference.aggregate_cache is None
        expected = [outcome(reference, command) for command in commands]
        assert got == expected
        assert stored_events(app, authority) == stored_events(reference, authority)
    # Whatever each process keeps is what the store holds at that version: a command
    # never leaves behind in a cache a change the store does not have.
    for process in (app, second):
        for child in ("C1", "C2", "C3"):
            kept = _kept(process, child_id(authority, child))
            if kept is not None:
                assert _state(kept) == _state(_as_stored(database, kept))


def test_the_cache_size_is_a_setting(database: DatabaseSettings) -> None:
    with opened(database, aggregate_cache_size=2) as sized:
        setup_team(sized, children=("C1", "C2", "C3"))
        for child in ("C1", "C2", "C3"):
            _supervise(sized, child, f"E-{child}")
        assert sized.aggregate_cache is not None and len(sized.aggregate_cache) == 2
    with opened(database, aggregate_cache_size=0) as none:
        assert none.aggregate_cache is None
    misread = OversightApplication(
        env={**database.eventsourcing_env(), "AGGREGATE_CACHE_SIZE": "many"}
    )
    with pytest.raises(ValueError, match="OVERSIGHT_AGGREGATE_CACHE_SIZE"):
        _ = misread.aggregate_cache
    misread.close()
