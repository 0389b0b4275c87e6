"""The ``oversight`` command-line tool: one grammar for every command (docs/cli.md,
``oversight.grammar``). It imports nothing of the store until a command runs, so
``oversight --help`` answers at once (``benchmarks/cli_help.py``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import click

import oversight.cin_census_cli  # noqa: F401  (registers "import cin-census" on import_group)
from domain.errors import DomainError
from oversight.api_cli import graphql, serve, token
from oversight.compliance_cli import compliance
from oversight.export_cli import export
from oversight.grammar import (
    Failure,
    LazyChoice,
    NotFoundError,
    OversightGroup,
    emit,
    format_option,
    progress,
    refused,
)
from oversight.import_cli import import_group
from oversight.log_cli import log
from oversight.policy_cli import authority, policy
from oversight.relationships_cli import relationships_group
from oversight.retention_cli import retention
from oversight.settings import DatabaseSettings, Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from application.app import OversightApplication
    from domain.subject import Subject


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise Failure(str(error)) from None


@click.group(cls=OversightGroup)
@click.version_option(package_name="case-oversight", prog_name="oversight")
@click.option(
    "--progress",
    is_flag=True,
    help="Show progress on standard error even when it is not a terminal "
    "(or set OVERSIGHT_PROGRESS=1).",
)
@click.pass_context
def main(ctx: click.Context, progress: bool) -> None:
    """Case oversight for children's social care: supervision, oversight and sign-off,
    as immutable events. The store is chosen by OVERSIGHT_DATABASE_URL
    (default: sqlite:///oversight.sqlite3).

    Exit status: 0 done, 1 failed, 2 usage, 3 not found, 4 rejected input (docs/cli.md)."""
    ctx.meta["oversight.progress"] = progress


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


db.add_command(relationships_group)


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION: of every routed database when
    OVERSIGHT_AUTHORITY_DATABASES names a routing table (ADR 0033)."""
    from oversight import schema

    settings = _settings()
    for database, authorities in _databases(settings):
        schema.upgrade(database, revision)
        where = f" {database.redacted()} ({', '.join(authorities)})" if authorities else ""
        click.echo(f"schema at {schema.current_revision(database)} ({database.backend}){where}")


def _databases(settings: Settings) -> list[tuple[DatabaseSettings, tuple[str, ...]]]:
    """Each database a process-wide command works on, with the authorities routed to
    it: the one store, or every routed database and the default store when it is set
    and not one of them (commands without --authority use it)."""
    if settings.routing is None:
        return [(settings.database, ())]
    routed = [(each.database, each.authorities) for each in settings.routing.databases()]
    if "OVERSIGHT_DATABASE_URL" in os.environ and not any(
        settings.database.same_store(database) for database, _ in routed
    ):
        routed.append((settings.database, ()))
    return routed


@db.command("analyze")
def db_analyze() -> None:
    """Refresh the planner's statistics of the event store's tables.

    On PostgreSQL, autovacuum's ANALYZE of the events table is cancelled whenever a
    command takes the table's insert lock, so under steady writes it may never finish.
    Run this from a schedule (nightly, say): it waits for the lock instead, and holds
    up commands for the second or two it takes. Imports do it themselves."""
    app = _open()
    started = time.perf_counter()
    app.command_log.analyze()
    click.echo(f"analyzed the event store in {time.perf_counter() - started:.1f}s")


@db.command("current")
def db_current() -> None:
    """Show the schema revision, and whether it is behind this code."""
    from oversight import schema

    database = _settings().database
    current = schema.current_revision(database)
    head = schema.head_revision()
    click.echo(f"current: {current or 'none'}; this code needs: {head}")
    if current != head:
        sys.exit(1)


@main.group()
def demo() -> None:
    """The deterministic demo authorities, one per policy pack."""


def _open() -> OversightApplication:
    """The application, closed when the command ends (connections are not left to GC)."""
    from oversight import schema
    from oversight.wiring import open_application

    try:
        app = open_application(_settings())
    except schema.SchemaOutOfDate as error:
        raise Failure(str(error)) from None
    click.get_current_context().call_on_close(app.close)
    return app


def _open_on(database: DatabaseSettings) -> OversightApplication:
    """The application on one database of several, closed when the command ends."""
    from oversight import schema
    from oversight.wiring import open_application

    try:
        app = open_application(database)
    except schema.SchemaOutOfDate as error:
        raise Failure(f"{database.redacted()}: {error}") from None
    click.get_current_context().call_on_close(app.close)
    return app


def _engine(database: DatabaseSettings) -> Engine:
    from oversight.projecting import read_engine

    engine = read_engine(database)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


@demo.command("seed")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Random seed.")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the two-year history (default: today, UTC).",
)
def demo_seed(seed_value: int, until: datetime | None) -> None:
    """Seed the demo authorities, one per policy pack (the largest about 30 workers and
    200 open cases; two years). Idempotent."""
    from oversight.generate import demo as demo_module

    app = _open()
    last_day = until.date() if until is not None else datetime.now(UTC).date()
    started = time.perf_counter()
    # An authority whose last command is written was seeded whole (batches are written
    # in order): a re-run skips it instead of replaying its commands one receipt at a
    # time (30,000 of them: the 31 s a second `make demo` spent before serving).
    pending = [
        demo
        for demo in demo_module.DEMO_AUTHORITIES
        if not _seeded(app, demo.generator(seed_value, last_day).commands())
    ]
    with progress("seeding the demo authorities") as update:
        report = demo_module.seed(
            app, seed=seed_value, until=last_day, progress=update, authorities=pending
        )
    elapsed = time.perf_counter() - started
    done = [d.code for d in demo_module.DEMO_AUTHORITIES if d not in pending]
    if done:
        click.echo(f"already seeded, skipped: {', '.join(done)}")
    click.echo(
        f"commands executed: {report.executed}, replayed (already done): {report.replayed}, "
        f"refused by a rule: {report.refused} in {elapsed:.1f}s"
    )
    for reason, count in report.refusals.most_common():
        click.echo(f"  refused {count}x {reason}")


