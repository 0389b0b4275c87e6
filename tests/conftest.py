"""Fixtures shared by every suite: each backend-dependent test runs on SQLite and on a
real PostgreSQL server (``OVERSIGHT_TEST_POSTGRES_URL``, set by ``scripts/with-postgres``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from tests.helpers import opened

#: ``OVERSIGHT_TEST_BACKENDS=sqlite`` (``make test-sqlite``) runs the embedded default only:
#: the PostgreSQL cases are not generated at all (tests that need PostgreSQL itself skip).
BACKENDS = (
    ("sqlite",) if os.environ.get("OVERSIGHT_TEST_BACKENDS") == "sqlite" else ("sqlite", "postgres")
)


def _postgres_admin_url() -> str:
    url = os.environ.get("OVERSIGHT_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("OVERSIGHT_TEST_BACKENDS") == "sqlite":
        pytest.skip("PostgreSQL deselected by OVERSIGHT_TEST_BACKENDS=sqlite")
    pytest.fail(
        "PostgreSQL tests need a server: run `make test` (it starts a throwaway cluster), "
        "or set OVERSIGHT_TEST_POSTGRES_URL; OVERSIGHT_TEST_BACKENDS=sqlite runs SQLite only"
    )


def _with_dbname(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(DatabaseSettings.from_url(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str:
    admin = _postgres_admin_url()
    name = f"oversight_template_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(DatabaseSettings.from_url(_with_dbname(admin, name)))
    return name


def new_postgres_database(template: str | None = None) -> str:
    """A fresh database (from the migrated template, when given); returns its URL."""
    admin = _postgres_admin_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return _with_dbname(admin, name)


def drop_postgres_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(_postgres_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def purge_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's purges write their ledger (ADR 0018) under its own temporary directory:
    on PostgreSQL there is no default, and a SQLite default beside a shared file would mix
    tests. Tests of the setting itself pass their own environment."""
    path = tmp_path / "purge-ledger.jsonl"
    monkeypatch.setenv("OVERSIGHT_PURGE_LEDGER", str(path))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fresh_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, name: str
) -> Iterator[DatabaseSettings]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / f"{name}.sqlite3"
        shutil.copy(template, path)
        yield DatabaseSettings.from_url(f"sqlite:///{path}")
        return
    template_name: str = request.getfixturevalue("postgres_template")
    url = new_postgres_database(template_name)
    try:
        yield DatabaseSettings.from_url(url)
    finally:
        drop_postgres_database(url)


@pytest.fixture
def database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[DatabaseSettings]:
    """A migrated, empty database on the parametrized backend."""
    yield from _fresh_database(backend, tmp_path, request, "oversight")


@pytest.fixture
def other_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[DatabaseSettings]:
    """A second migrated, empty database on the same backend (to compare two runs)."""
    yield from _fresh_database(backend, tmp_path, request, "other")


@pytest.fixture
def app(database: DatabaseSettings) -> Iterator[OversightApplication]:
    with opened(database) as application:
        yield application


@pytest.fixture
def other_app(other_database: DatabaseSettings) -> Iterator[OversightApplication]:
    """An application on ``other_database``: the same commands run a second way."""
    with opened(other_database) as application:
        yield application


@pytest.fixture
def engine(database: DatabaseSettings) -> Iterator[Engine]:
    """A read engine on the same database (the read models live beside the store)."""
    from oversight.projecting import read_engine

    read = read_engine(database)
    try:
        yield read
    finally:
        read.dispose()
