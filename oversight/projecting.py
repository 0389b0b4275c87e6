"""Wiring projections to the configured store: runners, locks, in-process threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from application.app import OversightApplication
from application.storage import source_for as source_for  # re-exported for the CLI
from oversight.eventstore import POSTGRES_EVENTS_TABLE
from oversight.settings import DatabaseSettings, psycopg_conninfo
from projections.engine import (
    FileLock,
    LeaderLock,
    PostgresAdvisoryLock,
    Projection,
    Runner,
    make_engine,
    sqlite_lock_path,
)
from projections.registry import all_projections


def lock_for(database: DatabaseSettings, name: str) -> LeaderLock:
    if database.backend == "sqlite":
        assert database.sqlite_path is not None
        return FileLock(sqlite_lock_path(database.sqlite_path, name))
    return PostgresAdvisoryLock(psycopg_conninfo(database), name)


def read_engine(database: DatabaseSettings) -> Engine:
    return make_engine(database.sqlalchemy_url())


def runner_for(
    database: DatabaseSettings,
    app: OversightApplication,
    projection: Projection,
    engine: Engine,
    *,
    poll_interval: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> Runner:
    return Runner(
        projection=projection,
        engine=engine,
        source=source_for(app),
        lock=lock_for(database, projection.name),
        listen_conninfo=psycopg_conninfo(database) if database.backend == "postgresql" else None,
        channel=POSTGRES_EVENTS_TABLE,
        poll_interval=poll_interval,
        on_progress=on_progress,
    )


@dataclass
class InProcessProjections:
    """Runs every projection in background threads of this process (the embedded default,
    and `oversight projections run`)."""

    database: DatabaseSettings
    app: OversightApplication
    engine: Engine
    projections: Sequence[Projection] = field(default_factory=all_projections)
    poll_interval: float = 0.5
    runners: list[Runner] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for projection in self.projections:
            runner = runner_for(
                self.database, self.app, projection, self.engine, poll_interval=self.poll_interval
            )
            thread = threading.Thread(
                target=runner.run_forever, name=f"projection-{projection.name}", daemon=True
            )
            self.runners.append(runner)
            self.threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        for runner in self.runners:
            runner.stop()
        for thread in self.threads:
            thread.join(timeout)
