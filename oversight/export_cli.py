"""``oversight export ...``: what auditors and learning reviews take away (issue 24,
ADR 0030): a child's chronology, a learning-review pack, an auditor's sample pack and
decisions across children.

The CLI reads as an operator of one authority (``--authority``), named on the access log
by ``--reader`` in the role ``--role`` (quality assurance by default), for ``--purpose``:
every child read is authorised and logged as any read is. Output goes to stdout, or to
``--output FILE``. Exit codes: 0 done, 2 usage, 3 not found, 4 rejected input, 1 failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from domain.errors import DomainError, NotFound
from oversight.grammar import Failure, LazyChoice, NotFoundError, Rejected, progress

if TYPE_CHECKING:  # the store and the renderers load only when a command runs
    from application.exports.chronology import Sources
    from application.exports.reading import StoreReader


#: How the application's field names read as this command's options.
OPTIONS = {
    "as_of": "--as-of",
    "known_at": "--known-at",
    "at": "--at",
    "to": "--to",
    "child_id": "--child",
    "staff_id": "--worker",
    "kind": "--kind",
    "size": "--size",
}


#: The forms a document is rendered in (application.exports.render.Format's values).
DOCUMENT_FORMATS = ("pdf", "csv", "json")


@contextmanager
def _opened() -> Iterator[tuple[Any, Sources]]:
    from application.exports.chronology import Sources
    from domain.policy.packs import PackLibrary
    from oversight.projecting import read_engine
    from oversight.schema import SchemaOutOfDate
    from oversight.settings import Settings, SettingsError
    from oversight.wiring import open_application

    try:
        database = Settings.from_env().database
        app = open_application(database)
    except (SettingsError, SchemaOutOfDate) as error:
        raise Failure(str(error)) from None
    engine = read_engine(database)
    try:
        yield app, Sources(engine, PackLibrary.load())
    finally:
        engine.dispose()
        app.close()


def _run(work: Callable[[], bytes], output: Path | None) -> None:
    """Run ``work`` and write what it made; a domain error is a message and an exit
    code, never a traceback."""
    try:
        content = work()
    except NotFound as error:
        raise NotFoundError(_named(error)) from None
    except DomainError as error:
        raise Rejected(_named(error)) from None
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(content)
        click.echo(f"wrote {output} ({len(content):,} bytes)", err=True)


def _named(error: DomainError) -> str:
    field = OPTIONS.get(error.field or "", error.field)
    parts = [error.message]
    if field:
        parts.append(f"option: {field}")
    if error.rule:
        parts.append(f"rule: {error.rule}")
    return "; ".join(parts)


def _instant(value: datetime | None, option: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise click.BadParameter(
            "give a time zone offset, e.g. 2026-01-31T17:00:00+00:00", param_hint=option
        )
    return value


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


_INSTANT = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S.%f%z"])
_DAY = click.DateTime(["%Y-%m-%d"])


def _reader(
    app: Any, sources: Sources, authority: str, reader: str, role: str, purpose: str
) -> StoreReader:
    import getpass

    from application.exports.reading import StoreReader
    from domain.authorization import Principal
    from domain.vocabulary import Role

    principal = Principal(reader, Role(role), authority)
    # The reader and role are declared by whoever holds the database's credentials: each
    # access log line says the read came through this command and which account ran it.
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container, say)
        account = "unknown account"
    via = f"oversight export, run by {account}"
    return StoreReader(app, principal, purpose, engine=sources.engine, via=via)


def _access_roles() -> list[str]:
    from domain.authorization import ACCESS_ROLES

    return [role.value for role in ACCESS_ROLES]


def _decision_kinds() -> list[str]:
    from application.exports.decisions import KINDS

    return sorted(KINDS)


def reader_options(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--authority", required=True, help="The authority's code."),
            click.option(
                "--reader",
                default="OPERATOR",
                show_default=True,
                help="Who reads, as the access log names them (declared by the operator: "
                "each line also says it came through this command, run by which account).",
            ),
            click.option(
                "--role",
                type=LazyChoice(_access_roles),
                default="qa_auditor",
                show_default=True,
                help="The reader's role: it decides what they may see.",
            ),
            click.option(
                "--purpose",
                default="audit export",
                show_default=True,
                help="Why, kept on each record's access log [DUR-4.8].",
            ),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write here (default: stdout).",
            ),
        ]
    ):
        func = option(func)
    return func


_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(DOCUMENT_FORMATS),
    default="json",
    show_default=True,
    help="The document's form: pdf to print or file, csv for a spreadsheet, json for a program.",
)


@click.group("export")
def export() -> None:
    """Documents auditors and learning reviews take away: chronologies, review packs,
    samples and decisions across children (ADR 0030)."""


@export.command("chronology")
@reader_options
@click.option("--child", required=True, help="The authority's child id.")
@click.option("--worker", default=None, help="Only while allocated to, or by or about, them.")
@click.option("--from", "period_from", type=_DAY, default=None, help="First day, YYYY-MM-DD.")
@click.option("--to", "period_to", type=_DAY, default=None, help="Last day, YYYY-MM-DD.")
@click.option("--as-of", type=_INSTANT, default=None, help="Valid time (ISO 8601, offset).")
@click.option("--known-at", type=_INSTANT, default=None, help="System time (ISO 8601, offset).")
@_FORMAT
def export_chronology(
    authority: str,
    reader: str,
    role: str,
    purpose: str,
    output: Path | None,
    child: str,
    worker: str | None,
    period_from: datetime | None,
    period_to: datetime | None,
    as_of: datetime | None,
    known_at: datetime | None,
    fmt: str,
) -> None:
    """A child's chronology: every oversight act in order with both times, who acted and
    in what role, triggers answered, disagreements, sign-offs and findings."""
    from application.exports.chronology import Request, chronology
    from application.exports.render import Format, chronology_document

    request = Request(
        authority,
        child,
        worker=worker,
        period_from=_day(period_from),
        period_to=_day(period_to),
        as_of=_instant(as_of, "--as-of"),
        known_at=_instant(known_at, "--known-at"),
    )
    with _opened() as (app, sources):
        who = _reader(app, sources, authority, reader, role, purpose)
        _run(
            lambda: chronology_document(chronology(sources, who, request), Format(fmt)).content,
            output,
        )


@export.command("review-pack")
@reader_options
@click.option("--child", required=True, help="The authority's child id.")
@click.option("--at", "at", type=_INSTANT, required=True, help="T (ISO 8601, offset).")
@click.option("--known-at", type=_INSTANT, default=None, help="Known at (default: T).")
@_FORMAT
def export_review_pack(
    authority: str,
    reader: str,
    role: str,
    purpose: str,
    output: Path | None,
    child: str,
    at: datetime,
    known_at: datetime | None,
    fmt: str,
) -> None:
    """A learning-review pack for a child at an instant T."""
    from application.exports.render import Format, review_document
    from application.exports.review import review_pack

    instant = _instant(at, "--at")
    assert instant is not None
    with _opened() as (app, sources):
        who = _reader(app, sources, authority, reader, role, purpose)
        _run(
            lambda: (
                review_document(
                    review_pack(
                        sources, who, authority, child, instant, _instant(known_at, "--known-at")
                    ),
                    Format(fmt),
                ).content
            ),
            output,
        )


@export.command("decisions")
@reader_options
@click.option("--team", default=None, help="Only children of this team at the decision.")
@click.option("--worker", default=None, help="Only children allocated to them at the decision.")
@click.option("--decider", default=None, help="Only decisions by this staff id.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=LazyChoice(_decision_kinds),
    help="Only these kinds (repeatable).",
)
@click.option("--rule", default=None, help="Only decisions citing this rule ID.")
@click.option("--text", default=None, help="Only decisions holding these words.")
@click.option("--from", "period_from", type=_DAY, default=None, help="First day, YYYY-MM-DD.")
@click.option("--to", "period_to", type=_DAY, default=None, help="Last day, YYYY-MM-DD.")
@click.option("--as-of", type=_INSTANT, default=None, help="Valid time (ISO 8601, offset).")
@click.option("--known-at", type=_INSTANT, default=None, help="System time (ISO 8601, offset).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="json",
    show_default=True,
    help="csv for a spreadsheet, json for a program.",
)
def export_decisions(
    authority: str,
    reader: str,
    role: str,
    purpose: str,
    output: Path | None,
    team: str | None,
    worker: str | None,
    decider: str | None,
    kinds: tuple[str, ...],
    rule: str | None,
    text: str | None,
    period_from: datetime | None,
    period_to: datetime | None,
    as_of: datetime | None,
    known_at: datetime | None,
    fmt: str,
) -> None:
    """Decisions across the authority's children, each linked to its child's chronology."""
    from application.exports.decisions import Filters, decisions
    from application.exports.render import Format, to_csv, to_json

    filters = Filters(
        team=team,
        worker=worker,
        decider=decider,
        kinds=kinds,
        rule=rule,
        text=text,
        period_from=_day(period_from),
        period_to=_day(period_to),
        as_of=_instant(as_of, "--as-of"),
        known_at=_instant(known_at, "--known-at"),
    )
    with _opened() as (app, sources):
        who = _reader(app, sources, authority, reader, role, purpose)

        def work() -> bytes:
            found = decisions(sources, who, authority, filters)
            link = f"oversight export chronology --authority {authority} --child "
            if fmt == Format.JSON.value:
                return to_json(
                    {
                        "document": "decisions",
                        "authority": authority,
                        "decisions": [{**d.__dict__, "chronology": link + d.child} for d in found],
                    }
                )
            columns = (
                "child",
                "occurred_at",
                "recorded_at",
                "kind",
                "entry",
                "decider",
                "role",
                "decision",
                "corrected_to",
                "rules",
                "team",
                "worker",
                "chronology",
            )
            return to_csv(
                [
                    [
                        d.child,
                        d.occurred_at.isoformat(),
                        d.recorded_at.isoformat(),
                        d.kind,
                        d.entry or "",
                        d.decider,
                        d.role,
                        d.decision,
                        d.corrected_to or "",
                        " ".join(d.rules),
                        d.team or "",
                        d.worker or "",
                        link + d.child,
                    ]
                    for d in found
                ],
                columns,
            )

        _run(work, output)


@export.command("sample-pack")
@reader_options
@click.option("--team", required=True, help="The team whose cases are sampled.")
@click.option("--from", "period_from", type=_DAY, required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "period_to", type=_DAY, required=True, help="Last day, YYYY-MM-DD.")
@click.option("--size", default=5, show_default=True, help="How many cases to sample.")
@click.option("--seed", default=1, show_default=True, help="The sample's seed: repeat it.")
def export_sample_pack(
    authority: str,
    reader: str,
    role: str,
    purpose: str,
    output: Path | None,
    team: str,
    period_from: datetime,
    period_to: datetime,
    size: int,
    seed: int,
) -> None:
    """An auditor's sample pack (a zip): N cases of a team sampled with a seed, their
    chronologies, the team's supervision tracking sheets, and an index."""
    from application.exports.archive import sample_archive
    from application.exports.sample import sample_pack

    with _opened() as (app, sources):
        who = _reader(app, sources, authority, reader, role, purpose)

        def work() -> bytes:
            with progress("cases", size, "cases") as update:
                return _sample(update)

        def _sample(update: Callable[[int, int], None]) -> bytes:
            pack = sample_pack(
                sources,
                who,
                authority,
                team,
                period_from.date(),
                period_to.date(),
                size=size,
                seed=seed,
                progress=update,
            )
            return sample_archive(pack)

        _run(work, output)
