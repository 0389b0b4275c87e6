"""``oversight import ...``: sector-format importers (issue 7)."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import click

from application.app import OversightApplication
from domain.errors import DomainError
from domain.identifiers import authority_id
from domain.provenance import Actor
from domain.vocabulary import (
    RiskLevel,
    Role,
)
from oversight.importers.annex_a import WorkbookError, import_annex_a
from oversight.importers.ssda903 import ImportReport, RowError, import_ssda903
from oversight.importers.workforce import CensusError, import_workforce
from oversight.schema import SchemaOutOfDate
from oversight.settings import Settings, SettingsError
from oversight.wiring import open_application


@contextlib.contextmanager
def _importing(authority: str, actor_id: str) -> Iterator[tuple[OversightApplication, Actor]]:
    """The application and the importing actor for an existing authority; closed after,
    and any refusal (settings, schema, authority, file) a clean error."""
    try:
        settings = Settings.from_env()
        authority_id(authority)
        app = open_application(settings)
    except (SettingsError, SchemaOutOfDate, DomainError) as error:
        raise click.ClickException(str(error)) from None
    try:
        app.get_authority(authority)
        yield app, Actor(actor_id, Role.IMPORTER, authority)
    except (RowError, CensusError, WorkbookError, DomainError) as error:  # a file unread
        raise click.ClickException(str(error)) from None
    finally:
        app.close()


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar, and the callback an importer moves it with."""
    with click.progressbar(length=1, label=label) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        yield progress


@click.group("import")
def import_group() -> None:
    """Import the data case-management systems already export."""


def _print(report: ImportReport, rejections: Path | None) -> None:
    for name, read in report.read.items():
        click.echo(
            f"{name:<14} rows {read:>7}  accepted {report.accepted.get(name, 0):>7}  "
            f"rejected {report.rejected_in(name):>6}"
        )
    click.echo(f"events recorded {report.recorded}, already recorded (replayed) {report.replayed}")
    for rejection in report.rejected[:20]:
        where = f"{rejection.file}:{rejection.line}" if rejection.line else rejection.file
        click.echo(f"rejected {where} child {rejection.child}: {rejection.reason}")
    if len(report.rejected) > 20:
        click.echo(f"... and {len(report.rejected) - 20} more (--rejections FILE lists all)")
    if rejections is not None:
        with rejections.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "line", "child", "reason"])
            for r in report.rejected:
                writer.writerow([r.file, r.line, r.child or "", r.reason])
        click.echo(f"rejections written to {rejections}")


@import_group.command("ssda903")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--authority", required=True, help="The authority the children belong to.")
@click.option(
    "--risk-level",
    required=True,
    type=click.Choice([r.value for r in RiskLevel]),
    help="SSDA903 carries no risk level: the level to record for each child.",
)
@click.option("--actor", "actor_id", default="IMPORT", show_default=True, help="Who imports.")
@click.option("--rejections", type=click.Path(dir_okay=False, path_type=Path), default=None)
def ssda903(
    directory: Path, authority: str, risk_level: str, actor_id: str, rejections: Path | None
) -> None:
    """SSDA903 header.csv, episodes.csv and reviews.csv (and oc3.csv, care leavers,
    where it is there): children looked after, their care episodes, reviews, and those
    who left care as care leavers. Running it again records nothing new."""
    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_ssda903(
            app,
            directory,
            authority=authority,
            actor=actor,
            risk_level=risk_level,
            progress=progress,
        )
    _print(report, rejections)


@import_group.command("workforce")
@click.argument("census", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--authority", required=True, help="The authority the workers belong to.")
@click.option(
    "--team",
    default="Not in the workforce census",
    show_default=True,
    help="The census has no teams: the team to record for each worker.",
)
@click.option("--actor", "actor_id", default="IMPORT", show_default=True, help="Who imports.")
def workforce(census: Path, authority: str, team: str, actor_id: str) -> None:
    """Children's Social Work Workforce census XML: social workers with FTE, agency flag,
    role and role start, and leavers. Running it again records nothing new."""
    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_workforce(
            app, census, authority=authority, actor=actor, team=team, progress=progress
        )
    click.echo(
        f"workers {report.read}  accepted {report.accepted}  rejected {len(report.rejected)}"
    )
    click.echo(f"events recorded {report.recorded}, already recorded (replayed) {report.replayed}")
    for rejection in report.rejected:
        click.echo(f"rejected worker {rejection.worker} ({rejection.staff_id}): {rejection.reason}")


def _workers(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"name", "staff_id"} <= set(reader.fieldnames or []):
            raise click.BadParameter("a CSV with columns name,staff_id", param_hint="--workers")
        return {row["name"]: row["staff_id"] for row in reader if row["name"] and row["staff_id"]}


@import_group.command("annex-a")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--authority", required=True, help="The authority the children belong to.")
@click.option("--as-of", "as_of", required=True, help="The day the workbook describes.")
@click.option(
    "--risk-level",
    required=True,
    type=click.Choice([r.value for r in RiskLevel]),
    help="Annex A carries no risk level: the level to record for each new child.",
)
@click.option(
    "--workers",
    "workers_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV name,staff_id: the staff id of each Allocated Worker name.",
)
@click.option("--actor", "actor_id", default="IMPORT", show_default=True, help="Who imports.")
def annex_a(
    workbook: Path,
    authority: str,
    as_of: str,
    risk_level: str,
    workers_csv: Path | None,
    actor_id: str,
) -> None:
    """Ofsted Annex A workbook (lists 3 to 9, read by their column headers): children,
    case types, allocated team and worker. Running it again records nothing new."""
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD", param_hint="--as-of") from None
    names = _workers(workers_csv)
    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_annex_a(
            app, workbook, authority=authority, actor=actor, as_of=day,
            risk_level=risk_level, workers=names, progress=progress,
        )  # fmt: skip
    for sheet, kind in report.sheets.items():
        click.echo(f"{sheet:<10} {kind}")
    click.echo(
        f"rows {report.read}  children {report.children}  rejected {len(report.rejected)}  "
        f"left unallocated {len(report.unallocated)}"
    )
    click.echo(f"events recorded {report.recorded}, already recorded (replayed) {report.replayed}")
    for note in [*report.rejected, *report.unallocated][:30]:
        click.echo(f"{note.sheet} row {note.row} child {note.child}: {note.reason}")
