"""Ofsted Annex A workbook import (issue 7): children, their case type, and their
allocated team and worker.

Sheets are recognised by their column headers, not their names or positions, because
layouts differ between years. The lists imported, and the case type each gives:

| list | recognised by | case type |
|---|---|---|
| 3 referrals | "Date of Referral" | assessment |
| 4 assessments | "Continuous Assessment Start Date" | assessment |
| 5 section 47 enquiries | "Section 47 Enquiry Start Date" | assessment |
| 6 children in need | "CIN Start Date" | cin |
| 7 child protection plans | "Child Protection Plan Start Date" | cp |
| 8 children in care | "Date Started to be Looked After" | cla |
| 9 care leavers | "Eligibility Category" | care_leaver |

Care leavers have no start date in the list: they are registered at their date of birth.
Lists 1, 2, 10 and 11 (contacts, early help, adoption, adopters) are not imported. A
child on several lists takes the case type of the latest stage (care leaver, in care,
child protection, in need, assessment) and that list's allocated team and worker. The
child is registered at the list's own start date, imported; its team and worker are
allocated on the day the workbook describes (``as_of``). "Allocated Worker" is a name:
``workers`` maps names to the staff ids of workers already recorded (the workforce
census import, say); an unmapped name leaves the child unallocated and the report says
so. A child already recorded (by an SSDA903 import, say) keeps its registration, and
its team or worker is allocated only where it differs.

It runs as a job (``jobs.py``, ADR 0025): each sheet a file of the report, its rows
read = accepted + rejected (a row of a child whose later-stage list is imported is
accepted: its child is imported from that list). A child's identity is its Child Unique
ID; command ids come from it and the values, so a second import writes nothing, and a
corrected workbook records the change (another case type: ``ChangeCaseType``; another
team or worker: the allocation), not a second registration. A file that is not an xlsx
workbook (or is empty, too large, or a CSV renamed) is a ``WorkbookError`` naming it,
before anything is written. Rejections name the importer's own rules (``ANNEXA-...``)
or the domain's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.events import (
    CaseTypeChanged,
    ChildRegistered,
    TeamAllocated,
    WorkerAllocated,
)
from domain.identifiers import check_local_id
from domain.provenance import Actor
from oversight.importers.jobs import MAX_BYTES, FileProblem, Job, JobReport, Progress, Step

#: (a header that marks the list, whether it is the list's start date, its case type,
#: how late a stage it is)
LISTS = (
    ("Eligibility Category", False, "care_leaver", 5),
    ("Date Started to be Looked After", True, "cla", 4),
    ("Child Protection Plan Start Date", True, "cp", 3),
    ("CIN Start Date", True, "cin", 2),
    ("Section 47 Enquiry Start Date", True, "assessment", 1),
    ("Continuous Assessment Start Date", True, "assessment", 1),
    ("Date of Referral", True, "assessment", 0),
)
CHILD, BORN, TEAM, WORKER = "Child Unique ID", "Date of Birth", "Allocated Team", "Allocated Worker"
MISSING = {"", "#N/A", "N/A", "NONE", "NULL"}


class WorkbookError(FileProblem):
    """A workbook that cannot be read at all."""


@dataclass
class _Child:
    child: str
    born: date
    case_type: str
    stage: int
    start: date
    team: str | None
    worker: str | None
    sheet: str
    row: int


def _clean(value: Any) -> str:
    text = re.sub(r"\s+", " ", str(value if value is not None else "")).strip()
    return "" if text.upper() in MISSING else text


def _day(value: Any, column: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _clean(value)
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{column}: {text!r} is not a date")


def _sheets(path: Path) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """Every sheet's title, header and rows, read whole before anything is imported: a
    sheet that cannot be parsed (truncated, or XML with entities: openpyxl reads it with
    defusedxml) refuses the workbook, naming it."""
    try:
        return [(title, header, list(rows)) for title, header, rows in _read_sheets(path)]
    except WorkbookError:
        raise
    except Exception as error:  # openpyxl and its XML parsers raise many kinds
        raise WorkbookError(path.name, f"a sheet cannot be read ({error})") from None


def _read_sheets(path: Path) -> Iterator[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise WorkbookError(path.name, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    if size == 0:
        raise WorkbookError(path.name, "is empty: not an xlsx workbook")
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise WorkbookError(path.name, "not an xlsx workbook (a CSV or other text?)")
    with path.open("rb") as handle:  # closed here even when openpyxl gives up on it
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
            raise WorkbookError(path.name, f"not an xlsx workbook ({error})") from None
        try:
            for sheet in workbook.worksheets:
                rows = sheet.iter_rows(values_only=True)
                header = next(rows, None)
                if header is None:
                    continue
                yield sheet.title, [_clean(h) for h in header], rows
        finally:
            workbook.close()


def _kind(header: list[str]) -> tuple[str | None, str, int] | None:
    """The list's start-date column (None: it has none), case type and stage."""
    for marker, dated, case_type, stage in LISTS:
        column = next((h for h in header if marker.lower() in h.lower()), None)
        if column is not None:
            return (column if dated else None), case_type, stage
    return None