def _seeded(app: OversightApplication, commands: Iterator[Any]) -> bool:
    """Whether the last of ``commands`` has its receipt (so every one before it has)."""
    last = None
    for last in commands:  # noqa: B007 (the last one is the one asked about)
        pass
    if last is None:
        return True
    receipt = app.command_log.select_command_receipt(last.actor.authority_id, last.command_id)
    return receipt is not None


def _scales() -> list[str]:
    from oversight.generate import authority as generate_module

    return sorted(generate_module.SCALES)


@demo.command("generate")
@click.option(
    "--scale",
    "scale_name",
    type=LazyChoice(_scales),
    default="small",
    show_default=True,
    help="small: ~40 workers, 2 years; medium: ~300 workers, 4,000 open cases, 5 years "
    "(1-2 million events); large: ~1,300 workers, 10 years (~10 million events); demo, "
    "demo-small: the demo authorities' sizes (oversight demo seed).",
)
@click.option("--seed", "seed_value", default=1, show_default=True, help="Random seed.")
@click.option(
    "--authority",
    "authority_code",
    default=None,
    help="Authority code (default: GEN-<SCALE>).",
)
@click.option("--pack", default="DUR", show_default=True, help="Policy pack it adopts.")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the history (default: a fixed day, so a seed always gives the same "
    "authority).",
)
@click.option("--batch-size", default=2_000, show_default=True, help="Commands per transaction.")
def demo_generate(
    scale_name: str,
    seed_value: int,
    authority_code: str | None,
    pack: str,
    until: datetime | None,
    batch_size: int,
) -> None:
    """Generate a deterministic synthetic authority at scale, through the domain's
    rules, written in batches (ADR 0015). Idempotent: a second run, or a run resumed
    after an interruption, writes only what is missing."""
    from oversight.generate import authority as generate_module

    scale = generate_module.SCALES[scale_name]
    code = authority_code or f"GEN-{scale.name.upper()}"
    last_day = until.date() if until is not None else generate_module.DEFAULT_UNTIL
    generator = generate_module.AuthorityGenerator(
        scale, seed=seed_value, until=last_day, authority_code=code, policy_pack=pack
    )
    app = _open()
    try:
        app.policy_packs.get(pack)
    except DomainError as error:
        raise click.BadParameter(str(error), param_hint="--pack") from None
    started = time.perf_counter()
    total_days = (generator.until - generator.start).days
    with progress(f"generating {code} ({scale.name})", total_days) as update:

        def commands() -> Iterator[Any]:
            for command in generator.commands():
                day = (command.occurred_at.date() - generator.start).days
                update(min(day, total_days), total_days)
                yield command

        report = app.execute_batch(commands(), batch_size=batch_size)
    elapsed = time.perf_counter() - started
    click.echo(
        f"{code}: {generator.children} children, {len(generator.staff)} workers; commands "
        f"executed {report.executed} ({report.events} events), replayed {report.replayed}, "
        f"refused by a rule {len(report.refused)}, in {elapsed:.1f}s "
        f"({report.events / elapsed if elapsed else 0:,.0f} events/s)"
    )
    refusals = Counter(
        f"{type(command).__name__}: {error.rule or error.field}"
        for command, error in report.refused
    )
    for reason, count in refusals.most_common(10):
        click.echo(f"  refused {count}x {reason}")


