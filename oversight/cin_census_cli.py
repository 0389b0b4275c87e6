"""``oversight import cin-census FILE``: the DfE Children in Need census (issue 21, ADR 0026),
run as every import is (ADR 0025): ``--dry-run``, ``--report FILE``, a progress bar on a
terminal, and exit status 0 every child accepted, 1 finished with rejections, 2 failed
(the file is not a readable census, or the store or the authority cannot be used: one
line naming the file and the problem, nothing written).

Registers on ``import_group`` when imported (``oversight/cli.py`` imports this module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from domain.vocabulary import RiskLevel
from oversight.grammar import NotFoundError
from oversight.import_cli import (
    ImportFailed,
    _dry_run,
    _finish,
    _importing,
    _progress,
    import_group,
)

if TYPE_CHECKING:
    pass


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
@_dry_run
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
    plans and closures, as events on each child. Each child breaking one of the census's
    validation rules is rejected with the rule's code. Running it again records nothing
    new; a corrected census records corrections."""
    from oversight.importers.cin_census import CensusFileError, import_cin_census

    if not census.is_file():
        if census.exists():
            raise ImportFailed(f"{census}: not a file")
        raise NotFoundError(f"{census}: no such file")
    with _importing(authority, actor_id) as (app, actor), _progress("importing") as progress:
        try:
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
            raise ImportFailed(str(error)) from None
    _finish(report, report_file)


__all__ = ["cin_census"]
