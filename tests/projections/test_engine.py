"""The runner: exactly once, gaps, competing appliers, rebuild switch-over, read-your-writes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from eventsourcing.persistence import Notification
from sqlalchemy import Engine, text

from application.app import OversightApplication
from domain import commands as c
from oversight.settings import DatabaseSettings
from projections.audit_trail import AuditTrail
from projections.engine import (
    PIPELINE_SWITCH_INTERVAL,
    Operation,
    ProjectionLagging,
    Source,
    active_generation,
    pipelined_switching,
    status,
    wait_for,
)
from projections.registry import all_projections
from tests.helpers import common, register_child, register_worker, setup_authority
from tests.projections.conftest import catch_up_all, checksum, make_runner


def _seed(app: OversightApplication, children: int = 6) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    for n in range(children):
        register_child(app, f"C{n}")


def _count(engine: Engine, view: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT COUNT(*) FROM "{view}"')).scalar_one())


def test_applies_each_event_exactly_once(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _seed(app)
    runner = make_runner(database, app, engine, AuditTrail(), batch_size=3)
    assert runner.catch_up() == 8
    assert runner.catch_up() == 0  # nothing new: nothing re-applied
    assert _count(engine, "audit_trail") == 8
    with engine.connect() as conn:
        assert active_generation(conn, "audit_trail") == (1, 8)


def test_a_large_catch_up_refreshes_the_planner_statistics_of_what_it_wrote(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a catch-up of many events (a rebuild, a bulk import), PostgreSQL's planner
    must not plan the first reads on statistics that say the tables are empty."""
    import projections.engine as engine_module

    _seed(app)
    monkeypatch.setattr(engine_module, "ANALYZE_AFTER", 5)
    runner = make_runner(database, app, engine, AuditTrail(), batch_size=3)
    assert runner.catch_up() == 8
    if database.backend != "postgresql":
        return  # SQLite's planner keeps no such statistics; the catch-up is unaffected
    with engine.connect() as conn:
        analyzed = conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname LIKE 'audit_trail%__g1' AND last_analyze IS NOT NULL"
            )
        ).scalars()
        assert "audit_trail__g1" in set(analyzed)


@dataclass
class _SpyingAuditTrail(AuditTrail):
    """The audit trail, noting the switch interval each event is handled under."""

    seen: list[float] = field(default_factory=list)

    def handle(self, event: Any, notification: Notification) -> Sequence[Operation]:
        self.seen.append(sys.getswitchinterval())
        return super().handle(event, notification)


