"""Fixtures for the read side: an engine on the migrated test database, and helpers."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Engine, text

from application.app import OversightApplication
from oversight.projecting import runner_for
from oversight.settings import DatabaseSettings
from projections.engine import Projection, Runner, utc
from projections.registry import all_projections


def make_runner(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    projection: Projection,
    **overrides: object,
) -> Runner:
    runner = runner_for(database, app, projection, engine, poll_interval=0.05)
    for key, value in overrides.items():
        setattr(runner, key, value)
    return runner


def catch_up_all(database: DatabaseSettings, app: OversightApplication, engine: Engine) -> None:
    for projection in all_projections():
        make_runner(database, app, engine, projection).catch_up()


def checksum(engine: Engine, projection: Projection) -> str:
    """A digest of every row of the projection's views, in a stable order."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for view in projection.table_names:
            rows = conn.execute(text(f'SELECT * FROM "{view}"')).all()
            normalised = sorted(
                tuple(utc(v).isoformat() if isinstance(v, datetime) else v for v in row)
                for row in rows
            )
            digest.update(view.encode())
            digest.update(repr(normalised).encode())
    return digest.hexdigest()
