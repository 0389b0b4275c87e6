"""Real faults: runners killed with SIGKILL mid-stream, and a standby taking over."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from application.app import OversightApplication
from oversight.generate import DEMO_AUTHORITIES
from oversight.settings import DatabaseSettings
from projections.engine import active_generation
from projections.registry import all_projections
from tests.projections.conftest import checksum, make_runner

ROOT = Path(__file__).resolve().parents[2]


def _commands(count: int) -> Iterator[object]:
    generator = DEMO_AUTHORITIES[0].generator(11, date(2026, 6, 30))
    for index, command in enumerate(generator.commands()):
        if index >= count:
            return
        yield command


def _write(app: OversightApplication, commands: Iterable[object]) -> None:
    """Write ``commands`` in one batch (the same events as one at a time, ADR 0015): what
    these tests put under fault is the runner, not the writing."""
    report = app.execute_batch(commands)  # type: ignore[arg-type]
    assert not report.refused, report.refused


def _start_runner(database: DatabaseSettings, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OVERSIGHT_DATABASE_URL=database.url)
    return subprocess.Popen(
        [sys.executable, "-m", "oversight.cli", "projections", "run", "--poll", "0.05", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _positions(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [active_generation(conn, p.name)[1] for p in all_projections()]


def _unsettled(engine: Engine) -> int:
    """Subjects the compliance projection has marked but not yet recomputed."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM compliance_dirty")).scalar_one())


def _wait_caught_up(engine: Engine, head: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p >= head for p in _positions(engine)) and _unsettled(engine) == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"projections at {_positions(engine)}, head {head}")


@pytest.mark.slow
def test_sigkilled_runner_leaves_models_identical_to_a_clean_rebuild(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    rng = random.Random(20261124)
    stream = iter(_commands(2400))
    # The commands are written in batches (the same events as one at a time, ADR 0015):
    # what is under test is the runner being killed, not the writing.
    _write(app, (next(stream) for _ in range(500)))
    kills_mid_stream = 0
    for _ in range(12):
        before = min(_positions(engine))
        runner = _start_runner(database, "--batch-size", "3")
        deadline = time.monotonic() + 20
        while min(_positions(engine)) == before and time.monotonic() < deadline:
            time.sleep(0.01)  # wait until it is applying, then kill it at a random point
        time.sleep(rng.uniform(0, 0.15))
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        head = app.recorder.max_notification_id() or 0
        if any(before < p < head for p in _positions(engine)):
            kills_mid_stream += 1
        _write(app, (command for command in (next(stream, None) for _ in range(150)) if command))
    assert kills_mid_stream >= 3, "the kills should land while the runner is applying"
    for projection in all_projections():
        make_runner(database, app, engine, projection).catch_up()
    survived = {p.name: checksum(engine, p) for p in all_projections()}
    for projection in all_projections():
        make_runner(database, app, engine, projection).rebuild()
    rebuilt = {p.name: checksum(engine, p) for p in all_projections()}
    assert survived == rebuilt


@pytest.mark.slow
def test_standby_runner_takes_over_when_the_leader_dies(
    database: DatabaseSettings, app: OversightApplication, engine: Engine
) -> None:
    stream = iter(_commands(600))
    _write(app, (next(stream) for _ in range(200)))
    leader = _start_runner(database)
    _wait_caught_up(engine, app.recorder.max_notification_id() or 0)
    standby = _start_runner(database)
    try:
        time.sleep(0.5)
        for command in (next(stream) for _ in range(150)):
            app.execute(command)  # type: ignore[arg-type]
        _wait_caught_up(engine, app.recorder.max_notification_id() or 0)
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        for command in stream:
            app.execute(command)  # type: ignore[arg-type]
        _wait_caught_up(engine, app.recorder.max_notification_id() or 0)
        assert standby.poll() is None, "the standby must still be running, now leading"
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(20) == 0
    finally:
        for process in (leader, standby):
            if process.poll() is None:
                process.kill()
                process.wait(10)
    survived = {p.name: checksum(engine, p) for p in all_projections()}
    for projection in all_projections():
        make_runner(database, app, engine, projection).rebuild()
    assert survived == {p.name: checksum(engine, p) for p in all_projections()}
