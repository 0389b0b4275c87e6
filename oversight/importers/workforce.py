"""Children's Social Work Workforce census XML import (issue 7): the authority's social
workers, with their FTE (below 1: part-time), agency flag, role and role start, and
their leaving date where the census gives one.

Per ``<CSWWWorker>``:

- ``SWENo`` (Social Work England number) is the staff id; the census carries no name,
  so the display name is the number too, and no team (``--team`` names the one to
  record).
- ``OrgRole`` 1 senior manager (head of service), 2 middle manager (service manager),
  3 first line manager (team manager), 4 senior practitioner (practice supervisor),
  5 case holder (social worker), 6 qualified, no cases (social worker, not holding
  cases). Case holders and senior practitioners hold cases. Without a role, a social
  worker holding cases if ``Cases30`` is above 0 (the report notes each such worker).
- ``FTE`` (or ``FTE30`` when ``FTE`` is 0, as for leavers): 1 is full time, below 1
  part time [DEV-4.1b, DUR-4.2]; ``AgencyWorker`` 1 is an agency engagement.
- ``RoleStartDate`` is the start and the registration's ``occurred_at``;
  ``RoleEndDate``, when not after today, records the leaving with ``ReasonLeave``.

Identity, sex, ethnicity and birth date are not read: case oversight does not need them.
A document with a DTD is refused before it is parsed (no entity expansion: billion
laughs, external entities), and so is an empty, truncated or not well-formed one, or
one without the census's root: a ``CensusError`` naming the file, before anything is
written. A worker's identity is the SWE number and the role start date: command ids
come from it, so a second import replays and writes nothing, and a corrected census
(another role or FTE for the same worker and start) records the change
(``ChangeRole``, ``ChangeWorkingPattern``), not a second registration. It runs as a job
(``jobs.py``, ADR 0025): one report, dry run, exit status; a rejected worker names the
rule (``CSWW-...``: the census's own fields, the importer's rules) or the domain's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.events import (
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkingPatternChanged,
)
from domain.identifiers import check_local_id
from domain.provenance import Actor
from oversight.importers.jobs import MAX_BYTES, FileProblem, Job, JobReport, Progress, Step

ROLES = {
    "1": ("head_of_service", False),
    "2": ("service_manager", False),
    "3": ("team_manager", False),
    "4": ("practice_supervisor", True),
    "5": ("social_worker", True),
    "6": ("social_worker", False),
}


class CensusError(FileProblem):
    """A census file that cannot be read at all."""


class WorkerError(ValueError):
    """A worker's entry that breaks a rule: the rule, the field and why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _text(worker: ET.Element, tag: str) -> str:
    return (worker.findtext(tag) or "").strip()


def _day(worker: ET.Element, tag: str, *, required: bool) -> date | None:
    value = _text(worker, tag)
    if not value:
        if required:
            raise WorkerError("CSWW-DATE", f"{tag}: missing")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WorkerError("CSWW-DATE", f"{tag}: {value!r} is not a date yyyy-mm-dd") from None


def _fte(worker: ET.Element) -> Decimal:
    for tag in ("FTE", "FTE30"):
        value = _text(worker, tag)
        if not value:
            continue
        try:
            fte = Decimal(value)
        except InvalidOperation:
            raise WorkerError("CSWW-FTE", f"{tag}: {value!r} is not a number") from None
        if fte > 0:
            return min(fte, Decimal(1)).quantize(Decimal("0.01"))
    raise WorkerError("CSWW-FTE", "FTE: neither FTE nor FTE30 is above 0")


