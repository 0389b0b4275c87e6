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
A document with a DTD is refused before it is parsed (no entity expansion), and so is
one without the census's root. Command ids come from the SWE number and the dates, so a
second import replays and writes nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.identifiers import check_local_id
from domain.provenance import Actor

ROLES = {
    "1": ("head_of_service", False),
    "2": ("service_manager", False),
    "3": ("team_manager", False),
    "4": ("practice_supervisor", True),
    "5": ("social_worker", True),
    "6": ("social_worker", False),
}
MAX_BYTES = 50 * 1024 * 1024


class CensusError(ValueError):
    """A census file that cannot be read at all."""


@dataclass(frozen=True)
class Rejection:
    worker: int  # 1-based position of the <CSWWWorker> in the file
    staff_id: str | None
    reason: str


@dataclass
class WorkforceReport:
    read: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: What was inferred for an accepted worker (a missing role, say).
    notes: list[Rejection] = field(default_factory=list)
    recorded: int = 0
    replayed: int = 0


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _text(worker: ET.Element, tag: str) -> str:
    return (worker.findtext(tag) or "").strip()


def _day(worker: ET.Element, tag: str, *, required: bool) -> date | None:
    value = _text(worker, tag)
    if not value:
        if required:
            raise ValueError(f"{tag}: missing")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{tag}: {value!r} is not a date yyyy-mm-dd") from None


def _fte(worker: ET.Element) -> Decimal:
    for tag in ("FTE", "FTE30"):
        value = _text(worker, tag)
        if not value:
            continue
        try:
            fte = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{tag}: {value!r} is not a number") from None
        if fte > 0:
            return min(fte, Decimal(1)).quantize(Decimal("0.01"))
    raise ValueError("FTE: neither FTE nor FTE30 is above 0")


def parse(path: Path) -> list[ET.Element]:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise CensusError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    upper = raw.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise CensusError(f"{path.name}: a census file has no DTD or entities")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        raise CensusError(f"{path.name}: not well-formed XML ({error})") from None
    if root.tag != "Message":
        raise CensusError(f"{path.name}: not a workforce census (root <{root.tag}>)")
    return root.findall("CSWWWorker")


def import_workforce(
    app: OversightApplication,
    path: Path,
    *,
    authority: str,
    actor: Actor,
    team: str,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WorkforceReport:
    workers = parse(path)
    report = WorkforceReport(read=len(workers))
    until = today or datetime.now(UTC).date()
    for index, worker in enumerate(workers, start=1):
        staff_id = _text(worker, "SWENo") or None
        notes: list[str] = []
        try:
            commands = _commands(worker, authority, actor, team, until, notes)
        except (ValueError, DomainError) as error:
            report.rejected.append(Rejection(index, staff_id, str(error)))
            continue
        for command in commands:
            try:
                result = app.execute(command, retries=2)
            except DomainError as error:
                report.rejected.append(
                    Rejection(index, staff_id, f"{type(command).__name__}: {error}")
                )
                break
            if result.replayed:
                report.replayed += 1
            else:
                report.recorded += 1
        else:
            report.accepted += 1
            report.notes.extend(Rejection(index, staff_id, note) for note in notes)
        if progress is not None:
            progress(index, len(workers))
    return report


def _commands(
    worker: ET.Element, authority: str, actor: Actor, team: str, until: date, notes: list[str]
) -> list[c.Command]:
    staff_id = _text(worker, "SWENo")
    if not staff_id:
        raise ValueError("SWENo: missing")
    check_local_id(staff_id, field="SWENo")
    role_code = _text(worker, "OrgRole")
    if role_code and role_code not in ROLES:
        raise ValueError(f"OrgRole: {role_code!r} is not 1-6")
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
    end = _day(worker, "RoleEndDate", required=False)
    if end is not None and end < start:
        raise ValueError("RoleEndDate: before RoleStartDate")
    fte = _fte(worker)
    agency = _text(worker, "AgencyWorker")
    if agency not in ("0", "1", ""):
        raise ValueError(f"AgencyWorker: {agency!r} is not 0 or 1")
    key = f"csww-{authority}-{staff_id}"
    found: list[c.Command] = [
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
        )
    ]
    if end is not None and end <= until:
        reason = _text(worker, "ReasonLeave")
        found.append(
            c.LeaveEmployment(
                command_id=f"{key}-left-{end.isoformat()}",
                actor=actor,
                occurred_at=_at(end),
                imported=True,
                staff_id=staff_id,
                last_day=end,
                reason=f"workforce census ReasonLeave {reason or 'not given'}",
            )
        )
    return found
