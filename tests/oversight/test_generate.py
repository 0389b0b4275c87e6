"""``oversight demo generate``: a deterministic authority at scale, written in batches,
that survives being killed mid-run (issue 7, ADR 0015). On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from domain import commands as c
from oversight.cli import main
from oversight.generate import DEMO_AUTHORITIES
from oversight.generate.authority import SCALES, AuthorityGenerator, Scale, _Case, _Member, at
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.helpers import stored_events

TINY = Scale("tiny", teams=2, practitioners=8, open_cases=60, years=1)


def test_the_same_seed_generates_the_same_authority_and_another_seed_another() -> None:
    def plan(seed: int) -> list[tuple[str, str]]:
        generator = AuthorityGenerator(TINY, seed=seed, until=date(2026, 1, 1), authority_code="G")
        return [(x.command_id, x.fingerprint()) for x in generator.commands()]

    first, again, other = plan(5), plan(5), plan(6)
    assert first == again
    assert first != other
    assert len({command_id for command_id, _ in first}) == len(first)  # ids are unique


def test_no_placement_moves_after_care_has_ended() -> None:
    """A looked-after case that closes on the first day of a month is worked that day:
    care ends in the morning, so a placement move drawn for that day is not made (the
    medium authority had four; the domain refused one) and its id is spent, so the
    commands after it keep theirs."""
    generator = AuthorityGenerator(TINY, seed=1, until=date(2026, 1, 1), authority_code="G")
    generator.rng = _Always()  # every chance taken: a move is drawn this month
    generator.staff["SW1"] = _Member("SW1", "practitioner", "T1", "TM1", date(2024, 1, 1), True)
    case = _Case("C1", "cla", "SW1", opened=date(2025, 1, 1), closes_on=date(2025, 6, 1))
    case.in_care = True
    generator._floor = at(date(2025, 6, 1), 0)
    counter = generator._counter
    generator._case_month(case, date(2025, 6, 1), date(2025, 7, 1))
    queued = sorted(generator._queue)
    kinds = [type(command).__name__ for _, _, command in queued]
    assert "RecordReturnedHome" in kinds and "CloseCase" in kinds
    assert "ChangePlacement" not in kinds
    assert generator._counter == counter + len(queued) + 1  # the move's id, spent


class _Always(random.Random):
    def random(self) -> float:
        return 0.0


def test_the_commands_come_in_time_order_and_follow_the_packs_shape() -> None:
    generator = AuthorityGenerator(
        SCALES["small"], seed=1, until=date(2026, 1, 1), authority_code="G"
    )
    commands = list(generator.commands())
    times = [x.occurred_at for x in commands]
    assert times == sorted(times)
    assert max(times).date() < date(2026, 1, 1)
    kinds = Counter(type(x).__name__ for x in commands)
    for kind in (
        "HoldSupervisionSession",
        "WritePersonalSupervisionRecord",
        "RecordCaseSupervision",
        "RecordManagementOversight",
        "TriggerOversight",
        "RaiseDisagreement",
        "CancelSupervisionSession",
        "StartAbsence",
        "LeaveEmployment",
        "CloseCase",
        "RecordLookedAfterReview",
    ):
        assert kinds[kind] > 0, kind
    # Cases open and close, so more children are known than are open at once.
    assert generator.children > SCALES["small"].open_cases


def test_the_demo_authorities_are_the_generator_at_a_demo_scale_under_each_pack() -> None:
    """One generator [issue 18]: each demo authority is a demo scale of it under its own
    pack, with the archive migrated in (real past dates, marked imported) and each
    disputed record taken further as a disagreement [DUR-4.10]."""
    until = date(2026, 10, 31)
    assert {demo.pack for demo in DEMO_AUTHORITIES} == {"DUR", "POR", "DEV", "SHR", "BUR"}
    for demo in DEMO_AUTHORITIES:
        generator = demo.generator(7, until)
        assert demo.scale in (SCALES["demo"], SCALES["demo-small"]) and demo.scale.archive
        commands = list(generator.commands())
        [registration] = [x for x in commands if isinstance(x, c.RegisterAuthority)]
        assert (registration.authority_code, registration.policy_pack) == (demo.code, demo.pack)
        archive = [x for x in commands if "-archive-" in x.command_id]
        assert archive and all(x.imported for x in archive)
        assert all(x.occurred_at.date() < generator.start for x in archive)
        assert [x.child_id for x in commands if isinstance(x, c.PlaceLegalHold)] == ["ARCH-C03"]
        disputed = {
            x.record_id
            for x in commands
            if isinstance(x, c.SignPersonalSupervisionRecord) and x.confirmed is False
        }
        raised = {
            x.disagreement_id.removesuffix("-D")
            for x in commands
            if isinstance(x, c.RaiseDisagreement) and x.subject == "record_content"
        }
        assert disputed and raised == disputed, demo.code


def _stored(database: DatabaseSettings) -> list[tuple[Any, ...]]:
    app = open_application(database)
    try:
        return sorted(stored_events(app), key=lambda row: (str(row[0]), row[1]))
    finally:
        app.close()


def _generate(database: DatabaseSettings, *, quiet: bool = False) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OVERSIGHT_DATABASE_URL=database.url)
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "oversight.cli", "demo", "generate", "--scale", "demo",
         "--seed", "3", "--batch-size", "500"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_killed_mid_run_then_run_again_it_writes_what_one_clean_run_writes(
    database: DatabaseSettings, other_database: DatabaseSettings
) -> None:
    """A real SIGKILL part-way through: each batch was written whole or not at all, and
    the second run writes only what is missing."""
    clean = _generate(other_database)
    output, _ = clean.communicate(timeout=600)
    assert clean.returncode == 0, output.decode()
    expected = _stored(other_database)
    assert len(expected) > 15_000

    interrupted = _generate(database, quiet=True)
    app = open_application(database)
    try:
        deadline = time.monotonic() + 300
        while (app.recorder.max_notification_id() or 0) < 5_000:
            assert interrupted.poll() is None, "finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        app.close()
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait(timeout=60)
    part = _stored(database)
    assert 5_000 <= len(part) < len(expected)

    resumed = _generate(database)
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output.decode()
    assert "replayed" in output.decode()
    assert _stored(database) == expected


def test_generate_reports_what_it_did_and_a_second_run_replays_it(
    database: DatabaseSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OVERSIGHT_DATABASE_URL", database.url)
    runner = CliRunner()
    arguments = ["demo", "generate", "--scale", "small", "--authority", "GEN-T", "--seed", "9"]
    arguments += ["--until", "2025-06-01", "--pack", "POR"]
    first = runner.invoke(main, arguments)
    assert first.exit_code == 0, first.output
    assert "GEN-T:" in first.output
    assert "refused by a rule 0" in first.output
    app = open_application(database)
    try:
        assert app.get_authority("GEN-T").policy_pack == "POR"
        head = app.recorder.max_notification_id()
    finally:
        app.close()
    second = runner.invoke(main, arguments)
    assert second.exit_code == 0, second.output
    assert "executed 0 (0 events)" in second.output
    app = open_application(database)
    try:
        assert app.recorder.max_notification_id() == head
    finally:
        app.close()


def test_an_unknown_scale_or_pack_is_refused_naming_it(
    database: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERSIGHT_DATABASE_URL", database.url)
    runner = CliRunner()
    bad_scale = runner.invoke(main, ["demo", "generate", "--scale", "huge"])
    assert bad_scale.exit_code == 2
    assert "--scale" in bad_scale.output
    bad_pack = runner.invoke(main, ["demo", "generate", "--scale", "small", "--pack", "NOPE"])
    assert bad_pack.exit_code != 0
    assert "policy_pack" in bad_pack.output or "NOPE" in bad_pack.output
    app = open_application(database)
    try:
        assert app.recorder.max_notification_id() in (None, 0)  # nothing written
    finally:
        app.close()
