"""The ``oversight`` command-line tool."""

from __future__ import annotations

import json
import sys
import time
from datetime import date

import click

from domain.application import OversightApplication
from oversight import demo as demo_module
from oversight import schema
from oversight.settings import Settings, SettingsError
from oversight.wiring import open_application


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Case oversight for children's social care: supervision, oversight and sign-off,
    as immutable events. The store is chosen by OVERSIGHT_DATABASE_URL
    (default: sqlite:///oversight.sqlite3)."""


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION."""
    database = _settings().database
    schema.upgrade(database, revision)
    click.echo(f"schema at {schema.current_revision(database)} ({database.backend})")


@db.command("current")
def db_current() -> None:
    """Show the schema revision, and whether it is behind this code."""
    database = _settings().database
    current = schema.current_revision(database)
    head = schema.head_revision()
    click.echo(f"current: {current or 'none'}; this code needs: {head}")
    if current != head:
        sys.exit(1)


@main.group()
def demo() -> None:
    """The deterministic demo authority."""


def _open() -> OversightApplication:
    try:
        return open_application(_settings())
    except schema.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None


@demo.command("seed")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Random seed.")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the two-year history (default: today, UTC).",
)
def demo_seed(seed_value: int, until: object) -> None:
    """Seed the demo authority (about 30 workers, 300 children, two years). Idempotent."""
    app = _open()
    last_day = until.date() if until is not None else None  # type: ignore[attr-defined]
    started = time.perf_counter()
    with click.progressbar(length=1, label="seeding demo authority") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = demo_module.seed(app, seed=seed_value, until=last_day, progress=progress)
    elapsed = time.perf_counter() - started
    click.echo(
        f"commands executed: {report.executed}, replayed (already done): {report.replayed}, "
        f"refused by a rule: {report.refused} in {elapsed:.1f}s"
    )
    for reason, count in report.refusals.most_common():
        click.echo(f"  refused {count}x {reason}")


@demo.command("summary")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def demo_summary(as_json: bool) -> None:
    """Print the demo authority's summary."""
    app = _open()
    data = demo_module.summary(app)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    counts = data.pop("event_counts")
    width = max(len(k) for k in data)
    for key, value in data.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value}")
    click.echo("events by kind:")
    for name, count in counts.items():
        click.echo(f"  {name:<40} {count}")


def today() -> date:
    return date.today()


if __name__ == "__main__":
    main()
