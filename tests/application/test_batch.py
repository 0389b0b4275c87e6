"""``execute_batch``: many commands written in one transaction decide exactly what the
same commands decide one at a time (ADR 0015), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application import batching
from application.app import OversightApplication
from application.batching import BatchReport, CommandRefused
from domain import commands as c
from domain.errors import DomainError
from domain.vocabulary import (
    Role,
)
from oversight.generate import DEMO_AUTHORITIES
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.helpers import START, action, actor, common, mixed_plan, mixed_steps, stored_events

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def one_at_a_time(
    app: OversightApplication, commands: list[c.Command]
) -> list[tuple[str, str | None]]:
    outcomes: list[tuple[str, str | None]] = []
    for command in commands:
        try:
            app.execute(command)
        except DomainError as error:
            outcomes.append((command.command_id, f"{type(error).__name__}:{error.field}"))
        else:
            outcomes.append((command.command_id, None))
    return outcomes


def batched(
    app: OversightApplication, commands: list[c.Command], batch_size: int
) -> tuple[list[tuple[str, str | None]], BatchReport]:
    outcomes: dict[int, tuple[str, str | None]] = {}
    index = {id(command): n for n, command in enumerate(commands)}

    def record(command: c.Command, result: object) -> None:
        refused = (
            f"{type(result).__name__}:{result.field}" if isinstance(result, DomainError) else None
        )
        outcomes[index[id(command)]] = (command.command_id, refused)

    report = app.execute_batch(commands, batch_size=batch_size, on_result=record)
    return [outcomes[n] for n in sorted(outcomes)], report


def troubled_plan() -> list[c.Command]:
    """A small demo authority's two years, with what a bulk import meets: a duplicate
    registration, a command id reused for another command, a retried command, and a
    session whose second case discussion names no child (refused after the worker's
    session event was already decided)."""
    commands = list(DEMO_AUTHORITIES[1].generator(11, date(2026, 6, 1)).commands())
    registration = next(x for x in commands if isinstance(x, c.RegisterChild))
    hold = next(
        x for x in commands if isinstance(x, c.HoldSupervisionSession) and x.case_discussions
    )
    bad_hold = replace(
        hold,
        command_id="bad-hold",
        session_id=f"{hold.session_id}-extra",
        case_discussions=[
            replace(hold.case_discussions[0], entry_id="bad-hold-1"),
            replace(hold.case_discussions[0], child_id="NOBODY", entry_id="bad-hold-2"),
        ],
    )
    position = commands.index(hold) + 1
    commands[position:position] = [
        bad_hold,
        replace(registration, command_id="duplicate-registration"),
        replace(registration, command_id=commands[3].command_id),  # reused id
        replace(commands[5]),  # retried (a copy, the same command): replays
    ]
    return commands


@pytest.mark.parametrize("batch_size", [1, 7, 500])
def test_a_batch_writes_exactly_what_one_command_at_a_time_writes(
    app: OversightApplication, other_app: OversightApplication, batch_size: int
) -> None:
    commands = troubled_plan()
    expected = one_at_a_time(app, commands)
    outcomes, report = batched(other_app, commands, batch_size)

    assert outcomes == expected
    refused = {command_id: why for command_id, why in expected if why}
    assert refused["bad-hold"] == "NotFound:case_discussions[1].child_id"
    assert refused["duplicate-registration"] == "AlreadyExists:child_id"
    assert refused[commands[3].command_id].startswith("IdempotencyKeyReused")
    assert stored_events(other_app) == stored_events(app)
    assert report.executed + report.replayed + len(report.refused) == len(commands)
    assert report.events == len(stored_events(app))

    again, second = batched(other_app, commands, batch_size)
    assert again == expected  # refused again for the same reasons; the rest replayed
    assert (second.executed, second.events) == (0, 0)
    assert stored_events(other_app) == stored_events(app)  # nothing written twice


def test_an_aggregate_changed_by_another_writer_mid_import_is_decided_again(
    app: OversightApplication, other_app: OversightApplication, other_database: DatabaseSettings
) -> None:
    """The batch keeps aggregates between its transactions; a write by someone else in
    between makes the next transaction fail its version check, and its commands are then
    decided again against the store: nothing is lost, nothing is written twice."""
    authority = "TEST-LA"
    plan = [
        c.RegisterAuthority(
            **common(START, actor("ADMIN", Role.ADMINISTRATOR)),
            authority_code=authority,
            name="Test",
            policy_pack="DUR",
        ),
        c.RegisterChild(
            **common(START, actor("ADMIN", Role.ADMINISTRATOR)),
            child_id="C1",
            date_of_birth=date(2015, 1, 1),
            case_type="cin",
            risk_level="low",
        ),
    ]
    later = [
        c.SetAction(
            **common(START + timedelta(days=n), actor("SW1", Role.PRACTITIONER)),
            child_id="C1",
            action=action(f"A{n}", START.date() + timedelta(days=30 + n)),
        )
        for n in range(1, 5)
    ]
    writer = open_application(other_database)  # another process's application
    try:

        def commands() -> Iterator[c.Command]:
            yield from plan
            yield later[0]
            # The first batch (three commands) is written; now someone else appends.
            writer.execute(
                c.SetAction(
                    **common(START + timedelta(hours=1), actor("SW2", Role.PRACTITIONER)),
                    child_id="C1",
                    action=action("ELSEWHERE", START.date() + timedelta(days=60)),
                )
            )
            yield from later[1:]

        report = other_app.execute_batch(commands(), batch_size=3)
    finally:
        writer.close()

    assert report.fallbacks == 1
    assert not report.refused
    assert report.executed == 2 + len(later)
    child = other_app.get_child(authority, "C1")
    assert set(child.actions) == {"ELSEWHERE", "A1", "A2", "A3", "A4"}
    assert child.version == 1 + 5  # registered, then five actions; none twice


ACTIONS = mixed_steps()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ACTIONS, batch_size=st.integers(min_value=1, max_value=9))
def test_any_sequence_of_commands_batched_or_not_writes_the_same(
    app: OversightApplication,
    other_app: OversightApplication,
    steps: list[tuple[str, str, int]],
    batch_size: int,
) -> None:
    """Property: whatever mix of accepted and refused commands (actions set twice,
    completed before they exist, supervision and closure of closed cases, sessions that
    fail half-way), and whatever the batch size, a batch writes what one at a time
    writes, and refuses the same commands for the same reasons."""
    authority = f"P{uuid4().hex[:10].upper()}"  # a fresh authority for each example
    commands = mixed_plan(authority, steps)
    expected = one_at_a_time(app, commands)
    outcomes, _ = batched(other_app, commands, batch_size)
    assert outcomes == expected
    assert stored_events(other_app, authority) == stored_events(app, authority)


def test_all_or_nothing_writes_nothing_when_one_command_is_refused(
    app: OversightApplication,
) -> None:
    authority = "TEST-LA"
    admin = actor("ADMIN", Role.ADMINISTRATOR, authority)
    app.execute(
        c.RegisterAuthority(
            **common(START, admin), authority_code=authority, name="T", policy_pack="DUR"
        )
    )
    head = app.recorder.max_notification_id()
    register = c.RegisterChild(
        **common(START, admin),
        child_id="C1",
        date_of_birth=date(2015, 1, 1),
        case_type="cla",
        risk_level="low",
    )
    into_care = c.RecordCameIntoCare(
        **common(START + timedelta(days=1), actor("SW1", Role.PRACTITIONER, authority)),
        child_id="C1",
        legal_status="C2",
        placement="U1",
    )
    again_into_care = replace(into_care, command_id="again")  # refused: already in care

    with pytest.raises(CommandRefused) as refused:
        app.execute_atomically([register, into_care, again_into_care])
    assert refused.value.command is again_into_care
    assert refused.value.error.field == "child_id"
    assert "already in care" in str(refused.value)
    assert app.recorder.max_notification_id() == head  # not even the registration
    assert not app.child_exists(authority, "C1")

    results = app.execute_atomically([register, into_care])
    assert [r.replayed for r in results] == [False, False]
    assert results[0].position == results[1].position == app.recorder.max_notification_id()
    assert app.get_child(authority, "C1").in_care
    replayed = app.execute_atomically([register, into_care])
    assert [r.replayed for r in replayed] == [True, True]


def test_an_import_refreshes_the_stores_statistics_as_it_grows(
    app: OversightApplication, database: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Autovacuum's ANALYZE of the events table is cancelled by each write's insert lock,
    so an import refreshes the statistics itself as the table grows (at 50,000 events,
    then each time the count doubles; here scaled down)."""
    monkeypatch.setattr(batching, "ANALYZE_FIRST_AFTER", 20)
    calls: list[int] = []
    analyze = app.command_log.analyze
    monkeypatch.setattr(app.command_log, "analyze", lambda: (calls.append(1), analyze())[1])
    commands = list(DEMO_AUTHORITIES[0].generator(5, date(2026, 6, 1)).commands())
    report = app.execute_batch(commands, batch_size=10)
    assert report.events > 160
    assert 3 <= len(calls) <= report.events.bit_length()  # 20, then doubling: not per batch
    if database.backend == "sqlite":
        with sqlite3.connect(str(database.sqlite_path)) as conn:
            tables = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
        assert {"stored_events", "command_receipts"} <= tables
    else:
        with psycopg.connect(database.url) as conn:
            analyzed = conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
            ).fetchall()
        assert {"oversight_events", "command_receipts"} <= {row[0] for row in analyzed}


