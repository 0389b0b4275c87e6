"""``oversight compliance ...``: findings, summaries, registers and tracking sheets from
the compliance projection."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from domain.errors import DomainError
from domain.identifiers import child_id, worker_id
from oversight.grammar import Failure, LazyChoice, NotFoundError, emit, format_option
from oversight.grammar import require_authority as _known
from oversight.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from domain.policy.packs import PackLibrary


def _statuses() -> list[str]:
    from domain.policy.compliance import Status

    return [s.value for s in Status]


def _registers() -> list[str]:
    from domain.policy.registers import REGISTERS

    return list(REGISTERS)


def _engine() -> Engine:
    from oversight.projecting import read_engine

    try:
        database = Settings.from_env().database
    except SettingsError as error:
        raise Failure(str(error)) from None
    engine = read_engine(database)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def _library() -> PackLibrary:
    from domain.policy.packs import PackLibrary

    try:
        return PackLibrary.load()
    except DomainError as error:
        raise Failure(str(error)) from None


def _day(value: str | None, option: str) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD", param_hint=option) from None


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an ISO 8601 date-time", param_hint="--known-at") from None
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone offset", param_hint="--known-at")
    return parsed


def _echo_data(fmt: str, value: Any, rows: list[dict[str, Any]] | None = None) -> None:
    """JSON or CSV (``rows``, or ``value`` flattened); the table is each command's own."""
    emit(fmt, value, table=lambda: None, rows=rows)


def _check_code(authority: str) -> None:
    try:
        worker_id(authority, "X")
    except DomainError as error:
        raise click.BadParameter(str(error), param_hint="--authority") from None
    _known(authority)


def _check_staff(authority: str, staff_id: str) -> None:
    try:
        worker_id(authority, staff_id)
    except DomainError as error:
        raise click.BadParameter(str(error), param_hint="--worker") from None


@click.group()
def compliance() -> None:
    """Compliance with each authority's policy pack: findings, summaries, registers and
    tracking sheets (the compliance projection; run `oversight projections run`)."""


