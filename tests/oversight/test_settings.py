"""One setting chooses the store, and a bad one is named."""

from __future__ import annotations

import pytest

from oversight.settings import DEFAULT_DATABASE_URL, DatabaseSettings, Settings, SettingsError


def test_default_is_an_embedded_sqlite_file() -> None:
    settings = Settings.from_env({})
    assert settings.database.url == DEFAULT_DATABASE_URL
    assert settings.database.backend == "sqlite"
    assert settings.database.sqlite_path == "oversight.sqlite3"
    env = settings.database.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["CREATE_TABLE"] == "false"


def test_postgres_url_maps_to_the_library_environment() -> None:
    db = DatabaseSettings.from_url("postgresql://alice:s%3Acret@db.local:6543/oversight")
    assert (db.host, db.port, db.user, db.password, db.dbname) == (
        "db.local",
        6543,
        "alice",
        "s:cret",
        "oversight",
    )
    env = db.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["APPLICATION_RECORDER_TOPIC"].endswith("PostgresOversightRecorder")
    assert db.sqlalchemy_url() == "postgresql+psycopg://alice:s%3Acret@db.local:6543/oversight"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://x/y",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://host-only",
        "postgresql://h/db?schema=x",
        "nonsense",
    ],
)
def test_bad_urls_name_the_setting(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        DatabaseSettings.from_url(url)
    assert "OVERSIGHT_DATABASE_URL" in str(caught.value)


def test_bad_pool_size() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"OVERSIGHT_DB_POOL_SIZE": "0"})
    assert "OVERSIGHT_DB_POOL_SIZE" in str(caught.value)