def parse(path: Path) -> list[ET.Element]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CensusError(path.name, f"cannot be read ({error.strerror or error})") from None
    if len(raw) > MAX_BYTES:
        raise CensusError(path.name, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not raw.strip():
        raise CensusError(path.name, "is empty: not a workforce census")
    upper = raw.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise CensusError(path.name, "a census file has no DTD or entities (refused unread)")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        raise CensusError(path.name, f"not well-formed XML ({error})") from None
    if root.tag != "Message":
        raise CensusError(path.name, f"not a workforce census (root <{root.tag}>)")
    return root.findall("CSWWWorker")


def import_workforce(
    app: OversightApplication,
    path: Path,
    *,
    authority: str,
    actor: Actor,
    team: str,
    today: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> JobReport:
    """The census's workers into ``authority``: one row per ``<CSWWWorker>``, numbered
    from 1 in the file."""
    workers = parse(path)
    job = Job(app, importer="workforce", dry_run=dry_run, correct=_correction)
    until = today or datetime.now(UTC).date()
    for index, worker in enumerate(workers, start=1):
        staff_id = _text(worker, "SWENo") or None
        job.read(path.name)
        notes: list[str] = []
        try:
            steps = _steps(worker, authority, actor, team, until, notes)
        except WorkerError as error:
            job.reject(path.name, index, staff_id, error.rule, str(error))
        except DomainError as error:
            job.reject(path.name, index, staff_id, error.rule or error.code, str(error))
        else:
            if job.run(path.name, index, staff_id, steps):
                for note in notes:
                    job.note(path.name, index, staff_id, "CSWW-OrgRole", note)
        if progress is not None:
            progress(index, len(workers))
    return job.finish()


def _correction(step: Step, app: OversightApplication) -> list[Step] | None:
    """A worker registered before (the same SWE number and start) with other values:
    the role and working pattern this census gives, recorded as changes."""
    command = step.command
    if not isinstance(command, c.RegisterWorker):
        return None
    try:
        worker = app.get_worker(command.actor.authority_id, command.staff_id)
    except DomainError:
        return None
    employment = worker.employment
    key = command.command_id
    found: list[Step] = []
    actor, at = command.actor, command.occurred_at
    if employment.role.value != command.role:
        found.append(
            Step(
                c.ChangeRole(
                    command_id=f"{key}-role-{command.role}", staff_id=command.staff_id,
                    role=command.role, actor=actor, occurred_at=at, imported=True,
                ),
                WorkerRoleChanged,
            )
        )  # fmt: skip
    if (employment.fte, employment.pattern.value) != (
        command.fte,
        command.employment_pattern,
    ):
        found.append(
            Step(
                c.ChangeWorkingPattern(
                    command_id=f"{key}-fte-{command.fte}", staff_id=command.staff_id,
                    employment_pattern=command.employment_pattern, fte=command.fte, actor=actor,
                    occurred_at=at, imported=True,
                ),
                WorkingPatternChanged,
            )
        )  # fmt: skip
    return found


def _steps(
    worker: ET.Element, authority: str, actor: Actor, team: str, until: date, notes: list[str]
) -> list[Step]:
    staff_id = _text(worker, "SWENo")
    if not staff_id:
        raise WorkerError("CSWW-SWENo", "SWENo: missing")
    check_local_id(staff_id, field="SWENo")
    role_code = _text(worker, "OrgRole")
    if role_code and role_code not in ROLES:
        raise WorkerError("CSWW-OrgRole", f"OrgRole: {role_code!r} is not 1-6")
    if role_code:
        role, case_holding = ROLES[role_code]
    else:
        # Everyone in the census is a registered social worker; without a role, their
        # caseload at 30 September says whether they hold cases.
        role, case_holding = "social_worker", _text(worker, "Cases30") not in ("", "0")
        notes.append(
            f"OrgRole missing: recorded as a social worker "
            f"{'holding' if case_holding else 'not holding'} cases (Cases30)"
        )
    start = _day(worker, "RoleStartDate", required=True)
    assert start is not None
    if start > until:
        raise WorkerError("CSWW-DATE", f"RoleStartDate: {start} is after today")
    end = _day(worker, "RoleEndDate", required=False)
    if end is not None and end < start:
        raise WorkerError("CSWW-DATE", "RoleEndDate: before RoleStartDate")
    fte = _fte(worker)
    agency = _text(worker, "AgencyWorker")
    if agency not in ("0", "1", ""):
        raise WorkerError("CSWW-AgencyWorker", f"AgencyWorker: {agency!r} is not 0 or 1")
    key = f"csww-{authority}-{staff_id}"
    found = [
        Step(
            c.RegisterWorker(
                command_id=f"{key}-{start.isoformat()}",
                actor=actor,
                occurred_at=_at(start),
                imported=True,
                staff_id=staff_id,
                display_name=f"SWE {staff_id}",
                role=role,
                team=team,
                line_manager_id=None,
                employment_pattern="full_time" if fte == 1 else "part_time",
                fte=fte,
                engagement="agency" if agency == "1" else "permanent",
                start_date=start,
                case_holding=case_holding,
            ),
            WorkerRegistered,
        )
    ]
    if end is not None and end <= until:
        reason = _text(worker, "ReasonLeave")
        found.append(
            Step(
                c.LeaveEmployment(
                    command_id=f"{key}-left-{end.isoformat()}",
                    actor=actor,
                    occurred_at=_at(end),
                    imported=True,
                    staff_id=staff_id,
                    last_day=end,
                    reason=f"workforce census ReasonLeave {reason or 'not given'}",
                ),
                WorkerLeftEmployment,
            )
        )
    return found
