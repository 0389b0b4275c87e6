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
so. A child already recorded (by an SSDA903 import, say) keeps its registration.
Command ids come from the child and the values, so a second import writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from application.app import OversightApplication
from domain import commands as c
from domain.errors import AlreadyExists, DomainError
from domain.identifiers import check_local_id
from domain.provenance import Actor

MAX_BYTES = 50 * 1024 * 1024
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


class WorkbookError(ValueError):
    """A workbook that cannot be read at all."""


@dataclass(frozen=True)
class Note:
    sheet: str
    row: int
    child: str | None
    reason: str


@dataclass
class AnnexAReport:
    sheets: dict[str, str] = field(default_factory=dict)  # sheet -> case type, or why not
    read: int = 0
    children: int = 0
    rejected: list[Note] = field(default_factory=list)
    unallocated: list[Note] = field(default_factory=list)
    recorded: int = 0
    replayed: int = 0


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


def _sheets(path: Path) -> Iterator[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    if path.stat().st_size > MAX_BYTES:
        raise WorkbookError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        raise WorkbookError(f"{path.name}: not an xlsx workbook ({error})") from None
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


def read_children(path: Path, report: AnnexAReport) -> dict[str, _Child]:
    found: dict[str, _Child] = {}
    for title, header, rows in _sheets(path):
        kind = _kind(header)
        if kind is None or CHILD not in header or BORN not in header:
            report.sheets[title] = "not imported (not a list of children this import reads)"
            continue
        start_column, case_type, stage = kind
        report.sheets[title] = case_type
        for number, row in enumerate(rows, start=2):
            values = dict(zip(header, row, strict=False))
            if not any(v is not None for v in row):
                continue
            report.read += 1
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
                report.rejected.append(Note(title, number, child or None, str(error)))
                continue
            team = _clean(values.get(TEAM))
            worker = _clean(values.get(WORKER))
            seen = found.get(child)
            if seen is not None and seen.stage >= stage:
                continue
            found[child] = _Child(
                child, born, case_type, stage, max(start, born), team or None, worker or None,
                title, number,
            )  # fmt: skip
    return found


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
    progress: Callable[[int, int], None] | None = None,
) -> AnnexAReport:
    report = AnnexAReport()
    children = read_children(path, report)
    report.children = len(children)
    names = {_clean(k).lower(): v for k, v in (workers or {}).items()}
    when = datetime.combine(as_of, time(12), tzinfo=UTC)
    for index, item in enumerate(sorted(children.values(), key=lambda i: i.child), start=1):
        key = f"annexa-{authority}-{item.child}"
        steps: list[c.Command] = [
            c.RegisterChild(
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
        ]
        if item.team:
            steps.append(
                c.AllocateTeam(
                    command_id=f"{key}-team-{_slug(item.team)}",
                    actor=actor,
                    occurred_at=when,
                    imported=True,
                    child_id=item.child,
                    team=item.team,
                )
            )
        staff_id = names.get(item.worker.lower()) if item.worker else None
        if item.worker and staff_id is None:
            report.unallocated.append(
                Note(
                    item.sheet,
                    item.row,
                    item.child,
                    f"no staff id for allocated worker {item.worker!r}: map it with --workers",
                )
            )
        elif staff_id is not None:
            steps.append(
                c.AllocateWorker(
                    command_id=f"{key}-worker-{_slug(staff_id)}",
                    actor=actor,
                    occurred_at=when,
                    imported=True,
                    child_id=item.child,
                    worker_id=staff_id,
                    reason="NEW",
                    team=item.team or "Not in Annex A",
                )
            )
        for step in steps:
            try:
                result = app.execute(step, retries=2)
            except AlreadyExists:
                continue  # recorded before (an SSDA903 import): its registration stands
            except DomainError as error:
                if isinstance(step, c.AllocateTeam | c.AllocateWorker) and (
                    "already" in error.message
                ):
                    continue  # allocated so already: nothing to change
                report.rejected.append(
                    Note(item.sheet, item.row, item.child, f"{type(step).__name__}: {error}")
                )
                break
            if result.replayed:
                report.replayed += 1
            else:
                report.recorded += 1
        if progress is not None and (index % 200 == 0 or index == len(children)):
            progress(index, len(children))
    return report
