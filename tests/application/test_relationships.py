"""The relationship table (ADR 0020, addendum), on SQLite and PostgreSQL: written with the
events that change a relationship, on every write path (one command, a batch, an atomic
batch, a purge), it always equals the rows rebuilt from the log through the one
derivation, and what the aggregates decide on; the migration fills it from a store
written before it; a purged subject's row says only that it was purged."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, pool, update

from application.app import OversightApplication
from application.batching import CommandRefused
from application.relationships import (
    RELATIONSHIP_EVENTS,
    Relationship,
    differences,
    from_log,
    from_values,
    relationship_events,
    stored,
    subject_relationship,
)
from domain import commands as c
from domain.errors import DomainError
from domain.events import SupervisionSessionHeld, WorkerRoleChanged
from domain.subject import SubjectPurged
from domain.vocabulary import Role
from oversight.cli import main
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from tests.helpers import (
    NOW,
    START,
    actor,
    common,
    register_child,
    register_worker,
    setup_authority,
)

WORKERS = ("M0", "W1", "W2", "W3")
CHILDREN = ("K1", "K2")
TEAMS = ("Team A", "Team B", "Team C")
FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored-events-2026-12.sqlite3"


def _rows(engine: Engine, authority: str) -> dict[str, Relationship]:
    return {k: r for k, r in stored(engine).items() if r.authority_code == authority}


def _logged(app: OversightApplication, authority: str) -> dict[str, Relationship]:
    return {k: r for k, r in from_log(app).items() if r.authority_code == authority}


def _agrees_with_the_aggregates(app: OversightApplication, rows: dict[str, Relationship]) -> None:
    """Each row says what the aggregates the write is decided on say."""
    for row in rows.values():
        if row.purged:
            with pytest.raises(SubjectPurged):
                (app.get_worker if row.subject_kind == "worker" else app.get_child)(
                    row.authority_code, row.local_id
                )
            continue
        if row.subject_kind == "worker":
            worker = app.get_worker(row.authority_code, row.local_id)
            assert row.team == worker.employment.team
            assert row.line_manager_id == worker.employment.line_manager_id
            assert row.supervisor_ids == list(
                dict.fromkeys(a["supervisor_id"] for a in worker.agreements.values())
            )
        else:
            child = app.get_child(row.authority_code, row.local_id)
            assert row.team == child.team
            assert row.allocated_worker_id == child.allocated_worker_id


def _setup(app: OversightApplication, authority: str) -> None:
    setup_authority(app, authority)
    who = actor(authority=authority)
    register_worker(app, "M0", who=who, role="team_manager", line_manager_id=None)
    for staff_id in WORKERS[1:]:
        register_worker(app, staff_id, who=who, line_manager_id="M0")
    for child in CHILDREN:
        app.execute(
            c.RegisterChild(
                **common(START, who),
                child_id=child,
                date_of_birth=date(2015, 5, 1),
                case_type="cin",
                risk_level="medium",
                rag="amber",
                name=None,
            )
        )


# -- the derivation --------------------------------------------------------------------------


def test_only_relationship_events_make_a_command_write_a_row(
    app: OversightApplication, engine: Engine
) -> None:
    setup_authority(app)
    register_worker(app, "TM1", role="team_manager", line_manager_id=None)
    register_worker(app, "SW1")
    before = stored(engine)
    app.execute(c.ChangeRole(**common(NOW), staff_id="SW1", role="practice_supervisor"))
    assert stored(engine) == before  # a role change is no relationship: no row written
    worker = app.get_worker("TEST-LA", "SW1")
    assert WorkerRoleChanged not in RELATIONSHIP_EVENTS
    assert SupervisionSessionHeld not in RELATIONSHIP_EVENTS
    assert relationship_events(worker.collect_events()) == {}
    app.execute(c.ChangeTeam(**common(NOW), staff_id="SW1", team="Team B"))
    row = _rows(engine, "TEST-LA")[str(worker.id)]
    assert (row.team, row.line_manager_id, row.version) == ("Team B", "TM1", worker.version + 1)
    assert from_values(row.values()) == row


def test_every_write_path_keeps_the_table(app: OversightApplication, engine: Engine) -> None:
    """One command, a batch and an atomic batch each write the rows their events change;
    the table then equals the log's rows and the aggregates."""
    _setup(app, "PATHS")
    who = actor(authority="PATHS")
    app.execute(c.ChangeLineManager(**common(NOW, who), staff_id="W1", line_manager_id="W2"))
    report = app.execute_batch(
        [
            c.AllocateWorker(
                **common(NOW, who), child_id="K1", worker_id="W1", reason="NEW", team="Team A"
            ),
            c.ChangeTeam(**common(NOW, who), staff_id="W2", team="Team B"),
        ]
    )
    assert report.executed == 2 and not report.refused
    app.execute_atomically(
        [
            c.AllocateWorker(
                **common(NOW, who), child_id="K2", worker_id="W3", reason="NEW", team="Team C"
            ),
            c.AllocateTeam(**common(NOW, who), child_id="K1", team="Team B"),
        ]
    )
    rows = _rows(engine, "PATHS")
    assert rows == _logged(app, "PATHS")
    by_local = {r.local_id: r for r in rows.values()}
    assert by_local["W1"].line_manager_id == "W2"
    assert by_local["W2"].team == "Team B"
    assert (by_local["K1"].allocated_worker_id, by_local["K1"].team) == ("W1", "Team B")
    assert (by_local["K2"].allocated_worker_id, by_local["K2"].team) == ("W3", "Team C")
    _agrees_with_the_aggregates(app, rows)
    assert differences(app, engine) == []


