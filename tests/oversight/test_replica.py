"""Read scale-out on PostgreSQL itself (issue 7): a primary and a hot standby by
streaming replication, started here on loopback ports. The API writes to the primary
and reads from the standby; the projection runner writes to the primary; a read that
asks for consistency with a write waits until the standby has replayed past it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import InternalError, OperationalError

from domain.vocabulary import Role
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.serving import build
from oversight.settings import Settings, SettingsError
from projections.registry import all_projections
from tests.graphql_api.conftest import Api
from tests.pgcluster import as_postgres, free_port, run

TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


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
    p_port, s_port = free_port(), free_port()
    options = f"-c listen_addresses=127.0.0.1 -k {work} -c fsync=off"
    try:
        run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale")  # fmt: skip
        run("pg_ctl", "-D", str(primary), "-l", str(work / "primary.log"), "-w",
             "-o", f"{options} -p {p_port}", "start")  # fmt: skip
        run("pg_basebackup", "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres",
             "-D", str(standby), "-R", "-X", "stream")  # fmt: skip
        run("pg_ctl", "-D", str(standby), "-l", str(work / "standby.log"), "-w",
             "-o", f"{options} -p {s_port}", "start")  # fmt: skip
        yield (
            f"postgresql://postgres@127.0.0.1:{p_port}/postgres",
            f"postgresql://postgres@127.0.0.1:{s_port}/postgres",
        )
    finally:
        for data in (standby, primary):
            subprocess.run(
                as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop"),
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
                     role=Role.ADMINISTRATOR, authority="REP-LA")  # fmt: skip
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
        qa = mint(served.tokens, private, staff_id="QA1", role=Role.QA_AUDITOR,
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
        served.close()
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


def _post(port: int, token: str, document: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": document, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
        timeout=60,
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def _lock_holders(primary_url: str) -> list[int]:
    """The server processes holding the projections' leader locks, one per lock."""
    with psycopg.connect(primary_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).fetchall()
    return [int(row[0]) for row in rows]


def _until(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_stateless_api_processes_and_one_active_runner_per_projection(
    primary_and_standby: tuple[str, str], tmp_path: Path
) -> None:
    """The production topology as processes: two `oversight serve` (each writing to the
    primary and reading from the standby) and two `oversight projections run` (one leads
    each projection, the other stands by). A write through one API process is read
    through the other; when the leading runner is killed outright, the standby runner
    takes over and the next write is projected and read all the same."""
    from graphql_api.auth import TokenSettings, development_keys, mint

    primary_url, standby_url = primary_and_standby
    upgrade(Settings.from_env({"OVERSIGHT_DATABASE_URL": primary_url}).database)
    private, jwks = development_keys(tmp_path / "keys")
    issuer = "https://topology.invalid/"
    tokens = TokenSettings(issuer, "oversight-api", jwks, "development")
    admin = mint(tokens, private, staff_id="ADMIN", role=Role.ADMINISTRATOR,
                 authority="TOPO-LA")  # fmt: skip
    qa = mint(tokens, private, staff_id="QA1", role=Role.QA_AUDITOR, authority="TOPO-LA")
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=primary_url,
        OVERSIGHT_READ_DATABASE_URL=standby_url,
        OVERSIGHT_ENV="production",
        OVERSIGHT_JWKS_FILE=str(jwks),
        OVERSIGHT_JWT_ISSUER=issuer,
    )
    oversight = str(Path(sys.executable).with_name("oversight"))
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [oversight, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(process)
        return process

    def healthy(port: int) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    projections = len(all_projections())
    assert _lock_holders(primary_url) == []
    try:
        for port in ports:
            start("serve", "--no-projections", "--port", str(port))
        leader = start("projections", "run", "--poll", "0.2")
        _until(lambda: len(_lock_holders(primary_url)) == projections, "a leader")
        start("projections", "run", "--poll", "0.2")  # stands by
        for port in ports:
            _until(lambda port=port: healthy(port), f"the API on {port}")
        time.sleep(1)
        leading = _lock_holders(primary_url)
        assert len(leading) == projections  # one leader per projection, not two

        def register_and_read(write: int, read: int, child: str) -> None:
            position = _post(
                write,
                admin,
                """mutation($key: String!, $child: String!) { registerChild(
                     idempotencyKey: $key, occurredAt: "2026-01-05T10:00:00+00:00",
                     input: {childId: $child, dateOfBirth: "2015-05-01", caseType: "cin",
                             riskLevel: "medium"})
                     { __typename ... on CommandSuccess { position } } }""",
                {"key": f"topo-{child}", "child": child},
            )["registerChild"]["position"]
            found = _post(
                read,
                qa,
                """query($c: String!, $p: ID!) { child(childId: $c, purpose: "audit",
                     consistentWith: $p) { childId } }""",
                {"c": child, "p": position},
            )["child"]
            assert found == {"childId": child}

        written = _post(
            ports[0],
            admin,
            """mutation { registerAuthority(idempotencyKey: "topo-reg",
                 input: {authorityCode: "TOPO-LA", name: "Topology", policyPack: "DUR"})
                 { __typename } }""",
        )
        assert written["registerAuthority"]["__typename"] == "CommandSuccess"
        register_and_read(ports[0], ports[1], "C1")

        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=30)
        # PostgreSQL ends the dead leader's sessions, and with them its locks; the
        # standby runner takes every projection over.
        _until(
            lambda: (
                len(taken := _lock_holders(primary_url)) == projections
                and not set(taken) & set(leading)
            ),
            "the standby runner to take every projection over",
        )
        register_and_read(ports[1], ports[0], "C2")
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
