"""SSDA903 (children looked after) import: header, episodes, reviews and care leavers
CSVs (issue 7).

Each row becomes the commands it implies, with its real date as ``occurred_at`` and the
import flag set:

- ``header.csv``: the child (``CHILD``, ``DOB``), registered as looked after (``cla``).
  Sex, ethnicity and UPN are not read: case oversight does not need them.
- ``episodes.csv``, per child in ``DECOM`` order: the first episode of a period of care
  is the child coming into care (legal status ``LS``, placement ``PLACE``), which raises
  the DEV-6 (4) trigger; later episodes change the legal status (``RNE`` L, T, U) and
  the placement (``RNE`` P, B, T, U; ``REASON_PLACE_CHANGE``); an end date with a reason
  other than X1 ends the period: E4A/E4B returned home (raises DEV-6 (7)), E11/E12
  adopted (the order date starts AAR-42's retention), E2 died (CPPCR-50), any other
  code ends the period of care with that code.
- ``reviews.csv``: each looked-after review (``REVIEW``, ``REVIEW_CODE``).
- ``oc3.csv`` (care leavers; read when present): a young person who has left care
  becomes a care leaver's case (its case type changes to ``care_leaver``, which takes
  DEV-5.1b's quarterly case supervision) from the day their last period of care ended
  in ``episodes.csv``. A row is rejected, naming the column, for a child not in the
  header, a ``DOB`` that differs from it, an ``IN_TOUCH`` code that is not the
  return's, a child still in care or whose care ended by adoption or death, and for
  ``IN_TOUCH`` ``DIED``: the return gives no date of death, which the record's
  retention turns on [CPPCR-50], so that death is recorded from the case file.
  ``ACTIV`` and ``ACCOM`` are not read: case oversight does not need them.

Every command has an id made from the row's own content (the child and its dates), so
running the import again replays receipts and writes nothing. A row that cannot be read
(a missing column value, a date that is not dd/mm/yyyy, a child not in the header) is
rejected before anything is written for it, naming the column. A row is accepted when
every command it implies is recorded (or was, by an earlier run); a command the domain
refuses rejects the row with the domain's reason, naming the field and the rule. An
episode implying several events is tried whole on the child in memory first, so a row
the domain refuses writes nothing; each of its events is then recorded by its own
idempotent command.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from application.app import OversightApplication
from application.batching import CommandRefused
from domain import commands as c
from domain.errors import DomainError
from domain.identifiers import check_local_id
from domain.provenance import Actor

FILES = ("header.csv", "episodes.csv", "reviews.csv")
CARE_LEAVERS = "oc3.csv"  # read when present
REQUIRED = {
    "header.csv": ("CHILD", "DOB"),
    "episodes.csv": ("CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"),
    "reviews.csv": ("CHILD", "REVIEW", "REVIEW_CODE"),
    CARE_LEAVERS: ("CHILD", "DOB", "IN_TOUCH"),
}
#: OC3 ``IN_TOUCH``: in touch, not in touch, died, refuses contact, no longer requires
#: services, returned home.
IN_TOUCH = frozenset({"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"})
RETURNED_HOME = frozenset({"E4A", "E4B"})
ADOPTED = frozenset({"E11", "E12"})
DIED = "E2"
CONTINUES = "X1"
LEGAL_STATUS_CHANGES = frozenset({"L", "T", "U"})
PLACEMENT_CHANGES = frozenset({"P", "B", "T", "U"})


class RowError(ValueError):
    """A row that cannot be read: names the column."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


@dataclass(frozen=True)
class Row:
    """One source row and the commands it implies, in order."""

    file: str
    line: int
    child: str
    commands: tuple[c.Command, ...]
    sort_key: tuple[date, int]


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    child: str | None
    reason: str