def atomically_one_group_at_a_time(
    app: OversightApplication, groups: list[list[c.Command]]
) -> list[str | None]:
    outcomes: list[str | None] = []
    for group in groups:
        try:
            app.execute_atomically(group)
        except CommandRefused as refused:
            error = refused.error
            outcomes.append(f"{refused.command.command_id}:{type(error).__name__}:{error.field}")
        else:
            outcomes.append(None)
    return outcomes


def grouped(
    app: OversightApplication, groups: list[list[c.Command]], batch_size: int, dry_run: bool
) -> tuple[list[str | None], BatchReport]:
    outcomes: dict[int, str | None] = {}

    def told(index: int, group: object, outcome: object) -> None:
        assert index not in outcomes  # each group is told once
        if isinstance(outcome, CommandRefused):
            error = outcome.error
            outcomes[index] = f"{outcome.command.command_id}:{type(error).__name__}:{error.field}"
        else:
            outcomes[index] = None

    report = batching.execute_groups(
        app, groups, batch_size=batch_size, dry_run=dry_run, on_group=told
    )
    assert sorted(outcomes) == list(range(len(groups)))
    return [outcomes[n] for n in range(len(groups))], report


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=ACTIONS,
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=40),
    batch_size=st.integers(min_value=1, max_value=12),
)
def test_groups_in_few_transactions_write_what_each_group_all_or_nothing_writes(
    app: OversightApplication,
    other_app: OversightApplication,
    steps: list[tuple[str, str, int]],
    sizes: list[int],
    batch_size: int,
) -> None:
    """Property: however an import's commands fall into rows (groups), and however many
    rows go into one transaction, ``execute_groups`` refuses the same rows for the same
    reasons and writes the same events as running each row on its own through
    ``execute_atomically``. A refused row in the middle of a transaction takes back
    only itself, even when an earlier command of it changed an aggregate a later row
    uses. Its dry run says the same and writes nothing; a second run replays."""
    authority = f"P{uuid4().hex[:10].upper()}"
    commands = mixed_plan(authority, steps)
    groups: list[list[c.Command]] = []
    at = 0
    for size in sizes:
        if at < len(commands):
            groups.append(commands[at : at + size])
            at += size
    if at < len(commands):
        groups.append(commands[at:])
    expected = atomically_one_group_at_a_time(app, groups)

    head = other_app.recorder.max_notification_id()
    dry, dry_report = grouped(other_app, groups, batch_size, dry_run=True)
    assert dry == expected
    assert other_app.recorder.max_notification_id() == head  # nothing written

    outcomes, report = grouped(other_app, groups, batch_size, dry_run=False)
    assert outcomes == expected
    assert stored_events(other_app, authority) == stored_events(app, authority)
    assert (dry_report.executed, dry_report.events) == (report.executed, report.events)
    assert len(report.refused) == sum(1 for o in expected if o)

    # Again, on the stores as the whole run left them: a refused row may now be refused
    # by another of its commands (a later row changed what it reads), the same one way
    # or the other; the accepted rows replay.
    again, second = grouped(other_app, groups, batch_size, dry_run=False)
    assert again == atomically_one_group_at_a_time(app, groups)
    assert (second.executed, second.events) == (0, 0)
    assert stored_events(other_app, authority) == stored_events(app, authority)
