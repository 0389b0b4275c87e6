"""Storage that fails under the service (issue 8): a full disk, and a database turned
read-only. Real failures, not mocks: the store lives on a small tmpfs this test mounts
(and fills, or remounts read-only), or PostgreSQL is told to refuse writes. Each gives a
typed error (HTTP 503, ``Retry-After``, ``STORAGE_FULL`` or ``READ_ONLY``), writes
nothing of the refused command, and once storage is back the same command, retried with
its idempotency key, completes exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest

from application.app import OversightApplication
from domain import commands as c
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys, mint
from graphql_api.service import Service
from oversight.projecting import read_engine
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from oversight.wiring import open_application
from tests.helpers import (
    AUTHORITY,
    START,
    actor,
    common,
    setup_team,
)
from tests.pgcluster import Cluster, new_cluster, remove

SET_ACTION = """mutation($key: String!, $id: String!) {
  setAction(idempotencyKey: $key, occurredAt: "2026-01-10T10:00:00+00:00",
            input: {childId: "C1", action: {actionId: $id, description: "Visit the child",
                    owner: "SW1", dueOn: "2026-02-10"}}) {
    __typename ... on CommandSuccess { replayed } } }"""


@dataclass
class Mount:
    path: Path

    def run(self, *options: str) -> None:
        subprocess.run(["mount", *options, str(self.path)], check=True, capture_output=True)

    def fill(self) -> None:
        """Leave no free space: one file takes what is left."""
        usage = shutil.disk_usage(self.path)
        with open(self.path / "filler", "wb") as filler, contextlib.suppress(OSError):
            filler.write(b"\0" * usage.free)  # until it is full, as wanted

    def free(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)


@pytest.fixture
def small_disk() -> Iterator[Mount]:
    """A 24 MiB tmpfs. Mounting needs root (as on CI and these machines)."""
    path = Path(tempfile.mkdtemp(prefix="oversight-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0777", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"cannot mount a small disk here: {done.stderr}"
    try:
        yield Mount(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


class Client:
    """The GraphQL app in process, as an administrator of the test authority."""

    def __init__(self, app: OversightApplication, database: DatabaseSettings, keys: Path):
        private, jwks = development_keys(keys)
        tokens = TokenSettings("https://disk.invalid/", "oversight-api", jwks, "development")
        self.engine = read_engine(database)
        self.asgi = create_app(Service(app, self.engine, PackLibrary.load()), TokenVerifier(tokens))
        self.token = mint(tokens, private, staff_id="SW1", role=Role.PRACTITIONER,
                          authority=AUTHORITY)  # fmt: skip

    def post(self, query: str, variables: dict[str, Any]) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                return await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={
                        "authorization": f"Bearer {self.token}",
                        "accept": "application/graphql-response+json",
                    },
                )

        return asyncio.run(send())

    def set_action(self, key: str, action_id: str) -> httpx.Response:
        return self.post(SET_ACTION, {"key": key, "id": action_id})


def _prepare(app: OversightApplication) -> None:
    setup_team(app)
    app.execute(
        c.AllocateWorker(
            **common(START, actor("TM1", Role.TEAM_MANAGER)),
            child_id="C1",
            worker_id="SW1",
            reason="NEW",
            team="Team A",
        )
    )


def _refused_then_retried(
    client: Client,
    app: OversightApplication,
    code: str,
    restore: Any,
    after: tuple[Client, OversightApplication] | None = None,
) -> None:
    """Write until storage refuses; check the refusal; restore; retry the same key
    (through ``after``, a service restarted on writable storage, when given)."""
    head = app.recorder.max_notification_id()
    refused: httpx.Response | None = None
    for n in range(5_000):
        response = client.set_action(f"fill-{n}", f"F{n}")
        if response.status_code != 200:
            refused = response
            key, action_id = f"fill-{n}", f"F{n}"
            break
        head = app.recorder.max_notification_id()
    assert refused is not None, "storage never refused a write"
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["retryable"] is True
    restore()
    if after is not None:
        client, app = after
    assert app.recorder.max_notification_id() == head  # nothing of it was written
    assert action_id not in app.get_child(AUTHORITY, "C1").actions
    retried = client.set_action(key, action_id)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["setAction"] == {
        "__typename": "CommandSuccess",
        "replayed": False,
    }
    again = client.set_action(key, action_id)
    assert again.json()["data"]["setAction"]["replayed"] is True
    assert action_id in app.get_child(AUTHORITY, "C1").actions


# -- SQLite: the file on a disk that fills up, or is remounted read-only -------------------


def _sqlite_on(mount: Mount) -> DatabaseSettings:
    database = DatabaseSettings.from_url(f"sqlite:///{mount.path}/oversight.sqlite3")
    upgrade(database)
    return database


def test_sqlite_on_a_full_disk(small_disk: Mount, tmp_path: Path) -> None:
    database = _sqlite_on(small_disk)
    app = open_application(database)
    try:
        _prepare(app)
        client = Client(app, database, tmp_path / "keys")
        small_disk.fill()
        _refused_then_retried(client, app, "STORAGE_FULL", small_disk.free)
    finally:
        app.close()


def test_sqlite_on_a_read_only_disk(small_disk: Mount, tmp_path: Path) -> None:
    """The service started on storage mounted read-only (a bind mount of the same
    files, flagged ``ro``): it reads, refuses every write with READ_ONLY, and writes
    nothing; started again on writable storage, the refused command completes once."""
    database = _sqlite_on(small_disk)
    writable = open_application(database)
    view = tmp_path / "read-only"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(small_disk.path), str(view)], check=True)
    try:
        _prepare(writable)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        read_only = DatabaseSettings.from_url(f"sqlite:///{view}/oversight.sqlite3")
        app = open_application(read_only)
        try:
            assert app.get_child(AUTHORITY, "C1").allocated_worker_id == "SW1"  # reads
            _refused_then_retried(
                Client(app, read_only, tmp_path / "keys"),
                app,
                "READ_ONLY",
                lambda: None,
                after=(Client(writable, database, tmp_path / "keys"), writable),
            )
        finally:
            app.close()
    finally:
        writable.close()
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


# -- PostgreSQL: a tablespace on a disk that fills up; a database set read-only ------------


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = new_cluster()
    try:
        yield made
    finally:
        remove(made)


def test_postgres_with_a_full_tablespace(
    cluster: Cluster, small_disk: Mount, tmp_path: Path
) -> None:
    space = small_disk.path / "pg"
    space.mkdir()
    if os.geteuid() == 0:
        shutil.chown(space, "postgres")
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLESPACE small LOCATION '{space}'")
        conn.execute("CREATE DATABASE full_disk TABLESPACE small")
    database = DatabaseSettings.from_url(cluster.url.rsplit("/", 1)[0] + "/full_disk")
    upgrade(database)
    app = open_application(database)
    try:
        _prepare(app)
        client = Client(app, database, tmp_path / "keys")
        small_disk.fill()
        _refused_then_retried(client, app, "STORAGE_FULL", small_disk.free)
    finally:
        app.close()
        client.engine.dispose()


def test_postgres_set_read_only(cluster: Cluster, tmp_path: Path) -> None:
    database = DatabaseSettings.from_url(cluster.url)
    upgrade(database)
    app = open_application(database)
    _prepare(app)
    app.close()

    def read_only(on: bool) -> None:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(
                f"ALTER SYSTEM SET default_transaction_read_only = {'on' if on else 'off'}"
            )
            conn.execute("SELECT pg_reload_conf()")

    read_only(True)
    app = open_application(database, check=False)
    client = Client(app, database, tmp_path / "keys")
    try:
        _refused_then_retried(client, app, "READ_ONLY", lambda: read_only(False))
    finally:
        app.close()
        client.engine.dispose()
