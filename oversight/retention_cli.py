"""``oversight retention ...``: the purge schedule, purge runs, certificates, and reapplying
the ledger after a restore (ADR 0012, 0018). Every purge is ``application.purge``'s."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

import click

from domain.errors import DomainError
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.grammar import Failure, format_option, progress, refused, require_authority
from oversight.settings import DatabaseSettings, Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from application.app import OversightApplication
    from application.purge import PurgeRun, Purges


def _database() -> DatabaseSettings:
    try:
        return Settings.from_env().database
    except SettingsError as error:
        raise Failure(str(error)) from None


def _engine(database: DatabaseSettings) -> Engine:
    from oversight.projecting import read_engine

    engine = read_engine(database)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def _app(database: DatabaseSettings) -> OversightApplication:
    from oversight.schema import SchemaOutOfDate
    from oversight.wiring import open_application

    try:
        app = open_application(database)
    except SchemaOutOfDate as error:
        raise Failure(str(error)) from None
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
    from sqlalchemy import distinct, select

    from projections.compliance import view

    if given is not None:
        require_authority(given)
        return [given]
    table = view("compliance_subject")
    with engine.connect() as conn:
        return sorted(
            str(code) for code in conn.execute(select(distinct(table.c.authority_code))).scalars()
        )


@click.group()
def retention() -> None:
    """Retention: the purge schedule, purge runs, certificates and reapplying the ledger."""


@retention.command("schedule")
@click.option("--authority", default=None, help="Authority code (default: every one).")
@click.option("--from", "due_from", default=None, help="Due on or after, YYYY-MM-DD.")
@click.option("--to", "due_to", default=None, help="Due on or before, YYYY-MM-DD.")
@click.option("--months", type=int, default=None, help="Due within this many months of --as-of.")
@click.option("--class", "record_class", default=None, help="Only this record class.")
@click.option("--as-of", "as_of", default=None, help="Status on this day (default today).")
@click.option("--include-purged", is_flag=True, help="List destroyed records' tombstones too.")
@format_option
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
    from domain.policy.calendar import Period
    from projections.purge_schedule import purge_schedule, schedule_csv

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


def _purge_targets(
    authority: str | None,
) -> list[tuple[DatabaseSettings, tuple[str, ...] | None]]:
    """Where a purge runs: the database of ``authority`` (or the one database); with a
    routing table and no authority, each routed database with the authorities it holds."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise Failure(str(error)) from None
    if settings.routing is None or authority is not None:
        return [(settings.database, None)]
    return [(routed.database, routed.authorities) for routed in settings.routing.databases()]


def _purges(database: DatabaseSettings, wait: float = 60.0) -> Purges:
    from application.purge import Purges

    purges = Purges.on(_app(database), _engine(database))
    purges.catch_up_timeout = wait
    return purges


@retention.command("purge")
@click.option("--as-of", "as_of", default=None, help="Destroy what is due by this day.")
@click.option("--dry-run", is_flag=True, help="List what would be destroyed; destroy nothing.")
@click.option("--authority", default=None, help="Authority code (default: every one).")
@click.option(
    "--authorised-by",
    "authorised_by",
    default=None,
    help="Staff id of the data protection officer authorising the run.",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="A scheduled run (cron, a timer) under the officer's standing authorisation: "
    "certificates say it was run by the schedule; --as-of defaults to today.",
)
@click.option("--limit", type=int, default=None, help="At most this many records.")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for projections.")
def purge_command(
    as_of: str | None,
    dry_run: bool,
    authority: str | None,
    authorised_by: str | None,
    scheduled: bool,
    limit: int | None,
    wait: float,
) -> None:
    """Destroy every record due by --as-of that no legal hold covers. Each is checked
    again from the event store first; --dry-run stops there and lists exactly those.
    The read models are redacted and storage compacted before it returns, and each
    record gets a certificate (table and ledger)."""
    from application.certificates import LedgerMissing
    from application.purge import SCHEDULE
    from application.storage import CompactionIncomplete
    from projections.engine import ProjectionLagging

    if (authorised_by is None) == (not scheduled):
        raise click.UsageError("give --authorised-by STAFF_ID, or --scheduled")
    day = _day(as_of, "--as-of") or (date.today() if scheduled else None)
    if day is None:
        raise click.UsageError("give --as-of YYYY-MM-DD")
    runs: list[PurgeRun] = []
    try:
        # Each database's authorities, by its own purge use case: with a routing table
        # and no --authority, every routed database (ADR 0033), so a scheduled run
        # leaves no authority's records past their retention.
        for database, routed in _purge_targets(authority):
            purges = _purges(database, wait)
            codes = _authorities(purges.engine, authority)
            if routed is not None:
                codes = [code for code in codes if code in routed]
            with progress("purging (authorities)", len(codes)) as update:
                for done, code in enumerate(codes, 1):
                    dpo = Actor(authorised_by or SCHEDULE, Role.DATA_PROTECTION_OFFICER, code)
                    runs.append(
                        purges.run(
                            authority_code=code, as_of=day, dpo=dpo, dry_run=dry_run, limit=limit
                        )
                    )
                    update(done, len(codes))
    except DomainError as error:
        raise refused(error) from None
    except LedgerMissing as error:
        raise Failure(str(error)) from None
    except ProjectionLagging as error:
        raise Failure(
            f"{error}: the records are destroyed in the event store; their derived rows go "
            "when the projections catch up: run `oversight retention reapply` then"
        ) from None
    except CompactionIncomplete as error:
        raise Failure(str(error)) from None
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
    if not dry_run and total:
        click.echo("projections caught up; storage compacted; certificates issued")


