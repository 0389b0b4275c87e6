"""Read scale-out on PostgreSQL itself (issue 7): a primary and a hot standby by
streaming replication, started here on loopback ports. The API writes to the primary
and reads from the standby; the projection runner writes to the primary; a read that
asks for consistency with a write waits until the standby has replayed past it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import InternalError, OperationalError

from domain.authorization import AccessRole
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.serving import build
from oversight.settings import Settings, SettingsError
from projections.registry import all_projections
from tests.graphql_api.conftest import Api

TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(*args: str) -> None:
    done = subprocess.run(_as_postgres(*args), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[str, str]]:
    if os.environ.get("OVERSIGHT_TEST_BACKENDS", "sqlite,postgres") == "sqlite":
        pytest.skip("PostgreSQL deselected by OVERSIGHT_TEST_BACKENDS=sqlite")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"PostgreSQL 15 tools not on PATH: {missing}"
    work = Path(tempfile.mkdtemp(prefix="oversight-replica-"))
    work.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    primary, standby = work / "primary", work / "standby"
    p_port, s_port = _port(), _port()
    options = f"-c listen_addresses=127.0.0.1 -k {work} -c fsync=off"
    try:
        _run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale")  # fmt: skip
        _run("pg_ctl", "-D", str(primary), "-l", str(work / "primary.log"), "-w",
             "-o", f"{options} -p {p_port}", "start")  # fmt: skip
        _run("pg_basebackup", "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres",
             "-D", str(standby), "-R", "-X", "stream")  # fmt: skip
        _run("pg_ctl", "-D", str(standby), "-l", str(work / "standby.log"), "-w",
             "-o", f"{options} -p {s_port}", "start")  # fmt: skip
        yield (
            f"postgresql://postgres@127.0.0.1:{p_port}/postgres",
            f"postgresql://postgres@127.0.0.1:{s_port}/postgres",
        )
    finally:
        for data in (standby, primary):
            subprocess.run(
                _as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop"),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(work, ignore_errors=True)


def test_the_api_reads_from_the_standby_and_still_reads_its_own_writes(
    primary_and_standby: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary_url, standby_url = primary_and_standby
    monkeypatch.setenv("OVERSIGHT_ENV", "development")
    monkeypatch.setenv("OVERSIGHT_JWKS_FILE", str(tmp_path / "keys" / "dev-jwks.json"))
    settings = Settings.from_env(
        {"OVERSIGHT_DATABASE_URL": primary_url, "OVERSIGHT_READ_DATABASE_URL": standby_url}
    )
    upgrade(settings.database)
    served = build(settings, projections_in_process=False)
    app = served.application
    primary = read_engine(settings.database)  # the runner's: it writes on the primary
    try:
        # The standby is read-only: the API's reads cannot write there by mistake.
        with pytest.raises((InternalError, OperationalError)), served.engine.begin() as conn:
            conn.execute(text("CREATE TABLE nope (x int)"))
        from graphql_api.auth import mint

        private = tmp_path / "keys" / "dev-signing-key.pem"
        api = Api(served.app, app, served.engine, settings.database, served.tokens, private,
                  None)  # type: ignore[arg-type]  # fmt: skip
        admin = mint(served.tokens, private, staff_id="ADMIN",
                     role=AccessRole.ADMINISTRATOR, authority="REP-LA")  # fmt: skip
        written = api.query(
            """mutation { registerAuthority(idempotencyKey: "reg-1",
                 input: {authorityCode: "REP-LA", name: "Replica Council", policyPack: "DUR"})
                 { __typename ... on CommandSuccess { position } } }""",
            admin,
        )["registerAuthority"]
        assert written["__typename"] == "CommandSuccess"
        child = api.query(
            """mutation { registerChild(idempotencyKey: "reg-c1",
                 occurredAt: "2026-01-05T10:00:00+00:00",
                 input: {childId: "C1", dateOfBirth: "2015-05-01", caseType: "cin",
                         riskLevel: "medium"})
                 { __typename ... on CommandSuccess { position } } }""",
            admin,
        )["registerChild"]
        position = child["position"]
        # The projection runner writes on the primary, a moment later; the read asks to
        # be consistent with the write and waits for the standby to replay past it.
        runners = [runner_for(settings.database, app, p, primary) for p in all_projections()]

        def project() -> None:
            time.sleep(0.5)
            for runner in runners:
                runner.catch_up()

        worker = threading.Thread(target=project)
        started = time.monotonic()
        worker.start()
        qa = mint(served.tokens, private, staff_id="QA1", role=AccessRole.QA_AUDITOR,
                  authority="REP-LA")  # fmt: skip
        found = api.query(
            """query($p: ID!) { child(childId: "C1", purpose: "audit", consistentWith: $p) {
                 childId team } }""",
            qa,
            {"p": position},
        )["child"]
        worker.join()
        assert found == {"childId": "C1", "team": None}
        assert time.monotonic() - started >= 0.5  # it waited for the standby
        with served.engine.connect() as conn:  # the standby has the projected row
            assert (
                conn.execute(
                    text("SELECT local_id FROM compliance_subject WHERE local_id = 'C1'")
                ).scalar_one()
                == "C1"
            )
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
    finally:
        app.close()
        served.engine.dispose()
        primary.dispose()


def test_a_read_url_is_refused_for_the_embedded_default(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {
                "OVERSIGHT_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
                "OVERSIGHT_READ_DATABASE_URL": "postgresql://u@127.0.0.1:5432/db",
            }
        )
    assert "OVERSIGHT_READ_DATABASE_URL" in str(refused.value)
