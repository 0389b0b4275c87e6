"""The ``oversight`` tool end to end: migrate, seed the demo, summarise, on both stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from oversight.cli import main
from oversight.generate import DEMO_AUTHORITIES
from oversight.schema import head_revision
from projections.registry import all_projections
from tests.conftest import drop_postgres_database, new_postgres_database


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, list(args), env={"OVERSIGHT_DATABASE_URL": url}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.sqlite3'}"
        return
    url = new_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.mark.slow
def test_demo_seed_is_deterministic_idempotent_and_summarised(fresh_url: str) -> None:
    code, output = _run(fresh_url, "demo", "summary")
    assert code == 1 and "run: oversight db upgrade" in output
    assert _run(fresh_url, "db", "upgrade")[0] == 0
    head = head_revision()
    assert _run(fresh_url, "db", "current") == (0, f"current: {head}; this code needs: {head}\n")
    code, output = _run(fresh_url, "demo", "seed", "--seed", "7", "--until", "2026-10-31")
    assert code == 0, output
    assert "refused by a rule: 0" in output
    code, output = _run(fresh_url, "db", "analyze")
    assert code == 0 and output.startswith("analyzed the event store in"), output
    code, output = _run(fresh_url, "demo", "summary", "--format", "json", "--as-of", "2026-10-31")
    everything = json.loads(output)
    assert sorted(everything) == sorted(d.code for d in DEMO_AUTHORITIES)
    summary = everything["DEMO"]
    # 29 staff (a head of service, a service manager, 5 team managers, 22 practitioners),
    # a replacement for each practitioner who left (three did), and the archive's leaver
    # of 2016; about 150 cases open at a time, so more children known over two years,
    # and the archive's three closed cases.
    assert summary["workers_left"] == 3 + 1
    assert summary["workers"] == 29 + 3 + 1
    assert summary["children"] == 359 + 3
    assert summary["policy_pack"] == "DUR"
    # Two years of realistic slippage: all of these are present, none dominate.
    assert 500 < summary["sessions_held"] < 720
    assert summary["sessions_cancelled"] > 10
    assert summary["sessions_scheduled_not_held"] > 0
    assert summary["records_disputed"] > 0
    assert 0 < summary["open_oversight_triggers"] < summary["oversight_records"]
    assert summary["open_disagreements"] > 0
    # Seeding again replays every command from its receipt: nothing new is written.
    code, output = _run(fresh_url, "demo", "seed", "--seed", "7", "--until", "2026-10-31")
    assert "commands executed: 0" in output
    # ... and, each authority's last command being written, without replaying one.
    assert f"already seeded, skipped: {', '.join(d.code for d in DEMO_AUTHORITIES)}" in output
    assert "replayed (already done): 0" in output
    again = json.loads(
        _run(fresh_url, "demo", "summary", "--format", "json", "--as-of", "2026-10-31")[1]
    )
    assert again == everything
    # Projections: lagging, then caught up, then rebuilt into generation 2.
    total = sum(item["events"] for item in everything.values())
    code, output = _run(fresh_url, "projections", "status")
    assert code == 0 and f"{total:>11}" in output
    assert summary["compliance"]["projection_lag_events"] == total
    assert _run(fresh_url, "projections", "run", "--once")[0] == 0
    code, output = _run(fresh_url, "projections", "status")
    assert output.count(f"{0:>11}") == len(all_projections()), output
    # Every demo authority has findings under its own pack [issue 4].
    code, output = _run(fresh_url, "demo", "summary", "--format", "json", "--as-of", "2026-10-31")
    for demo in DEMO_AUTHORITIES:
        compliance = json.loads(output)[demo.code]["compliance"]
        assert compliance["projection_lag_events"] == 0
        assert compliance["fell_due"] > 0 and compliance["on_time"] > 0, demo.code
        # Missed windows of recurring and annual rules are breached, each counted once.
        assert compliance["breached"] > 0, demo.code
        assert (
            sum(t["breached"] for t in compliance["by_rule"].values()) == (compliance["breached"])
        ), demo.code
        assert any(rule.startswith(f"{demo.pack}-") for rule in compliance["by_rule"]), demo.code
    code, output = _run(fresh_url, "demo", "summary", "--as-of", "2026-10-31")
    assert code == 0 and "compliance under SHR" in output and "SHR-3.6e" in output
    assert "breached windows" in output
    code, output = _run(
        fresh_url, "compliance", "show", "--worker", "SW001", "--as-of", "2026-10-31"
    )
    assert code == 0 and "DUR-4.2" in output and "pack DUR" in output
    code, output = _run(
        fresh_url, "compliance", "summary", "--authority", "DEMO-POR", "--as-of", "2026-10-31"
    )
    assert code == 0 and "POR-3.1b" in output and "breached" in output
    code, output = _run(
        fresh_url, "compliance", "summary", "--authority", "DEMO-POR", "--as-of", "2026-10-31",
        "--since", "2026-05-01", "--by", "team", "--format", "json",
    )  # fmt: skip
    by_team = json.loads(output)
    assert code == 0 and by_team["since"] == "2026-05-01"
    assert sum(row["breached"] for row in by_team["rows"]) == by_team["overall"]["breached"]
    code, output = _run(
        fresh_url, "compliance", "register", "disagreement", "--as-of", "2026-10-31"
    )
    assert code == 0 and "DUR-4.10" in output
    code, output = _run(
        fresh_url, "compliance", "sheet", "--authority", "DEMO-SHR", "--worker", "SW001",
        "--as-of", "2026-10-31",
    )  # fmt: skip
    assert code == 0 and "sessions" in output and "breached windows 2025-10-31" in output
    code, output = _run(
        fresh_url, "compliance", "sheet", "--authority", "DEMO-SHR", "--worker", "SW001",
        "--as-of", "2026-10-31", "--since", "2026-05-01", "--format", "json",
    )  # fmt: skip
    sheet = json.loads(output)
    assert code == 0 and sheet["since"] == "2026-05-01"
    assert len(sheet["breached"]) == sum(sheet["breached_by_rule"].values())
    code, output = _run(
        fresh_url, "compliance", "tracker", "--authority", "DEMO-SHR", "--worker", "SW001",
        "--from", "2026-05-01", "--to", "2026-10-31",
    )  # fmt: skip
    assert code == 0 and "twice/6m" in output and "breached" in output
    code, output = _run(fresh_url, "projections", "rebuild", "audit_trail")
    assert code == 0 and "switched to the new tables" in output
    assert "audit_trail           2" in _run(fresh_url, "projections", "status")[1]
    code, output = _run(fresh_url, "audit", "trail", "--child", "C0001", "--first", "3")
    assert code == 0 and "Child C0001 registered" in output and "next page: --after" in output
    code, output = _run(fresh_url, "history", "verify", "--worker", "SW001")
    assert code == 0 and "agrees with the event store" in output
    code, output = _run(fresh_url, "history", "show", "--child", "C0001", "--format", "json")
    assert json.loads(output)["attributes"]["local_child_id"] == "C0001"
    # Retention [issue 6]: the schedule, a dry run, and a real run that matches it.
    code, output = _run(
        fresh_url, "retention", "schedule", "--authority", "DEMO-BUR", "--as-of", "2026-10-31",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0 and ",worker_file,ARCH01,BUR-RET,left_employment,2016-03-31," in output
    assert ",child_record,ARCH-C03,RET-CIN," in output and "held" in output
    assert (
        json.loads(
            _run(fresh_url, "demo", "summary", "--format", "json", "--as-of", "2026-10-31")[1]
        )["DEMO-BUR"]["compliance"]["retention"]["due"]
        == 4
    )
    code, dry = _run(
        fresh_url, "retention", "purge", "--as-of", "2026-10-31", "--dry-run",
        "--authorised-by", "DPO01",
    )  # fmt: skip
    assert code == 0 and "would destroy 17 records as of 2026-10-31" in dry, dry
    code, real = _run(
        fresh_url, "retention", "purge", "--as-of", "2026-10-31", "--authorised-by", "DPO01"
    )
    assert code == 0 and "destroyed 17 records" in real and "storage compacted" in real, real
    destroyed = sorted(
        line.split(": ", 1)[1] for line in real.splitlines() if line.startswith("destroyed:")
    )
    assert destroyed == sorted(
        line.split(": ", 1)[1] for line in dry.splitlines() if line.startswith("would destroy:")
    )
    code, output = _run(
        fresh_url, "audit", "trail", "--authority", "DEMO-BUR", "--worker", "ARCH01"
    )
    assert code == 0 and "Personal file ARCH01 purged under BUR-RET" in output
    # Bad input: a clear message and a non-zero exit, never a traceback.
    for args in (
        ["history", "show", "--child", "C0001", "--as-of", "2026-01-01T00:00"],
        ["audit", "trail", "--child", "C0001", "--after", "bogus"],
        ["audit", "trail", "--child", "C0001", "--worker", "SW001"],
        ["audit", "trail", "--child", "NOPE"],
        ["projections", "rebuild", "nonsense"],
        ["compliance", "show", "--worker", "SW001", "--as-of", "31/10/2026"],
        ["compliance", "show", "--worker", "NOBODY"],
        ["compliance", "show", "--worker", "SW001", "--known-at", "2026-10-01"],
        ["compliance", "summary", "--authority", "lower-case"],
        ["compliance", "register", "complaints"],
        [
            "compliance",
            "tracker",
            "--worker",
            "SW001",
            "--from",
            "2026-05-01",
            "--to",
            "2026-01-01",
        ],
        ["compliance", "sheet", "--worker", "../etc"],
        ["demo", "summary", "--as-of", "yesterday"],
        ["retention", "purge", "--as-of", "2026-10-31"],  # who authorises it?
        ["retention", "purge", "--as-of", "soon", "--authorised-by", "DPO01"],
        ["retention", "schedule", "--months", "0"],
        ["retention", "schedule", "--from", "31/10/2026"],
        ["token", "mint", "--staff-id", "SW1", "--role", "practitioner"],  # not development
    ):
        code, output = _run(fresh_url, *args)
        assert code != 0 and "Traceback" not in output, (args, output)


def test_same_seed_gives_the_same_history() -> None:
    until = date(2026, 1, 31)
    demo = DEMO_AUTHORITIES[0]
    first = [c.fingerprint() for c in demo.generator(3, until).commands()]
    second = [c.fingerprint() for c in demo.generator(3, until).commands()]
    other = [c.fingerprint() for c in demo.generator(4, until).commands()]
    assert first == second
    assert first != other


def test_bad_database_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        main, ["db", "current"], env={"OVERSIGHT_DATABASE_URL": "mysql://x"}
    )
    assert result.exit_code == 1
    assert "OVERSIGHT_DATABASE_URL" in result.output


def test_token_mint_signs_a_token_the_api_accepts_in_development_only(tmp_path: Path) -> None:
    from graphql_api.auth import TokenSettings, TokenVerifier

    jwks = tmp_path / ".oversight" / "dev-jwks.json"
    env = {"OVERSIGHT_ENV": "development", "OVERSIGHT_JWKS_FILE": str(jwks)}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # the development key pair is made under .oversight/ here
        result = CliRunner().invoke(
            main,
            ["token", "mint", "--staff-id", "SW1", "--role", "team_manager", "--authority", "DEMO"],
            env=env,
        )
    assert result.exit_code == 0, result.output
    principal = TokenVerifier(TokenSettings.from_env(env)).verify(result.output.strip())
    assert (principal.staff_id, principal.role.value, principal.authority_code) == (
        "SW1", "team_manager", "DEMO",
    )  # fmt: skip
    refused = CliRunner().invoke(
        main,
        ["token", "mint", "--staff-id", "SW1", "--role", "team_manager"],
        env={"OVERSIGHT_ENV": "production", "OVERSIGHT_JWKS_FILE": str(jwks)},
    )
    assert refused.exit_code != 0 and "development only" in refused.output