@retention.command("certificates")
@click.option("--authority", default=None, help="Authority code (default: every one).")
@format_option
def certificates_command(authority: str | None, fmt: str) -> None:
    """Every purge certificate, in the order issued: what was destroyed, under which
    rule, the legal-hold check, the counts, who ran it and when. No personal data."""
    from application import certificates as certs

    database = _database()
    if authority is not None:
        require_authority(authority)
    found = list(certs.rows(certs.certificates(_engine(database), authority_code=authority)))
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=certs.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(found)
        click.echo(out.getvalue(), nl=False)
        return
    click.echo(
        f"{'purged at':<20} {'authority':<10} {'subject':<16} {'class':<21} {'record':<18} "
        f"{'rule':<10} {'events':>6} {'rows':>5} ran by"
    )
    for k in found:
        click.echo(
            f"{k['purged_at'][:19]:<20} {k['authority_code']:<10} "
            f"{k['subject_kind'] + ' ' + k['local_id']:<16} {k['record_class']:<21} "
            f"{k['record_id']:<18} {k['rule_id']:<10} {k['events_rewritten']:>6} "
            f"{k['read_model_rows_redacted']:>5} {k['ran_by']}"
        )
    click.echo(f"{len(found)} certificates")


@retention.command("reapply")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for projections.")
def reapply_command(wait: float) -> None:
    """After restoring a backup, or after a purge was interrupted: destroy again every
    record the purge ledger (OVERSIGHT_PURGE_LEDGER) certifies and restore their
    certificates; finish every purge whose intent has no certificate (destroying the
    record if it is still due and not held) and certify it. Safe to run again."""
    from application.certificates import LedgerMissing
    from application.storage import CompactionIncomplete
    from projections.engine import ProjectionLagging

    database = _database()
    try:
        done = _purges(database, wait).reapply()
    except (LedgerMissing, ProjectionLagging, CompactionIncomplete, ValueError) as error:
        raise Failure(str(error)) from None
    for certificate, why in done.refused:
        click.echo(
            f"refused: {certificate.authority_code} {certificate.subject_kind} "
            f"{certificate.local_id} {certificate.record_class} {certificate.record_id}: {why}"
        )
    for intent, why in done.intents_refused:
        click.echo(
            f"refused (interrupted purge, command {intent.command_id}): "
            f"{intent.authority_code} {intent.subject_kind} {intent.local_id} "
            f"{intent.record_class} {intent.record_id}: {why}"
        )
    click.echo(
        f"destroyed again {len(done.destroyed_again)}, already destroyed "
        f"{len(done.already_destroyed)}, refused {len(done.refused)}"
    )
    if done.completed or done.not_held or done.intents_refused:
        click.echo(
            f"interrupted purges: certified {len(done.completed)}, not held "
            f"{len(done.not_held)}, refused {len(done.intents_refused)}"
        )
    if done.intents_refused:
        raise Failure(
            "some interrupted purges are refused by the records' authorities now: see "
            "above (a legal hold, or not due under the pack); nothing was forced"
        )
    if done.refused:
        raise Failure(
            "some records named by the ledger are still held: see above (a legal hold the "
            "restore brought back must be lifted by the data protection officer first)"
        )


@retention.command("compact")
@click.option(
    "--full",
    is_flag=True,
    help="PostgreSQL: rewrite every table into new files (VACUUM FULL, each table locked "
    "while it is copied), so no freed bytes of a purged row stay in the data directory.",
)
def compact_command(full: bool) -> None:
    """Truncate SQLite's write-ahead log, or vacuum PostgreSQL's purged row versions."""
    from application.purge import Purges
    from application.storage import CompactionIncomplete

    database = _database()
    try:
        Purges(_app(database), _engine(database), None).compact(full=full)
    except CompactionIncomplete as error:
        raise Failure(str(error)) from None
    click.echo("compacted")