@demo.command("summary")
@click.option("--authority", "codes", multiple=True, help="Only this demo authority.")
@click.option("--as-of", default=None, help="Day for compliance, YYYY-MM-DD (default: today).")
@format_option
def demo_summary(codes: tuple[str, ...], as_of: str | None, fmt: str) -> None:
    """Each demo authority: counts from the aggregates, and its compliance findings under
    its own pack (from the compliance projection)."""
    from domain.policy.packs import PackLibrary
    from oversight.generate import demo as demo_module

    settings = _settings()
    app = _open()
    engine = _engine(settings.database)
    library = PackLibrary.load()
    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD", param_hint="--as-of") from None
    head = app.recorder.max_notification_id() or 0
    chosen = codes or tuple(d.code for d in demo_module.DEMO_AUTHORITIES)
    for code in chosen:
        try:
            app.get_authority(code)
        except DomainError as error:
            raise NotFoundError(f"{code}: {error}; run: oversight demo seed") from None
    data: dict[str, Any] = demo_module.summaries(app, chosen)
    for code in chosen:
        data[code]["compliance"] = demo_module.compliance_overview(engine, library, code, day, head)
    emit(
        fmt,
        data,
        table=lambda: _summary_table(data, day),
        rows=[
            {"authority": code, **{k: v for k, v in item.items() if k != "compliance"}}
            | {f"compliance.{k}": v for k, v in item["compliance"].items()}
            for code, item in data.items()
        ],
    )