@dataclass
class ImportReport:
    """Rows read, accepted and rejected per file; commands recorded and replayed."""

    read: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    recorded: int = 0
    replayed: int = 0

    def rejected_in(self, file: str) -> int:
        return sum(1 for r in self.rejected if r.file == file)


def _day(row: dict[str, str], column: str, *, required: bool = True) -> date | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise RowError(column, "missing")
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise RowError(column, f"{value!r} is not a date dd/mm/yyyy") from None


def _text(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise RowError(column, "missing")
    return value


def _at(day: date) -> datetime:
    """Noon UTC: the same day in England whatever the season."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _read(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED[path.name] if c not in (reader.fieldnames or [])]
        if missing:
            raise RowError(", ".join(missing), f"{path.name} has no such column")
        yield from enumerate(reader, start=2)


class Planner:
    """Turns the three files into rows of commands for one authority."""

    def __init__(self, authority: str, actor: Actor, risk_level: str) -> None:
        self.authority, self.actor, self.risk_level = authority, actor, risk_level
        self.rows: list[Row] = []
        self.rejected: list[Rejection] = []
        self.read: dict[str, int] = {}
        #: Each child whose last period of care has ended: the day, and the REC code.
        self.left_care: dict[str, tuple[date, str]] = {}

    def _command(self, kind: type[c.Command], key: str, day: date, **fields: object) -> c.Command:
        return kind(
            command_id=f"ssda903-{self.authority}-{key}",
            actor=self.actor,
            occurred_at=_at(day),
            imported=True,
            **fields,
        )

    def _reject(self, file: str, line: int, child: str | None, reason: str) -> None:
        self.rejected.append(Rejection(file, line, child, reason))

    def plan(self, directory: Path) -> list[Row]:
        children = self._header(directory / "header.csv")
        self._episodes(directory / "episodes.csv", children)
        self._reviews(directory / "reviews.csv", children)
        if (directory / CARE_LEAVERS).is_file():
            self._care_leavers(directory / CARE_LEAVERS, children)
        return sorted(self.rows, key=lambda r: (r.child, r.sort_key))

    def _header(self, path: Path) -> dict[str, date]:
        born: dict[str, date] = {}
        self.read[path.name] = 0
        for line, row in _read(path):
            self.read[path.name] += 1
            child = (row.get("CHILD") or "").strip()
            try:
                check_local_id(child, field="CHILD")
                dob = _day(row, "DOB")
                assert dob is not None
                if child in born:
                    raise RowError("CHILD", "appears twice in header.csv")
            except (RowError, DomainError) as error:
                self._reject(path.name, line, child or None, str(error))
                continue
            born[child] = dob
        return born

    def _episodes(self, path: Path, born: dict[str, date]) -> None:
        by_child: dict[str, list[tuple[int, dict[str, str], date]]] = {}
        for line, row, child in self._of_known_children(path, born):
            try:
                start = _day(row, "DECOM")
                assert start is not None
            except RowError as error:
                self._reject(path.name, line, child, str(error))
                continue
            by_child.setdefault(child, []).append((line, row, start))
        registered: set[str] = set()
        for child, episodes in by_child.items():
            episodes.sort(key=lambda e: (e[2], e[0]))
            first = episodes[0][2]
            self._register(child, born[child], first)
            registered.add(child)
            in_care, legal_status = False, None
            for line, row, start in episodes:
                try:
                    commands, in_care, legal_status = self._episode(
                        child, row, start, in_care, legal_status
                    )
                except RowError as error:
                    self._reject(path.name, line, child, str(error))
                    continue
                self.rows.append(Row(path.name, line, child, tuple(commands), (start, 1)))
        for child, dob in born.items():
            if child not in registered:
                self._register(child, dob, None)

    def _of_known_children(
        self, path: Path, born: dict[str, date]
    ) -> Iterator[tuple[int, dict[str, str], str]]:
        """The file's rows (counted as read) whose child is in the header; the others
        are rejected as such."""
        self.read[path.name] = 0
        for line, row in _read(path):
            self.read[path.name] += 1
            child = (row.get("CHILD") or "").strip()
            if child not in born:
                self._reject(path.name, line, child or None, "CHILD: not in header.csv")
                continue
            yield line, row, child

    def _register(self, child: str, dob: date, first_episode: date | None) -> None:
        when = first_episode or dob
        self.rows.append(
            Row(
                "header.csv",
                0,
                child,
                (
                    self._command(
                        c.RegisterChild,
                        f"child-{child}",
                        max(when, dob),
                        child_id=child,
                        date_of_birth=dob,
                        expected_date_of_birth=None,
                        case_type="cla",
                        risk_level=self.risk_level,
                        rag=None,
                        name=None,
                    ),
                ),
                (date.min, 0),
            )
        )

    def _episode(
        self,
        child: str,
        row: dict[str, str],
        start: date,
        in_care: bool,
        legal_status: str | None,
    ) -> tuple[list[c.Command], bool, str | None]:
        key = f"{child}-{start.isoformat()}"
        status = _text(row, "LS")
        placement = _text(row, "PLACE")
        rne = _text(row, "RNE")
        end = _day(row, "DEC", required=False)
        reason = (row.get("REC") or "").strip()
        if end is not None and not reason:
            raise RowError("REC", "an episode with an end date needs its reason")
        if end is not None and end < start:
            raise RowError("DEC", "the episode ends before it starts")
        commands: list[c.Command] = []
        if not in_care:
            commands.append(
                self._command(
                    c.RecordCameIntoCare,
                    f"care-{key}",
                    start,
                    child_id=child,
                    legal_status=status,
                    placement=placement,
                )
            )
            in_care, legal_status = True, status
            self.left_care.pop(child, None)  # a new period of care
        else:
            if rne in LEGAL_STATUS_CHANGES and status != legal_status:
                commands.append(
                    self._command(
                        c.ChangeLegalStatus,
                        f"ls-{key}",
                        start,
                        child_id=child,
                        legal_status=status,
                    )
                )
                legal_status = status
            if rne in PLACEMENT_CHANGES:
                why = (row.get("REASON_PLACE_CHANGE") or "").strip() or f"SSDA903 RNE {rne}"
                commands.append(
                    self._command(
                        c.ChangePlacement,
                        f"place-{key}",
                        start,
                        child_id=child,
                        placement=placement,
                        reason=why,
                    )
                )
        if end is not None and reason != CONTINUES:
            commands.extend(self._ending(child, key, end, reason))
            in_care = False
            self.left_care[child] = (end, reason)
        return commands, in_care, legal_status

    def _ending(self, child: str, key: str, end: date, reason: str) -> list[c.Command]:
        if reason in RETURNED_HOME:
            return [
                self._command(
                    c.RecordReturnedHome,
                    f"home-{key}",
                    end,
                    child_id=child,
                    reason=f"SSDA903 REC {reason}",
                )
            ]
        found: list[c.Command] = []
        if reason in ADOPTED:
            found.append(
                self._command(
                    c.RecordAdoptionOrder, f"adopted-{key}", end, child_id=child, order_made_on=end
                )
            )
        if reason == DIED:
            found.append(
                self._command(c.RecordChildDeath, f"died-{key}", end, child_id=child, died_on=end)
            )
        found.append(
            self._command(
                c.RecordCareEnded, f"ended-{key}", end, child_id=child, reason_code=reason
            )
        )
        return found

    def _reviews(self, path: Path, born: dict[str, date]) -> None:
        seen: dict[tuple[str, date], int] = {}  # (child, day) -> the line it was read on
        for line, row, child in self._of_known_children(path, born):
            try:
                day = _day(row, "REVIEW")
                assert day is not None
                code = _text(row, "REVIEW_CODE")
                if (child, day) in seen:
                    raise RowError(
                        "REVIEW",
                        f"a second review of this child that day (line {seen[child, day]})",
                    )
            except RowError as error:
                self._reject(path.name, line, child, str(error))
                continue
            seen[child, day] = line
            command = self._command(
                c.RecordLookedAfterReview,
                f"review-{child}-{day.isoformat()}",
                day,
                child_id=child,
                review_on=day,
                review_code=code,
            )
            self.rows.append(Row(path.name, line, child, (command,), (day, 2)))

    def _care_leavers(self, path: Path, born: dict[str, date]) -> None:
        for line, row, child in self._of_known_children(path, born):
            try:
                left = self._left_care(child, row, born[child])
            except RowError as error:
                self._reject(path.name, line, child, str(error))
                continue
            command = self._command(
                c.ChangeCaseType,
                f"care-leaver-{child}-{left.isoformat()}",
                left,
                child_id=child,
                case_type="care_leaver",
            )
            self.rows.append(Row(path.name, line, child, (command,), (left, 3)))

    def _left_care(self, child: str, row: dict[str, str], dob: date) -> date:
        """The day the care leaver's last period of care ended, or why there is none."""
        if _day(row, "DOB") != dob:
            raise RowError("DOB", "differs from header.csv")
        in_touch = _text(row, "IN_TOUCH")
        if in_touch not in IN_TOUCH:
            raise RowError("IN_TOUCH", f"{in_touch!r} is not one of {', '.join(sorted(IN_TOUCH))}")
        if in_touch == "DIED":
            raise RowError(
                "IN_TOUCH",
                "DIED: the return gives no date of death, which the record's retention "
                "turns on [CPPCR-50]; record the death from the case file",
            )
        ended = self.left_care.get(child)
        if ended is None:
            raise RowError(
                "CHILD", "no period of care has ended in episodes.csv: not a care leaver"
            )
        day, reason = ended
        if reason in ADOPTED or reason == DIED:
            raise RowError("CHILD", f"care ended with REC {reason}: not a care leaver")
        return day


def import_ssda903(
    app: OversightApplication,
    directory: Path,
    *,
    authority: str,
    actor: Actor,
    risk_level: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the directory's header, episodes and reviews (and care leavers, where
    ``oc3.csv`` is there) into ``authority``."""
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise RowError(", ".join(missing), f"not found in {directory}")
    planner = Planner(authority, actor, risk_level)
    rows = planner.plan(directory)
    report = ImportReport(read=dict(planner.read), rejected=list(planner.rejected))
    failed_children: set[str] = set()
    for index, row in enumerate(rows, start=1):
        if row.child in failed_children and row.line == 0:
            continue
        outcome = _run(app, row.commands)
        if isinstance(outcome, str):
            if row.line == 0:  # the child itself: its other rows cannot follow
                failed_children.add(row.child)
                report.rejected.append(Rejection("header.csv", 0, row.child, outcome))
            else:
                report.rejected.append(Rejection(row.file, row.line, row.child, outcome))
        else:
            recorded, replayed = outcome
            report.recorded += recorded
            report.replayed += replayed
            if row.line:
                report.accepted[row.file] = report.accepted.get(row.file, 0) + 1
        if progress is not None and (index % 200 == 0 or index == len(rows)):
            progress(index, len(rows))
    report.accepted["header.csv"] = report.read.get("header.csv", 0) - report.rejected_in(
        "header.csv"
    )
    return report


def _run(app: OversightApplication, commands: Sequence[c.Command]) -> tuple[int, int] | str:
    """A row's commands, all or nothing, in one transaction (ADR 0015)."""
    try:
        results = app.execute_atomically(commands)
    except CommandRefused as refused:
        return str(refused)
    except DomainError as error:  # a lost race, retried and lost again
        return f"{type(commands[0]).__name__}: {error}"
    replayed = sum(1 for result in results if result.replayed)
    return len(results) - replayed, replayed