def test_a_refused_atomic_batch_writes_no_row(app: OversightApplication, engine: Engine) -> None:
    _setup(app, "ATOM")
    who = actor(authority="ATOM")
    before = stored(engine)
    with pytest.raises(CommandRefused):
        app.execute_atomically(
            [
                c.ChangeTeam(**common(NOW, who), staff_id="W1", team="Team B"),
                c.ChangeTeam(**common(NOW, who), staff_id="W1", team="Team B"),  # same team
            ]
        )
    assert stored(engine) == before


# -- a property: random relationship changes through every write path -------------------------


@dataclass(frozen=True)
class Change:
    what: str  # team | manager | allocate | allocate_team | agree
    subject: int
    other: int
    path: str  # execute | batch | atomic


def _command(change: Change, authority: str, allocated: set[str]) -> list[c.Command]:
    who = actor(authority=authority)
    worker = WORKERS[1 + change.subject % 3]
    other = WORKERS[change.other % len(WORKERS)]
    child = CHILDREN[change.subject % len(CHILDREN)]
    team = TEAMS[change.other % len(TEAMS)]
    if change.what == "team":
        return [c.ChangeTeam(**common(NOW, who), staff_id=worker, team=team)]
    if change.what == "manager":
        return [c.ChangeLineManager(**common(NOW, who), staff_id=worker, line_manager_id=other)]
    if change.what == "allocate":
        reason = "OTHERS" if child in allocated else "NEW"
        allocated.add(child)
        return [
            c.AllocateWorker(
                **common(NOW, who), child_id=child, worker_id=other, reason=reason, team=team
            )
        ]
    if change.what == "allocate_team":
        return [c.AllocateTeam(**common(NOW, who), child_id=child, team=team)]
    terms: dict[str, Any] = {
        "agreement_id": f"SA{change.other % 2}",
        "supervisor_id": other,
        "frequency": "P4W",
        "supervision_format": "individual",
        "escalation_manager_id": "M0",
        "review_due_on": (NOW + timedelta(days=300)).date(),
    }
    party = actor(other, Role.SUPERVISOR, authority)
    supervisee = actor(worker, Role.SUPERVISEE, authority)
    return [
        c.SignSupervisionAgreement(**common(NOW, party), staff_id=worker, **terms),
        c.SignSupervisionAgreement(**common(NOW, supervisee), staff_id=worker, **terms),
    ]


CHANGES = st.lists(
    st.builds(
        Change,
        what=st.sampled_from(["team", "manager", "allocate", "allocate_team", "agree"]),
        subject=st.integers(0, 5),
        other=st.integers(0, 5),
        path=st.sampled_from(["execute", "batch", "atomic"]),
    ),
    max_size=10,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=CHANGES)