def _summary_table(data: dict[str, Any], day: date) -> None:
    for code, item in data.items():
        item = dict(item)
        counts = item.pop("event_counts")
        compliance = item.pop("compliance")
        click.echo(f"== {code}")
        width = max(len(k) for k in item)
        for key, value in item.items():
            click.echo(f"{key.replace('_', ' '):<{width}}  {value}")
        click.echo(f"events by kind: {', '.join(f'{k} {v}' for k, v in counts.items())}")
        if compliance["projection_lag_events"]:
            click.echo(
                f"compliance: the projection is {compliance['projection_lag_events']} events "
                "behind; run: oversight projections run --once"
            )
        rate = compliance["rate"]
        click.echo(
            f"compliance under {item['policy_pack']}, {compliance['since']} to "
            f"{compliance['as_of']}: {compliance['fell_due']} fell due, "
            f"{compliance['on_time']} on time, {compliance['late']} late, "
            f"{compliance['missed']} missed, {compliance['breached']} breached windows"
            + (f" ({rate:.0%} on time)" if rate is not None else "")
            + f"; {compliance['due_soon']} due soon"
        )
        for rule, tally in compliance["by_rule"].items():
            click.echo(
                f"  {rule:<12} due {tally['fell_due']:>5}  on time {tally['on_time']:>5}  "
                f"late {tally['late']:>5}  missed {tally['missed']:>5}  "
                f"breached {tally['breached']:>5}  soon {tally['due_soon']:>3}"
            )
        click.echo(
            "open: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in compliance["open"].items())
        )
        click.echo(
            "purge schedule: "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in compliance["retention"].items())
            + f" (oversight retention schedule --authority {code}; a dry run: oversight "
            f"retention purge --as-of {day.isoformat()} --dry-run --authority {code} "
            "--authorised-by DPO01)"
        )


@main.group()
def projections() -> None:
    """Read models: run them, see their lag, rebuild them."""


@projections.command("run")
@click.option("--once", is_flag=True, help="Catch up once and exit (if this runner leads).")
@click.option("--name", "names", multiple=True, help="Only these projections (repeatable).")
@click.option("--poll", default=1.0, show_default=True, help="Polling fallback, seconds.")
@click.option("--batch-size", default=500, show_default=True, help="Events per transaction.")
def projections_run(once: bool, names: tuple[str, ...], poll: float, batch_size: int) -> None:
    """Keep projections up to date. Start several: one leads, the others stand by. With a
    routing table, the projections of every routed database (ADR 0033)."""
    from oversight.projecting import runner_for
    from projections.registry import all_projections, by_name

    settings = _settings()
    try:
        chosen = [by_name(n) for n in names] if names else all_projections()
    except KeyError as error:
        raise NotFoundError(f"no projection: {error.args[0]}") from None
    opened = [
        (database, _open_on(database), _engine(database)) for database, _ in _databases(settings)
    ]
    if once:
        from oversight.catch_up import catch_up

        for database, app, engine in opened:
            catch_up(database, app, engine, chosen, batch_size=batch_size)
        return
    from oversight.observability import configure_logging
    from oversight.settings import ObservabilitySettings

    try:
        configure_logging(ObservabilitySettings.from_env())  # as `serve` logs (ADR 0031)
    except SettingsError as error:
        raise Failure(str(error)) from None
    runners = [
        runner_for(database, app, p, engine, poll_interval=poll)
        for database, app, engine in opened
        for p in chosen
    ]
    for runner in runners:
        runner.batch_size = batch_size
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
    where = f" on {len(opened)} databases" if len(opened) > 1 else ""
    click.echo(f"running {', '.join(p.name for p in chosen)}{where} (pid {os.getpid()})")
    while not stop.wait(0.5):
        pass
    for thread in threads:
        thread.join(10)


