"""``oversight db relationships ...``: the relationship table (ADR 0020, addendum)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from oversight.grammar import Failure
from oversight.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from application.app import OversightApplication


def _opened() -> tuple[OversightApplication, Engine]:
    from oversight.projecting import read_engine
    from oversight.schema import SchemaOutOfDate
    from oversight.wiring import open_application

    try:
        settings = Settings.from_env()
        app = open_application(settings)
    except (SettingsError, SchemaOutOfDate) as error:
        raise Failure(str(error)) from None
    engine = read_engine(settings.database)
    context = click.get_current_context()
    context.call_on_close(app.close)
    context.call_on_close(engine.dispose)
    return app, engine


@click.group("relationships")
def relationships_group() -> None:
    """The relationship table write authorisation reads (written with the events)."""


@relationships_group.command("verify")
def verify() -> None:
    """Rebuild the table's rows from the log and check they equal the table's (exit 1
    naming each subject that differs)."""
    from application import relationships

    app, engine = _opened()
    problems = relationships.differences(app, engine)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("relationships: the table equals the log")


@relationships_group.command("rebuild")
def rebuild() -> None:
    """Replace the table's rows with those rebuilt from the log (writes wait meanwhile)."""
    from application import relationships

    app, engine = _opened()
    count = relationships.rebuild(app, engine)
    click.echo(f"relationships: {count} rows rebuilt from the log")