def test_the_table_is_the_log_folded_whatever_the_changes_and_paths(
    app: OversightApplication, engine: Engine, changes: list[Change]
) -> None:
    """Rows updated as each write lands equal the rows rebuilt from each subject's whole
    history, and what the aggregates say, whichever way each change was written
    (refused changes, a refused atomic batch included)."""
    authority = f"P{uuid.uuid4().hex[:8].upper()}"
    _setup(app, authority)
    allocated: set[str] = set()
    for change in changes:
        commands = _command(change, authority, allocated)
        if change.path == "batch":
            app.execute_batch(commands)
        elif change.path == "atomic":
            with contextlib.suppress(CommandRefused):
                app.execute_atomically(commands)
        else:
            for command in commands:
                with contextlib.suppress(DomainError):
                    app.execute(command)
    rows = _rows(engine, authority)
    assert rows == _logged(app, authority)
    assert len(rows) == len(WORKERS) + len(CHILDREN)
    _agrees_with_the_aggregates(app, rows)


# -- the purge -------------------------------------------------------------------------------


def test_a_purged_subjects_row_keeps_only_that_it_was_purged(
    app: OversightApplication, engine: Engine
) -> None:
    setup_authority(app)
    register_worker(app, "TM1", role="team_manager", line_manager_id=None)
    register_worker(app, "SW1")
    sentinel = f"Team {uuid.uuid4().hex}"
    # A child in need only, born in 1990: kept 25 years from birth [RET-CIN], so due.
    register_child(app, "C-1990", date_of_birth=date(1990, 1, 5), case_type="cin", rag=None)
    app.execute(
        c.AllocateWorker(
            **common(START), child_id="C-1990", worker_id="SW1", reason="NEW", team=sentinel
        )
    )
    assert sentinel in str(stored(engine))
    app.execute(
        c.PurgeRecord(
            **common(NOW, actor("DPO1", Role.DATA_PROTECTION_OFFICER)),
            child_id="C-1990",
            record_class="child_record",
            record_id="C-1990",
            as_of=NOW.date(),
        )
    )
    rows = _rows(engine, "TEST-LA")
    (row,) = [r for r in rows.values() if r.local_id == "C-1990"]
    assert row.purged
    assert (row.team, row.line_manager_id, row.allocated_worker_id, row.supervisors) == (
        None,
        None,
        None,
        (),
    )
    assert sentinel not in str(stored(engine))
    assert rows == _logged(app, "TEST-LA")
    _agrees_with_the_aggregates(app, rows)


# -- the migration's backfill ----------------------------------------------------------------


def test_the_migration_fills_the_table_from_a_store_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "stored.sqlite3"
    shutil.copyfile(FIXTURE, path)
    database = DatabaseSettings.from_url(f"sqlite:///{path}")
    upgrade(database)
    engine = create_engine(database.sqlalchemy_url(), poolclass=pool.NullPool)
    app = OversightApplication(env=database.eventsourcing_env())
    try:
        rows = stored(engine)
        assert rows == from_log(app)
        kinds = sorted(r.subject_kind for r in rows.values())
        assert kinds == ["child"] * 5 + ["worker"] * 6  # every subject of the old store
        assert differences(app, engine) == []
        _agrees_with_the_aggregates(app, rows)
        sw1 = next(r for r in rows.values() if r.local_id == "SW1")
        assert sw1.team and sw1.supervisor_ids
    finally:
        app.close()
        engine.dispose()


# -- oversight db relationships verify / rebuild ---------------------------------------------


def _cli(database: DatabaseSettings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["db", "relationships", *args],
        env={"OVERSIGHT_DATABASE_URL": database.url},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_the_cli_checks_the_table_against_the_log_and_rebuilds_it(
    app: OversightApplication, engine: Engine, database: DatabaseSettings
) -> None:
    _setup(app, "CLI-LA")
    assert _cli(database, "verify") == (0, "relationships: the table equals the log\n")
    with engine.begin() as conn:  # a row tampered with, one lost
        conn.execute(
            update(subject_relationship)
            .where(subject_relationship.c.local_id == "W1")
            .values(team="Elsewhere")
        )
        conn.execute(delete(subject_relationship).where(subject_relationship.c.local_id == "K1"))
    code, output = _cli(database, "verify")
    assert code == 1
    assert "CLI-LA worker W1: the table has team='Elsewhere'" in output
    assert "CLI-LA child K1: the table has no row" in output
    assert _cli(database, "rebuild") == (
        0,
        f"relationships: {len(WORKERS) + len(CHILDREN)} rows rebuilt from the log\n",
    )
    assert _cli(database, "verify")[0] == 0
    _agrees_with_the_aggregates(app, _rows(engine, "CLI-LA"))
