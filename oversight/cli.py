"""The ``oversight`` command-line tool."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from datetime import date

import click

from domain.application import OversightApplication
from oversight import demo as demo_module
from oversight import schema
from oversight.projecting import read_engine, runner_for, source_for
from oversight.settings import Settings, SettingsError
from oversight.wiring import open_application
from projections.engine import status
from projections.registry import all_projections, by_name


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


@main.group()
def projections() -> None:
    """Read models: run them, see their lag, rebuild them."""


@projections.command("run")
@click.option("--once", is_flag=True, help="Catch up once and exit (if this runner leads).")
@click.option("--name", "names", multiple=True, help="Only these projections (repeatable).")
@click.option("--poll", default=1.0, show_default=True, help="Polling fallback, seconds.")
@click.option("--batch-size", default=500, show_default=True, help="Events per transaction.")
def projections_run(once: bool, names: tuple[str, ...], poll: float, batch_size: int) -> None:
    """Keep projections up to date. Start several: one leads, the others stand by."""
    database = _settings().database
    app = _open()
    engine = read_engine(database)
    chosen = [by_name(n) for n in names] if names else all_projections()
    runners = [runner_for(database, app, p, engine, poll_interval=poll) for p in chosen]
    for runner in runners:
        runner.batch_size = batch_size
    if once:
        for runner in runners:
            runner.run_forever(once=True)
        return
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()
        for runner in runners:
            runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = [threading.Thread(target=r.run_forever, daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    click.echo(f"running {', '.join(p.name for p in chosen)} (pid {os.getpid()})")
    while not stop.wait(0.5):
        pass
    for thread in threads:
        thread.join(10)


@projections.command("status")
def projections_status() -> None:
    """Position and lag, in events and seconds, per projection."""
    database = _settings().database
    app = _open()
    rows = status(read_engine(database), source_for(app), all_projections())
    click.echo(
        f"{'projection':<18} {'gen':>4} {'position':>10} {'head':>10} "
        f"{'lag events':>11} {'lag s':>8}"
    )
    for row in rows:
        click.echo(
            f"{row.name:<18} {row.generation:>4} {row.position:>10} {row.head:>10} "
            f"{row.lag_events:>11} {row.lag_seconds:>8.1f}"
        )


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--all", "rebuild_all", is_flag=True, help="Rebuild every projection.")
def projections_rebuild(name: str | None, rebuild_all: bool) -> None:
    """Rebuild NAME (or --all) into new tables; readers switch over once caught up."""
    if bool(name) == rebuild_all:
        raise click.UsageError("give a projection NAME or --all")
    database = _settings().database
    app = _open()
    engine = read_engine(database)
    try:
        chosen = all_projections() if rebuild_all else [by_name(name or "")]
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="NAME") from None
    for projection in chosen:
        head = app.recorder.max_notification_id() or 0
        with click.progressbar(length=max(head, 1), label=f"rebuilding {projection.name}") as bar:

            def progress(reached: int, _head: int) -> None:
                bar.update(reached - bar.pos)

            runner = runner_for(database, app, projection, engine, on_progress=progress)
            applied = runner.rebuild()
        click.echo(f"{projection.name}: {applied} events applied; switched to the new tables")


def today() -> date:
    return date.today()


if __name__ == "__main__":
    main()