@projections.command("status")
@format_option
def projections_status(fmt: str) -> None:
    """Position and lag, in events and seconds, per projection: per database, with its
    authorities, when OVERSIGHT_AUTHORITY_DATABASES routes several (ADR 0033)."""
    from oversight.projecting import source_for
    from projections.engine import status
    from projections.registry import all_projections

    settings = _settings()
    routed = settings.routing is not None
    sections = []
    for database, authorities in _databases(settings):
        rows = status(_engine(database), source_for(_open_on(database)), all_projections())
        sections.append((database, authorities, rows))
    data = [
        {
            **(
                {"database": database.redacted(), "authorities": list(authorities)}
                if routed
                else {}
            ),
            "projection": row.name,
            "generation": row.generation,
            "position": row.position,
            "head": row.head,
            "lag_events": row.lag_events,
            "lag_seconds": round(row.lag_seconds, 1),
        }
        for database, authorities, rows in sections
        for row in rows
    ]

    def table() -> None:
        for number, (database, authorities, rows) in enumerate(sections):
            if routed:
                if number:
                    click.echo("")
                held = ", ".join(authorities) if authorities else "no routed authority"
                click.echo(f"database {database.redacted()} ({held})")
            click.echo(
                f"{'projection':<18} {'gen':>4} {'position':>10} {'head':>10} "
                f"{'lag events':>11} {'lag s':>8}"
            )
            for row in rows:
                click.echo(
                    f"{row.name:<18} {row.generation:>4} {row.position:>10} {row.head:>10} "
                    f"{row.lag_events:>11} {row.lag_seconds:>8.1f}"
                )

    emit(fmt, data, table=table)


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--all", "rebuild_all", is_flag=True, help="Rebuild every projection.")
def projections_rebuild(name: str | None, rebuild_all: bool) -> None:
    """Rebuild NAME (or --all) into new tables; readers switch over once caught up."""
    from oversight.projecting import runner_for
    from projections.registry import all_projections, by_name

    if bool(name) == rebuild_all:
        raise click.UsageError("give a projection NAME or --all")
    database = _settings().database
    app = _open()
    engine = _engine(database)
    try:
        chosen = all_projections() if rebuild_all else [by_name(name or "")]
    except KeyError as error:
        raise NotFoundError(f"no projection {name!r}: {error.args[0]}") from None
    for projection in chosen:
        head = app.recorder.max_notification_id() or 0
        with progress(f"rebuilding {projection.name}", head) as update:
            runner = runner_for(database, app, projection, engine, on_progress=update)
            applied = runner.rebuild()
        click.echo(f"{projection.name}: {applied} events applied; switched to the new tables")


def _subject(
    app: OversightApplication, authority: str, child: str | None, worker: str | None
) -> tuple[str, str, Subject]:
    if bool(child) == bool(worker):
        raise click.UsageError("give exactly one of --child or --worker")
    try:
        if child:
            return "child", child, app.get_child(authority, child)
        assert worker is not None
        return "worker", worker, app.get_worker(authority, worker)
    except DomainError as error:
        raise refused(error) from None


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "an ISO 8601 date-time with an offset", param_hint=option
        ) from None
    if parsed.tzinfo is None:
        raise click.BadParameter(
            "give a time zone offset, e.g. 2026-01-31T17:00:00+00:00", param_hint=option
        )
    return parsed


subject_options = [
    click.option("--authority", default="DEMO", show_default=True),
    click.option("--child", default=None, help="The authority's child id."),
    click.option("--worker", default=None, help="The authority's staff id."),
]


