"""Bringing the read models up to date once, with progress: what ``oversight projections
run --once`` does, and what an import does after it writes (issue 25 item 3), so an
authority's findings answer as soon as its data is in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from oversight.grammar import progress

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from application.app import OversightApplication
    from oversight.settings import DatabaseSettings
    from projections.engine import Projection


def catch_up(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    chosen: Sequence[Projection],
    *,
    batch_size: int = 500,
) -> list[str]:
    """Apply every event each projection has not, where this process may lead it; the
    names of those still behind (another runner leads them, and will catch up)."""
    from oversight.projecting import runner_for, source_for
    from projections.engine import status

    for projection in chosen:
        runner = runner_for(database, app, projection, engine)
        runner.batch_size = batch_size
        with progress(f"catching up {projection.name}") as update:
            runner.on_progress = update
            runner.run_forever(once=True)
    return [row.name for row in status(engine, source_for(app), chosen) if row.lag_events]


def catch_up_after_import() -> None:
    """After an import wrote: every projection brought up to date here, and said so."""
    from oversight.projecting import read_engine
    from oversight.settings import Settings
    from oversight.wiring import open_application
    from projections.registry import all_projections

    settings = Settings.from_env()
    app = open_application(settings)
    engine = read_engine(settings.database)
    try:
        behind = catch_up(settings.database, app, engine, all_projections())
    finally:
        app.close()
        engine.dispose()
    if behind:
        click.echo(
            f"projections {', '.join(behind)} are led by another runner, which catches "
            "them up (see: oversight projections status)"
        )
    else:
        click.echo("projections up to date: the findings include this import")
