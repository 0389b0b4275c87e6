"""A PostgreSQL URL naming a primary and its standbys (ADR 0034): the form
``pg_autoctl show uri`` gives reaches every connection the application opens (the event
store's pool, SQLAlchemy's engines, the LISTEN and lock connections), and a bad one is
refused naming the setting and what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import create_engine

from oversight.failover import PostgresFactory
from oversight.settings import DatabaseSettings, SettingsError, psycopg_conninfo

PG_AUTOCTL_URI = (
    "postgres://127.0.0.1:6001,127.0.0.1:6002/oversight"
    "?target_session_attrs=read-write&sslmode=prefer"
)


def test_the_uri_pg_autoctl_gives_reaches_every_connection() -> None:
    db = DatabaseSettings.from_url(PG_AUTOCTL_URI)
    assert db.hosts == (("127.0.0.1", 6001), ("127.0.0.1", 6002))
    assert (db.host, db.port, db.user, db.dbname) == ("127.0.0.1", 6001, "postgres", "oversight")
    assert dict(db.options) == {"target_session_attrs": "read-write", "sslmode": "prefer"}

    # LISTEN, advisory locks, the integrity log: one libpq string.
    assert conninfo_to_dict(psycopg_conninfo(db)) == {
        "host": "127.0.0.1,127.0.0.1",
        "port": "6001,6002",
        "user": "postgres",
        "dbname": "oversight",
        "target_session_attrs": "read-write",
        "sslmode": "prefer",
    }
    # The read models' engines: SQLAlchemy's multi-host form, the same arguments.
    engine = create_engine(db.sqlalchemy_url())
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1,127.0.0.1", "6001,6002")
    assert (kwargs["target_session_attrs"], kwargs["sslmode"]) == ("read-write", "prefer")
    engine.dispose()
    # The event store: the library's factory with the parameters added to its pool
    # (constructing it opens no connection).
    env = db.eventsourcing_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("127.0.0.1,127.0.0.1", "6001,6002")
    assert env["POSTGRES_PRE_PING"] == "y"  # a dead connection is replaced, not lent
    factory = PostgresFactory(env)
    pool_kwargs = factory.datastore.pool.kwargs
    assert isinstance(pool_kwargs, dict)
    assert pool_kwargs["target_session_attrs"] == "read-write"
    assert pool_kwargs["sslmode"] == "prefer"
    assert (pool_kwargs["host"], pool_kwargs["port"]) == ("127.0.0.1,127.0.0.1", "6001,6002")


def test_a_single_host_url_is_as_before() -> None:
    db = DatabaseSettings.from_url("postgresql://alice:s%3Acret@db.local:6543/oversight")
    assert db.hosts == (("db.local", 6543),) and db.options == ()
    assert db.eventsourcing_env()["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert "target_session_attrs" not in psycopg_conninfo(db)


def test_ipv6_hosts_and_default_ports() -> None:
    db = DatabaseSettings.from_url("postgresql://u:p@[::1]:6001,db2/x?target_session_attrs=primary")
    assert db.hosts == (("::1", 6001), ("db2", 5432))
    assert (db.user, db.password) == ("u", "p")
    assert conninfo_to_dict(psycopg_conninfo(db))["port"] == "6001,5432"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://h1:5432,/db", "needs a host"),
        ("postgresql://h1:5432,:5433/db", "needs a host"),
        ("postgresql://h1:5432,h2:54x/db", "'h2:54x' is not host:port"),
        ("postgresql://h1:99999/db", "port 99999"),
        ("postgresql://h1,h2/db?schema=x", "'schema' is not supported"),
        ("postgresql://h1,h2/db?target_session_attrs=writable", "target_session_attrs='writable'"),
        ("postgresql://h1,h2/db?sslmode=", "sslmode=''"),
        (
            "postgresql://h1,h2/db?target_session_attrs=any&target_session_attrs=read-write",
            "given once",
        ),
        ("postgresql://h1,h2?target_session_attrs=read-write", "database name"),
    ],
)
def test_bad_multi_host_urls_are_refused_naming_what_is_wrong(url: str, named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        DatabaseSettings.from_url(url)
    assert "OVERSIGHT_DATABASE_URL" in str(refused.value)
    assert named in str(refused.value)


_HOST = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True)


@given(
    hosts=st.lists(st.tuples(_HOST, st.integers(1, 65535)), min_size=1, max_size=4),
    attrs=st.sampled_from(["read-write", "primary", "any", "prefer-standby"]),
)
def test_every_host_is_kept_in_order(hosts: list[tuple[str, int]], attrs: str) -> None:
    listed = ",".join(f"{h}:{p}" for h, p in hosts)
    db = DatabaseSettings.from_url(f"postgresql://u@{listed}/db?target_session_attrs={attrs}")
    assert db.hosts == tuple(hosts)
    info = conninfo_to_dict(psycopg_conninfo(db))
    assert info["host"] == ",".join(h for h, _ in hosts)
    assert info["port"] == ",".join(str(p) for _, p in hosts)
    assert info["target_session_attrs"] == attrs
    # SQLAlchemy's URL says the same.
    engine = create_engine(db.sqlalchemy_url())
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    assert (kwargs["host"], kwargs["port"]) == (info["host"], info["port"])
    engine.dispose()