def _with_subject(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(subject_options):
        func = option(func)
    return func


@main.group()
def history() -> None:
    """Point-in-time history: as of a valid time, as known at a system time."""


@history.command("show")
@_with_subject
@click.option("--as-of", default=None, help="Valid time (ISO 8601 with offset).")
@click.option("--known-at", default=None, help="System time (ISO 8601 with offset).")
@format_option
def history_show(
    authority: str,
    child: str | None,
    worker: str | None,
    as_of: str | None,
    known_at: str | None,
    fmt: str,
) -> None:
    """A subject's state and history as of / as known at."""
    from projections.history import history as history_rows
    from projections.history import state as history_state

    database = _settings().database
    app = _open()
    _, _, subject = _subject(app, authority, child, worker)
    engine = _engine(database)
    valid, system = _instant(as_of, "--as-of"), _instant(known_at, "--known-at")
    answer = history_state(engine, subject.id, as_of=valid, known_at=system)
    rows = history_rows(engine, subject.id, as_of=valid, known_at=system)
    events = [
        {
            "event": r.event_type,
            "occurred_at": r.occurred_at,
            "recorded_at": r.recorded_at,
            "entry": r.entry_ref,
        }
        for r in rows
    ]

    def table() -> None:
        for key, value in answer.attributes.items():
            click.echo(f"{key:<24} {value}")
        click.echo(f"entries: {len(answer.entries)}; events: {len(rows)}")
        for row in rows:
            occurred = row.occurred_at.strftime("%Y-%m-%d %H:%M")
            recorded = row.recorded_at.strftime("%Y-%m-%d %H:%M")
            click.echo(
                f"  {occurred}  (recorded {recorded})  {row.event_type}  {row.entry_ref or ''}"
            )

    # CSV: the events, one a row (the attributes and entries are JSON's).
    data = {"attributes": answer.attributes, "entries": answer.entries, "events": events}
    emit(fmt, data, table=table, rows=events)


@history.command("verify")
@_with_subject
@click.option("--known-at", default=None, help="System time (default: now).")
def history_verify(
    authority: str, child: str | None, worker: str | None, known_at: str | None
) -> None:
    """Check the projection's answer against a replay of the event store."""
    from projections.history import verify as history_verify_fn

    database = _settings().database
    app = _open()
    _, _, subject = _subject(app, authority, child, worker)
    instant = _instant(known_at, "--known-at") or datetime.now(UTC)
    problems = history_verify_fn(
        _engine(database),
        subject.id,
        instant,
        lambda i: list(app.events.get(i)),
        lambda i, v: app.repository.get(i, version=v),
    )
    if problems:
        for problem in problems:
            click.echo(problem)
        sys.exit(1)
    click.echo(f"the projection agrees with the event store known at {instant.isoformat()}")


@main.group()
def audit() -> None:
    """Audit trails."""


@audit.command("trail")
@_with_subject
@click.option("--first", default=50, show_default=True)
@click.option("--after", default=None, help="Cursor from the previous page.")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@format_option
def audit_trail(
    authority: str,
    child: str | None,
    worker: str | None,
    first: int,
    after: str | None,
    kinds: tuple[str, ...],
    fmt: str,
) -> None:
    """A subject's audit trail, oldest first."""
    from projections.audit_trail import InvalidCursor, subject_trail

    database = _settings().database
    if bool(child) == bool(worker):
        raise click.UsageError("give exactly one of --child or --worker")
    # The trail is read from its projection alone: a purged subject keeps its tombstones.
    kind, local_id = ("child", child) if child else ("worker", worker)
    assert local_id is not None
    try:
        page = subject_trail(
            _engine(database),
            authority_code=authority,
            subject_kind=kind,
            local_id=local_id,
            first=first,
            after=after,
            kinds=kinds,
        )
    except (InvalidCursor, ValueError) as error:
        raise click.BadParameter(str(error)) from None
    if not page.entries and after is None and not kinds:
        raise NotFoundError(f"no {kind} {local_id!r} on {authority}'s audit trail")

    def table() -> None:
        for entry in page.entries:
            links = f"  -> {', '.join(map(str, entry.related))}" if entry.related else ""
            click.echo(
                f"{entry.position:>8} {entry.occurred_at:%Y-%m-%d %H:%M} "
                f"{entry.actor_id}({entry.actor_role}) [{entry.rule_ids or '-'}] "
                f"{entry.summary}{links}"
            )
        if page.next_cursor:
            click.echo(f"next page: --after {page.next_cursor}")

    entries = [
        {
            "position": e.position,
            "occurred_at": e.occurred_at,
            "actor_id": e.actor_id,
            "actor_role": e.actor_role,
            "rule_ids": e.rule_ids,
            "summary": e.summary,
            "related": [str(r) for r in e.related],
        }
        for e in page.entries
    ]
    emit(fmt, {"entries": entries, "next_cursor": page.next_cursor}, table=table, rows=entries)


main.add_command(compliance)
main.add_command(retention)
main.add_command(import_group)
main.add_command(log)
main.add_command(policy)
main.add_command(authority)
main.add_command(serve)
main.add_command(token)
main.add_command(graphql)
main.add_command(export)

if __name__ == "__main__":
    main()