@compliance.command("show")
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--child", default=None, help="The authority's child id.")
@click.option("--worker", default=None, help="The authority's staff id.")
@click.option("--as-of", default=None, help="Valid day, YYYY-MM-DD (default: today).")
@click.option("--known-at", default=None, help="System time, ISO 8601 with offset.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=LazyChoice(_statuses),
    help="Only findings with this status (repeatable).",
)
@format_option
def compliance_show(
    authority: str,
    child: str | None,
    worker: str | None,
    as_of: str | None,
    known_at: str | None,
    statuses: tuple[str, ...],
    fmt: str,
) -> None:
    """A worker's or child's findings on a day, each citing its rule."""
    from projections.compliance import evaluate

    if bool(child) == bool(worker):
        raise click.UsageError("give exactly one of --child or --worker")
    try:
        subject = child_id(authority, child) if child else worker_id(authority, str(worker))
    except DomainError as error:
        raise click.BadParameter(str(error)) from None
    _known(authority)
    day = _day(as_of, "--as-of")
    result = evaluate(_engine(), _library(), str(subject), as_of=day, known_at=_instant(known_at))
    if result is None:
        raise NotFoundError(f"no such {'child' if child else 'worker'} in {authority}")
    shown = [f for f in result.findings if not statuses or f.status.value in statuses]
    if fmt != "table":
        findings = [asdict(f) for f in shown]
        _echo_data(
            fmt,
            {
                "subject": result.profile.local_id,
                "pack": result.pack_id,
                "as_of": result.as_of,
                "known_at": result.known_at,
                "source": result.source,
                "findings": findings,
            },
            findings,
        )
        return
    click.echo(
        f"{result.profile.subject} {result.profile.local_id} ({result.profile.display}), "
        f"team {result.profile.team or '-'}, pack {result.pack_id or '-'}, as of {day}"
        + (f", as known at {result.known_at}" if result.known_at else "")
    )
    for item in shown:
        click.echo(f"  {item.status.value:<15} {item.rule_id:<12} {item.sentence}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@compliance.command("summary")
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--as-of", default=None, help="Valid day, YYYY-MM-DD (default: today).")
@click.option("--since", default=None, help="Window start (default: a year before).")
@click.option("--team", default=None)
@click.option("--by", type=click.Choice(["rule", "team"]), default="rule", show_default=True)
@format_option
def compliance_summary(
    authority: str,
    as_of: str | None,
    since: str | None,
    team: str | None,
    by: str,
    fmt: str,
) -> None:
    """Rates by rule or by team: what fell due in the period, done on time, late, not at
    all (missed: still open), windows that closed without the act (breached: each missed
    window once), and what falls due soon (quality-assurance dip sampling [POR-7,
    SHR-5.8])."""
    from projections.compliance import summary

    _check_code(authority)
    day = _day(as_of, "--as-of")
    start = _day(since, "--since") if since else None
    result = summary(_engine(), _library(), authority, as_of=day, since=start, team=team)
    groups: dict[Any, Any] = result.by_rule() if by == "rule" else result.by_team()
    if fmt != "table":
        rows = [
            {by: key, **asdict(tally), "fell_due": tally.fell_due, "rate": tally.rate}
            for key, tally in groups.items()
        ]
        _echo_data(
            fmt,
            {
                "authority": authority,
                "pack": result.pack_id,
                "as_of": result.as_of,
                "since": result.since,
                "by": by,
                "rows": rows,
                "overall": {**asdict(result.overall()), "rate": result.overall().rate},
            },
            rows,
        )
        return
    click.echo(
        f"{authority} (pack {result.pack_id or '-'}): what fell due {result.since} to "
        f"{result.as_of}"
    )
    click.echo(
        f"  {by:<16} {'due':>6} {'on time':>8} {'late':>6} {'missed':>7} {'breached':>9} "
        f"{'soon':>6}  rate"
    )
    for key, tally in [*groups.items(), ("all", result.overall())]:
        click.echo(
            f"  {key!s:<16} {tally.fell_due:>6} {tally.on_time:>8} {tally.late:>6} "
            f"{tally.missed:>7} {tally.breached:>9} {tally.due_soon:>6}  {_rate(tally.rate)}"
        )


@compliance.command("register")
@click.argument("name", type=LazyChoice(_registers))
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--as-of", default=None, help="Valid day, YYYY-MM-DD (default: today).")
@click.option("--all", "show_all", is_flag=True, help="Closed items too.")
@click.option("--team", default=None)
@click.option("--limit", default=50, show_default=True)
@format_option
def compliance_register(
    name: str,
    authority: str,
    as_of: str | None,
    show_all: bool,
    team: str | None,
    limit: int,
    fmt: str,
) -> None:
    """A queue or register: oversight_trigger, action (drift), sign_off, disagreement."""
    from projections.compliance import register_items

    _check_code(authority)
    day = _day(as_of, "--as-of")
    rows = register_items(
        _engine(), authority, name, as_of=day, open_only=not show_all, team=team, limit=limit
    )
    if fmt != "table":
        _echo_data(
            fmt,
            [
                {
                    **asdict(r),
                    "open": r.open,
                    "age_days": r.age_days,
                    "overdue_days": r.overdue_days,
                    "days_since_escalation": r.days_since_escalation,
                }
                for r in rows
            ],
        )
        return
    for r in rows:
        rule = f" ({r.rule_id})" if r.rule_id else ""
        due = f"due {r.due_on}{rule}" if r.due_on else "no deadline"
        late = f", {r.overdue_days} days overdue" if r.overdue_days else ""
        closed = f", closed {r.closed_on}" if not r.open else ""
        level = f", at {r.detail.get('level')}" if r.detail.get("level") else ""
        click.echo(
            f"  {r.local_id:<10} {r.item_id:<24} opened {r.opened_on}, {due}, "
            f"{r.age_days} days old{late}{level}{closed}  [{r.team or '-'}]"
        )
    click.echo(f"{len(rows)} item(s)")


@compliance.command("sheet")
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--worker", required=True, help="The authority's staff id.")
@click.option("--as-of", default=None, help="Valid day, YYYY-MM-DD (default: today).")
@click.option("--since", default=None, help="Count breached windows from (default: a year).")
@format_option
def compliance_sheet(
    authority: str, worker: str, as_of: str | None, since: str | None, fmt: str
) -> None:
    """A worker's supervision tracking sheet: gaps against the agreed frequency, with
    the comment SHR-APP2 asks for, sessions per rolling year, and the windows of the
    worker's rules that closed without the act from --since to --as-of, by rule."""
    from projections.compliance import supervision_sheet_for

    _check_code(authority)
    _check_staff(authority, worker)
    day = _day(as_of, "--as-of")
    start = _day(since, "--since") if since else None
    if start is not None and start > day:
        raise click.BadParameter("must not be after --as-of", param_hint="--since")
    sheet = supervision_sheet_for(_engine(), _library(), authority, worker, as_of=day, since=start)
    if sheet is None:
        raise NotFoundError(f"no worker {worker} in {authority}")
    if fmt != "table":
        _echo_data(fmt, asdict(sheet), [asdict(r) for r in sheet.sessions])
        return
    click.echo(f"{sheet.staff_id} {sheet.display}: supervision to {sheet.as_of}")
    for row in sheet.sessions:
        gap = f"{row.gap_days:>4}d" if row.gap_days is not None else "   -"
        click.echo(
            f"  {row.held_on}  gap {gap}  agreed {row.agreed_frequency or '-':<4} "
            f"year {row.sessions_in_rolling_year:>2}  "
            f"{'signed' if row.record_signed_by_both else 'UNSIGNED'}  {row.comment or ''}"
        )
    for year in sheet.rolling_years:
        click.echo(f"  {year.start} to {year.end}: {year.sessions} sessions")
    click.echo(
        f"  breached windows {sheet.since} to {sheet.as_of}: {len(sheet.breached)}"
        + "".join(f", {rule} {n}" for rule, n in sheet.breached_by_rule.items())
    )
    for window in sheet.breached:
        click.echo(f"    {window.rule_id:<12} {window.start} to {window.end}")


@compliance.command("tracker")
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--worker", required=True, help="The authority's staff id.")
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Last day (default: today).")
@format_option
def compliance_tracker(authority: str, worker: str, start: str, end: str | None, fmt: str) -> None:
    """Case supervision tracker for a worker (children by sessions) [SHR-3.6e], with each
    child's windows that closed without a case supervision in the period."""
    from projections.compliance import case_tracker_for

    _check_code(authority)
    _check_staff(authority, worker)
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise click.BadParameter("must not be before --from", param_hint="--to")
    tracker = case_tracker_for(_engine(), _library(), authority, worker, start=first, end=last)
    if tracker is None:
        raise NotFoundError(f"no worker {worker} in {authority}")
    if fmt != "table":
        _echo_data(fmt, asdict(tracker), [asdict(r) for r in tracker.rows])
        return
    if not tracker.required_by_policy:
        click.echo(f"{authority}'s policy counts no case discussions: none are counted")
    heads = " ".join(c.held_on.strftime("%d/%m") for c in tracker.columns)
    click.echo(f"{'child':<10} {heads}  twice/6m  last       next due  breached")
    for row in tracker.rows:
        ticks = " ".join(
            f"{'  x  ' if c.session_id in row.discussed_at else '  .  '}" for c in tracker.columns
        )
        click.echo(
            f"{row.local_child_id:<10} {ticks}  {_counted(row.twice_in_six_months):<8}"
            f"  {row.last_case_supervision or '-'}  {row.next_due or '-'} {row.next_due_rule or ''}"
            f"  {row.breached_windows}"
            + "".join(f" {rule}:{n}" for rule, n in row.breached_by_rule.items())
        )


@compliance.command("team-sheet")
@click.option("--authority", default="DEMO", show_default=True)
@click.option("--team", required=True, help="The team's name.")
@click.option("--as-of", default=None, help="Valid day, YYYY-MM-DD (default: today).")
@click.option("--since", default=None, help="Count breached windows from (default: a year).")
@format_option
def compliance_team_sheet(
    authority: str, team: str, as_of: str | None, since: str | None, fmt: str
) -> None:
    """A team's group sessions (group supervision, team meetings, practice development
    sessions) and the windows of its team rules that closed without one [DEV-7, POR-3.3]."""
    from projections.compliance import team_sheet_for

    _check_code(authority)
    day = _day(as_of, "--as-of")
    start = _day(since, "--since") if since else None
    if start is not None and start > day:
        raise click.BadParameter("must not be after --as-of", param_hint="--since")
    sheet = team_sheet_for(_engine(), _library(), authority, team, as_of=day, since=start)
    if sheet is None:
        raise NotFoundError(f"no team {team!r} with team rules or sessions in {authority}")
    if fmt != "table":
        _echo_data(fmt, asdict(sheet), [asdict(r) for r in sheet.sessions])
        return
    click.echo(f"{sheet.team}: group sessions {sheet.since} to {sheet.as_of}")
    for row in sheet.sessions:
        gap = f"{row.gap_days:>4}d" if row.gap_days is not None else "   -"
        click.echo(
            f"  {row.held_on}  gap {gap}  {row.kind:<30} {row.session_id:<16} "
            f"by {row.facilitator_id}  {len(row.attendees)} attended"
        )
    click.echo(
        f"  breached windows {sheet.since} to {sheet.as_of}: {len(sheet.breached)}"
        + "".join(f", {rule} {n}" for rule, n in sheet.breached_by_rule.items())
    )
    for window in sheet.breached:
        click.echo(f"    {window.rule_key:<28} {window.start} to {window.end}")


def _counted(reached: bool | None) -> str:
    """The tracker's check column: yes, NO, or - where the policy counts nothing."""
    return "-" if reached is None else "yes" if reached else "NO "