def read_children(path: Path, job: Job) -> tuple[dict[str, _Child], list[tuple[str, int]]]:
    """Each child at its latest stage, and every other row accepted as covered by it."""
    found: dict[str, _Child] = {}
    covered: list[tuple[str, int]] = []
    for title, header, rows in _sheets(path):
        kind = _kind(header)
        if kind is None or CHILD not in header or BORN not in header:
            job.note(title, 0, None, "ANNEXA-LIST", "not imported: not a list this import reads")
            continue
        start_column, case_type, stage = kind
        for number, row in enumerate(rows, start=2):
            values = dict(zip(header, row, strict=False))
            if not any(v is not None for v in row):
                continue
            job.read(title, [("list", case_type)])
            child = _clean(values.get(CHILD))
            try:
                if not child:
                    raise ValueError(f"{CHILD}: missing")
                if child.endswith(".0"):
                    child = child[:-2]
                check_local_id(child, field=CHILD)
                born = _day(values.get(BORN), BORN)
                if born is None:
                    raise ValueError(f"{BORN}: missing")
                start = (
                    _day(values.get(start_column), start_column) if start_column else None
                ) or born
            except (ValueError, DomainError) as error:
                job.reject(title, number, child or None, "ANNEXA-ROW", str(error),
                           [("list", case_type)])  # fmt: skip
                continue
            team = _clean(values.get(TEAM))
            worker = _clean(values.get(WORKER))
            seen = found.get(child)
            if seen is not None and seen.stage >= stage:
                covered.append((title, number))
                continue
            if seen is not None:
                covered.append((seen.sheet, seen.row))
            found[child] = _Child(
                child, born, case_type, stage, max(start, born), team or None, worker or None,
                title, number,
            )  # fmt: skip
    return found, covered


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-").lower()[:60]


def import_annex_a(
    app: OversightApplication,
    path: Path,
    *,
    authority: str,
    actor: Actor,
    as_of: date,
    risk_level: str,
    workers: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> JobReport:
    job = Job(app, importer="annex-a", dry_run=dry_run, correct=_correction)
    children, covered = read_children(path, job)
    for sheet, _row in covered:
        job.accept(sheet)
    names = {_clean(k).lower(): v for k, v in (workers or {}).items()}
    when = datetime.combine(as_of, time(12), tzinfo=UTC)
    for index, item in enumerate(sorted(children.values(), key=lambda i: i.child), start=1):
        steps = _steps(job.view, item, authority, actor, when, risk_level, names, job)
        job.run(item.sheet, item.row, item.child, steps, [("list", item.case_type)])
        if progress is not None and (index % 200 == 0 or index == len(children)):
            progress(index, len(children))
    return job.finish()


def _steps(
    app: OversightApplication,
    item: _Child,
    authority: str,
    actor: Actor,
    when: datetime,
    risk_level: str,
    names: Mapping[str, str],
    job: Job,
) -> list[Step]:
    """The child's registration (unless another import recorded it), and its team and
    worker where they differ from what is recorded."""
    key = f"annexa-{authority}-{item.child}"
    registration = c.RegisterChild(
        command_id=f"{key}-registered",
        actor=actor,
        occurred_at=datetime.combine(item.start, time(12), tzinfo=UTC),
        imported=True,
        child_id=item.child,
        date_of_birth=item.born,
        expected_date_of_birth=None,
        case_type=item.case_type,
        risk_level=risk_level,
        rag=None,
        name=None,
    )
    team_command = (
        c.AllocateTeam(
            command_id=f"{key}-team-{_slug(item.team)}", actor=actor, occurred_at=when,
            imported=True, child_id=item.child, team=item.team,
        )
        if item.team
        else None
    )  # fmt: skip
    staff_id = names.get(item.worker.lower()) if item.worker else None
    if item.worker and staff_id is None:
        job.note(
            item.sheet, item.row, item.child, "ANNEXA-WORKER",
            f"no staff id for allocated worker {item.worker!r}: map it with --workers",
        )  # fmt: skip
    worker_command = (
        c.AllocateWorker(
            command_id=f"{key}-worker-{_slug(staff_id)}", actor=actor, occurred_at=when,
            imported=True, child_id=item.child, worker_id=staff_id, reason="NEW",
            team=item.team or "Not in Annex A",
        )
        if staff_id is not None
        else None
    )  # fmt: skip
    # What is recorded already: a step this import ran before replays; one that would
    # allocate what is allocated already (by another import, say) is left out.
    team, worker_id, exists = None, None, app.child_exists(authority, item.child)
    if exists:
        child = app.get_child(authority, item.child)
        team, worker_id = child.team, child.allocated_worker_id
    ran = app.command_log.select_command_receipts(
        authority,
        [x.command_id for x in (registration, team_command, worker_command) if x is not None],
    )
    steps: list[Step] = []
    if registration.command_id in ran or not exists:
        steps.append(Step(registration, ChildRegistered, ("list", item.case_type)))
    if team_command is not None and (team_command.command_id in ran or item.team != team):
        steps.append(Step(team_command, TeamAllocated))
    if worker_command is not None and (worker_command.command_id in ran or staff_id != worker_id):
        steps.append(Step(worker_command, WorkerAllocated))
    return steps


def _correction(step: Step, app: OversightApplication) -> list[Step] | None:
    """A child registered before by this import with other values: the case type this
    workbook gives, recorded as a change."""
    command = step.command
    if not isinstance(command, c.RegisterChild):
        return None
    child = app.get_child(command.actor.authority_id, command.child_id)
    if child.case_type.value == command.case_type:
        return []
    change = c.ChangeCaseType(
        command_id=f"{command.command_id}-case-type-{command.case_type}",
        actor=command.actor,
        occurred_at=command.occurred_at,
        imported=True,
        child_id=command.child_id,
        case_type=command.case_type,
    )
    return [Step(change, CaseTypeChanged, step.code)]
