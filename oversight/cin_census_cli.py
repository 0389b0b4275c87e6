"""``oversight import cin-census FILE``: the DfE Children in Need census (issue 21, ADR 0026).

Registers on ``import_group`` when imported (``oversight/cli.py`` imports this module).
Exit status: 0 when every child is accepted, 1 when the census's rules or the domain
rejected some children (the others are imported), 2 when nothing could be imported: the
file is not a readable census (named, with the problem, on one line) or the store or the
authority cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from domain.vocabulary import RiskLevel
from oversight.import_cli import _importing, _print, _progress, import_group
from oversight.importers.cin_census import CensusFileError, import_cin_census

#: Exit statuses: some children rejected; nothing imported (the file or the store).
REJECTED, FAILED = 1, 2


@import_group.command("cin-census")
@click.argument("census", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--authority", required=True, help="The authority the children belong to.")
@click.option(
    "--risk-level",
    default=RiskLevel.MEDIUM.value,
    show_default=True,
    type=click.Choice([r.value for r in RiskLevel]),
    help="The census carries no risk level: the level to record for each new child.",
)
@click.option("--actor", "actor_id", default="IMPORT", show_default=True, help="Who imports.")
@click.option("--dry-run", is_flag=True, help="Decide every child and write nothing.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every rejection (file, position, child, reason) to this CSV.",
)
def cin_census(
    census: Path,
    authority: str,
    risk_level: str,
    actor_id: str,
    dry_run: bool,
    report_file: Path | None,
) -> None:
    """DfE Children in Need census XML: referrals, assessments, section 47 enquiries,
    initial child protection conferences, child protection plans and their reviews, CIN
    plans and closures, as events on each child. Running it again records nothing new;
    a corrected census records corrections."""
    if not census.is_file():
        _fail(f"{census}: {'not a file' if census.exists() else 'no such file'}")
    try:
        with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
            report = import_cin_census(
                app,
                census,
                authority=authority,
                actor=actor,
                risk_level=risk_level,
                dry_run=dry_run,
                progress=progress,
            )
    except CensusFileError as error:
        _fail(str(error))
    except click.ClickException as error:  # the store, the schema or the authority
        _fail(error.format_message())
    if dry_run:
        click.echo("dry run: nothing was written; a run would record what follows")
    _print(report, report_file)
    if report.rejected:
        raise SystemExit(REJECTED)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(FAILED)


__all__ = ["cin_census"]