def test_a_catch_up_shortens_the_switch_interval_and_restores_the_process_own(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """ADR 0006: the catch-up's threads hand the GIL over every millisecond; the process's
    own interval comes back when the last catch-up of the process ends."""
    _seed(app)
    own = sys.getswitchinterval()
    projection = _SpyingAuditTrail()
    runner = make_runner(database, app, engine, projection, batch_size=3)
    with pipelined_switching():  # another runner of the process, still catching up
        assert runner.catch_up() == 8
        assert sys.getswitchinterval() == pytest.approx(PIPELINE_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == pytest.approx(own)
    assert len(projection.seen) == 8
    assert all(v == pytest.approx(PIPELINE_SWITCH_INTERVAL) for v in projection.seen)


@dataclass
class _GappySource:
    """Notifications with gaps in their ids, as PostgreSQL sequences leave them."""

    real: Source
    ids: list[int]
    stored: list[Notification] = field(default_factory=list)

    def __post_init__(self) -> None:
        originals = self.real.select_notifications(1, 100)
        self.stored = [
            Notification(
                id=new_id,
                originator_id=n.originator_id,
                originator_version=n.originator_version,
                topic=n.topic,
                state=n.state,
            )
            for new_id, n in zip(self.ids, originals, strict=False)
        ]

    def select(self, start: int, limit: int) -> list[Notification]:
        return [n for n in self.stored if n.id >= start][:limit]

    def source(self) -> Source:
        return Source(self.select, lambda: self.stored[-1].id, self.real.mapper)


def test_copes_with_gaps_in_notification_ids(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _seed(app, children=3)
    runner = make_runner(database, app, engine, AuditTrail(), batch_size=2)
    gappy = _GappySource(runner.source, [3, 4, 10, 11, 25])
    runner.source = gappy.source()
    assert runner.catch_up() == 5
    with engine.connect() as conn:
        positions = [
            r[0] for r in conn.execute(text('SELECT position FROM "audit_trail" ORDER BY position'))
        ]
    assert positions == [3, 4, 10, 11, 25]


def test_competing_appliers_never_apply_twice(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """Without the leader lock, four appliers race; the position compare-and-set and the
    single transaction still give exactly-once."""
    _seed(app, children=40)
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            make_runner(database, app, engine, AuditTrail(), batch_size=4).catch_up()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    reference = checksum(engine, AuditTrail())
    assert _count(engine, "audit_trail") == 42
    make_runner(database, app, engine, AuditTrail()).rebuild()
    assert checksum(engine, AuditTrail()) == reference


def test_rebuild_switches_over_only_when_caught_up(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _seed(app, children=20)
    catch_up_all(database, app, engine)
    before = checksum(engine, AuditTrail())
    seen_during: list[int] = []

    def progress(reached: int, head: int) -> None:
        # Readers see the old, complete model while the new one fills.
        seen_during.append(_count(engine, "audit_trail"))

    rebuilder = make_runner(database, app, engine, AuditTrail(), batch_size=5, on_progress=progress)
    assert rebuilder.rebuild() == 22
    assert seen_during and all(n == 22 for n in seen_during)
    assert checksum(engine, AuditTrail()) == before
    with engine.connect() as conn:
        assert active_generation(conn, "audit_trail") == (2, 22)
        tables = {
            r[0]
            for r in conn.execute(
                text("SELECT table_name FROM information_schema.tables")
                if engine.dialect.name == "postgresql"
                else text("SELECT name FROM sqlite_master WHERE type='table'")
            )
        }
    assert "audit_trail__g1" not in tables and "audit_trail__g2" in tables


def test_status_reports_lag_in_events_and_seconds(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _seed(app, children=2)
    runner = make_runner(database, app, engine, AuditTrail())
    [before] = status(engine, runner.source, [AuditTrail()])
    assert (before.position, before.head, before.lag_events) == (0, 4, 4)
    assert before.lag_seconds >= 0
    runner.catch_up()
    [after] = status(engine, runner.source, [AuditTrail()])
    assert (after.lag_events, after.lag_seconds) == (0, 0.0)


def test_read_your_writes_waits_boundedly(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    _seed(app, children=1)
    result = app.execute(c.ChangeTeam(**common(), staff_id="SW1", team="Team B"))
    with pytest.raises(ProjectionLagging) as caught:
        wait_for(engine, "audit_trail", result.position, timeout=0.2)
    assert caught.value.retryable and caught.value.wanted == result.position
    runner = make_runner(database, app, engine, AuditTrail())
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    try:
        wait_for(engine, "audit_trail", result.position, timeout=10)
    finally:
        runner.stop()
        thread.join(10)
    with engine.connect() as conn:
        assert active_generation(conn, "audit_trail")[1] >= (result.position or 0)


def test_projections_are_installed_by_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        for projection in all_projections():
            assert active_generation(conn, projection.name) == (1, 0)


def test_in_process_projections_for_the_embedded_default(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    """One process: commands write, background threads project, reads wait for them."""
    from oversight.projecting import InProcessProjections

    _seed(app, children=1)
    background = InProcessProjections(database, app, engine, poll_interval=0.05)
    background.start()
    try:
        result = app.execute(c.ChangeTeam(**common(), staff_id="SW1", team="Team C"))
        for projection in all_projections():
            wait_for(engine, projection.name, result.position, timeout=10)
    finally:
        background.stop()
    assert all(not thread.is_alive() for thread in background.threads)
    assert _count(engine, "audit_trail") == 4  # authority, worker, child, team change
