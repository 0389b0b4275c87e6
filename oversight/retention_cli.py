"""``oversight retention ...``: the purge schedule, and purge runs (ADR 0012)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import click
from sqlalchemy import Engine, distinct, select

from domain.application import OversightApplication
from domain.errors import DomainError
from domain.policy.calendar import Period
from domain.provenance import Actor
from domain.vocabulary import ActorRole
from oversight.projecting import read_engine, runner_for
from oversight.purging import compact
from oversight.schema import SchemaOutOfDate
from oversight.settings import DatabaseSettings, Settings, SettingsError
from oversight.wiring import open_application
from projections.compliance import view
from projections.engine import ProjectionLagging, wait_for
from projections.purge_schedule import PurgeRun, purge_schedule, run_purge, schedule_csv
from projections.registry import all_projections


def _database() -> DatabaseSettings:
    try:
        return Settings.from_env().database
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _engine(database: DatabaseSettings) -> Engine:
    engine = read_engine(database)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def _app(database: DatabaseSettings) -> OversightApplication:
    try:
        app = open_application(database)
    except SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None
    click.get_current_context().call_on_close(app.close)
    return app


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD", param_hint=option) from None


def _authorities(engine: Engine, given: str | None) -> list[str]:
    if given is not None:
        return [given]
    table = view("compliance_subject")
    with engine.connect() as conn:
        return sorted(
            str(code) for code in conn.execute(select(distinct(table.c.authority_code))).scalars()
        )


@click.group()
def retention() -> None:
    """Retention: the purge schedule and purge runs."""


@retention.command("schedule")
@click.option("--authority", default=None, help="Authority code (default: every one).")
@click.option("--from", "due_from", default=None, help="Due on or after, YYYY-MM-DD.")
@click.option("--to", "due_to", default=None, help="Due on or before, YYYY-MM-DD.")
@click.option("--months", type=int, default=None, help="Due within this many months of --as-of.")
@click.option("--class", "record_class", default=None, help="Only this record class.")
@click.option("--as-of", "as_of", default=None, help="Status on this day (default today).")
@click.option("--include-purged", is_flag=True, help="List destroyed records' tombstones too.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
def schedule_command(
    authority: str | None,
    due_from: str | None,
    due_to: str | None,
    months: int | None,
    record_class: str | None,
    as_of: str | None,
    include_purged: bool,
    fmt: str,
) -> None:
    """What will be destroyed, when and why: every record with its rule, trigger, due
    date and holds. ``--months 12 --format csv`` is the next year's report."""
    database = _database()
    engine = _engine(database)
    day = _day(as_of, "--as-of") or date.today()
    start = _day(due_from, "--from")
    end = _day(due_to, "--to")
    if months is not None:
        if months < 1 or months > 1200:
            raise click.BadParameter("between 1 and 1200", param_hint="--months")
        end = Period.parse(f"P{months}M").after(day)
    rows = [
        row
        for code in _authorities(engine, authority)
        for row in purge_schedule(
            engine,
            authority_code=code,
            due_from=start,
            due_to=end,
            record_class=record_class,
            include_purged=include_purged,
        )
    ]
    if fmt == "csv":
        click.echo(schedule_csv(rows, day), nl=False)
        return
    if fmt == "json":
        click.echo(
            json.dumps(
                [{**asdict(r), "status": r.status_on(day)} for r in rows], indent=2, default=str
            )
        )
        return
    click.echo(
        f"{'authority':<10} {'subject':<16} {'class':<21} {'record':<18} {'rule':<10} "
        f"{'due':<10} status"
    )
    for r in rows:
        click.echo(
            f"{r.authority_code:<10} {r.subject_kind + ' ' + r.local_id:<16} "
            f"{r.record_class:<21} {r.record_id:<18} {r.rule_id or '-':<10} "
            f"{r.due_on.isoformat() if r.due_on else '-':<10} {r.status_on(day)}"
            + (f" ({r.held_by})" if r.held_by else "")
        )
    click.echo(f"{len(rows)} records")


@retention.command("purge")
@click.option("--as-of", "as_of", required=True, help="Destroy what is due by this day.")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed; destroy nothing.")
@click.option("--authority", default=None, help="Authority code (default: every one).")
@click.option(
    "--authorised-by",
    "authorised_by",
    required=True,
    help="Staff id of the data protection officer authorising the run.",
)
@click.option("--limit", type=int, default=None, help="At most this many records.")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for projections.")
def purge_command(
    as_of: str,
    dry_run: bool,
    authority: str | None,
    authorised_by: str,
    limit: int | None,
    wait: float,
) -> None:
    """Destroy every record due by --as-of that no legal hold covers. Each is checked
    again from the event store first; --dry-run stops there and lists exactly those."""
    database = _database()
    engine = _engine(database)
    app = _app(database)
    day = _day(as_of, "--as-of")
    assert day is not None
    runs: list[PurgeRun] = []
    try:
        for code in _authorities(engine, authority):
            dpo = Actor(authorised_by, ActorRole.DATA_PROTECTION_OFFICER, code)
            runs.append(
                run_purge(
                    app,
                    engine,
                    authority_code=code,
                    as_of=day,
                    dpo=dpo,
                    dry_run=dry_run,
                    limit=limit,
                )
            )
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    verb = "would destroy" if dry_run else "destroyed"
    for run in runs:
        for outcome in run.outcomes:
            r = outcome.row
            what = (
                f"{r.authority_code} {r.subject_kind} {r.local_id} {r.record_class} {r.record_id}"
            )
            if outcome.destroyed:
                click.echo(f"{verb}: {what} under {r.rule_id} (due {r.due_on})")
            else:
                click.echo(f"refused: {what}: {outcome.refused}")
    total = sum(len(run.destroyed) for run in runs)
    click.echo(f"{verb} {total} records as of {day.isoformat()}")
    if dry_run or total == 0:
        return
    last = max((run.last_position or 0 for run in runs), default=0)
    for projection in all_projections():
        runner_for(database, app, projection, engine).run_forever(once=True)
        try:
            wait_for(engine, projection.name, last, timeout=wait)
        except ProjectionLagging as error:
            raise click.ClickException(
                f"{error}: the purged records' derived rows go when it catches up; "
                "run the compaction again then (oversight retention compact)"
            ) from None
    compact(database, engine)
    click.echo("projections caught up; storage compacted")


@retention.command("compact")
def compact_command() -> None:
    """Truncate SQLite's write-ahead log, or vacuum PostgreSQL's purged row versions."""
    database = _database()
    compact(database, _engine(database))
    click.echo("compacted")
