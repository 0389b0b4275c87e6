"""``oversight import ...``: sector-format importers, each run as a job (issues 7 and 21,
ADR 0025): ``--dry-run``, ``--report FILE`` (CSV, or JSON by its suffix), progress on
standard error (``oversight.grammar.progress``), and an exit status in the CLI's grammar
(docs/cli.md) that tells rejections from failure: 0 every row accepted, 4 finished with
rows rejected (the others written), 1 failed (nothing written: a file that cannot be
read, a setting, a race), 3 no such authority or file; each error one line naming the
file and the problem."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from domain.errors import DomainError
from domain.identifiers import authority_id
from domain.provenance import Actor
from domain.vocabulary import (
    RiskLevel,
    Role,
)
from oversight.catch_up import catch_up_after_import
from oversight.grammar import REJECTED, Failure, progress, refused
from oversight.settings import Settings, SettingsError

if TYPE_CHECKING:
    from application.app import OversightApplication
    from oversight.importers.jobs import JobReport


class ImportFailed(Failure):
    """An import that could not run at all: nothing was written (exit status 1)."""


@contextlib.contextmanager
def _importing(authority: str, actor_id: str) -> Iterator[tuple[OversightApplication, Actor]]:
    """The application and the importing actor for an existing authority; closed after,
    and any refusal (settings, schema, authority, file) a one-line error, exit 2."""
    from oversight.importers.jobs import FileProblem, ImportInterrupted
    from oversight.schema import SchemaOutOfDate
    from oversight.wiring import open_application

    try:
        settings = Settings.from_env()
        authority_id(authority)
        app = open_application(settings)
    except (SettingsError, SchemaOutOfDate) as error:
        raise ImportFailed(str(error)) from None
    except DomainError as error:  # the authority's code
        raise refused(error) from None
    try:
        app.get_authority(authority)
        yield app, Actor(actor_id, Role.IMPORTER, authority)
    except (FileProblem, ImportInterrupted) as error:  # a file, a race
        raise ImportFailed(str(error)) from None
    except DomainError as error:  # the authority
        raise refused(error) from None
    finally:
        app.close()


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """Rows read so far, as the CLI shows every long step's progress."""
    with progress(label, unit="rows") as update:
        yield update


def _dry_run(function: Callable[..., None]) -> Callable[..., None]:
    """The options every import takes."""
    function = click.option(
        "--report",
        "report_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the report here: JSON if FILE ends .json, CSV otherwise.",
    )(function)
    function = click.option(
        "--projections/--no-projections",
        default=True,
        show_default=True,
        expose_value=False,
        callback=_remember_projections,
        help="Bring the projections up to date after writing (as `oversight projections "
        "run --once`), so the findings include the import.",
    )(function)
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Read and check every row against the domain, in memory: write nothing.",
    )(function)


def _remember_projections(context: click.Context, _: click.Parameter, value: bool) -> bool:
    context.meta["oversight.import.projections"] = value
    return value


@click.group("import")
def import_group() -> None:
    """Import the data case-management systems already export.

    Exit status: 0 every row accepted, 4 finished with rows rejected (see the report),
    1 failed: nothing written, 3 no such authority or file."""


def _finish(report: JobReport, report_file: Path | None, rejections: Path | None = None) -> None:
    """Print the report, write it where asked, and exit with its status."""
    if report.dry_run:
        click.echo("dry run: nothing was written")
    for name, read in report.read.items():
        click.echo(
            f"{name:<14} rows {read:>7}  accepted {report.accepted.get(name, 0):>7}  "
            f"rejected {report.rejected_in(name):>6}"
        )
    click.echo(
        f"events recorded {report.recorded}, already recorded (replayed) {report.replayed}, "
        f"corrections {report.corrections}"
    )
    for rejection in report.rejected[:20]:
        click.echo(f"rejected {rejection}")
    if len(report.rejected) > 20:
        click.echo(f"... and {len(report.rejected) - 20} more (--report FILE lists all)")
    for note in report.notes[:20]:
        click.echo(f"note {note}")
    if rejections is not None:
        with rejections.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "line", "child", "rule", "reason"])
            for r in report.rejected:
                writer.writerow([r.file, r.row, r.subject or "", r.rule, r.message])
        click.echo(f"rejections written to {rejections}")
    if report_file is not None:
        report.write(report_file)
        click.echo(f"report written to {report_file}")
    context = click.get_current_context()
    if report.dry_run or not (report.recorded or report.corrections):
        pass
    elif context.meta.get("oversight.import.projections", True):
        catch_up_after_import()
    else:
        click.echo("projections not run: run `oversight projections run --once` (or keep a runner)")
    context.exit(REJECTED if report.rejected else 0)


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
@click.option(
    "--rejections",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rejected rows here, as CSV.",
)
@_dry_run
def ssda903(
    directory: Path,
    authority: str,
    risk_level: str,
    actor_id: str,
    rejections: Path | None,
    dry_run: bool,
    report_file: Path | None,
) -> None:
    """SSDA903 header.csv, episodes.csv and reviews.csv (and missing.csv and oc3.csv,
    care leavers, where they are there), read by the return's own codes: children looked
    after, their episodes, reviews, missing periods, and those who left care as care
    leavers. Each row breaking a DfE validation rule is rejected with the rule's code.
    Running it again records nothing new; a corrected file records corrections."""
    from oversight.importers.ssda903 import import_ssda903

    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_ssda903(
            app,
            directory,
            authority=authority,
            actor=actor,
            risk_level=risk_level,
            dry_run=dry_run,
            progress=progress,
        )
    _finish(report, report_file, rejections)


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
@_dry_run
def workforce(
    census: Path,
    authority: str,
    team: str,
    actor_id: str,
    dry_run: bool,
    report_file: Path | None,
) -> None:
    """Children's Social Work Workforce census XML: social workers with FTE, agency flag,
    role and role start, and leavers. Running it again records nothing new; a corrected
    census records the changes (role, working pattern)."""
    from oversight.importers.workforce import import_workforce

    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_workforce(
            app, census, authority=authority, actor=actor, team=team, dry_run=dry_run,
            progress=progress,
        )  # fmt: skip
    _finish(report, report_file)


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
@_dry_run
def annex_a(
    workbook: Path,
    authority: str,
    as_of: str,
    risk_level: str,
    workers_csv: Path | None,
    actor_id: str,
    dry_run: bool,
    report_file: Path | None,
) -> None:
    """Ofsted Annex A workbook (lists 3 to 9, read by their column headers): children,
    case types, allocated team and worker. Running it again records nothing new; a
    corrected workbook records the changes (case type, team, worker)."""
    from oversight.importers.annex_a import import_annex_a

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter("a date, YYYY-MM-DD", param_hint="--as-of") from None
    try:
        names = _workers(workers_csv)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportFailed(f"{workers_csv}: not a UTF-8 CSV ({error})") from None
    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        report = import_annex_a(
            app, workbook, authority=authority, actor=actor, as_of=day,
            risk_level=risk_level, workers=names, dry_run=dry_run, progress=progress,
        )  # fmt: skip
    _finish(report, report_file)
