"""SSDA903 (children looked after) import, read by the return's own codes (issues 7 and
21, ADR 0025): header, episodes, reviews, missing periods and care leavers.

Each row becomes exactly the events its codes mean (DfE children looked after return
guidance), with the dates it gives as ``occurred_at`` and the import flag set:

- ``header.csv``: the child (``CHILD``, ``DOB``), registered as looked after (``cla``).
  When the child's first episode is not ``RNE`` S, the child was looked after before
  the record begins: ``CareBeganBeforeRecord`` on that episode's ``DECOM`` (no
  came-into-care trigger: the child did not come into care that day).
- ``episodes.csv``, per child in ``DECOM`` order, by ``RNE``: S started to be looked
  after (``ChildCameIntoCare``, with ``LS`` and ``PLACE``: DEV-6 (4)); P, T, U, B a
  placement change (``PlacementChanged``, ``PLACE``, ``REASON_PLACE_CHANGE``); L, T, U
  a legal-status change (``LegalStatusChanged``, ``LS``). By ``REC`` with ``DEC``: X1
  the episode ended and care continues (nothing: the next episode says what changed);
  E4A, E4B returned home (``ChildReturnedHome``, which ends the period: DEV-6 (7)); any
  other code the period of care ended (``PeriodOfCareEnded``), E11/E12 adopted also
  recording the order (AAR-42's retention starts) and E2 died the death (CPPCR-50).
- ``reviews.csv``: each looked-after review (``REVIEW``, ``REVIEW_CODE``).
- ``missing.csv`` (read when present): each period missing (M) or away from placement
  without authorisation (A), ``MIS_START`` to ``MIS_END``: a manager's oversight of a
  looked-after child must see it (``MissingFromCareRecorded``).
- ``oc3.csv`` (care leavers; read when present): a young person whose last period of
  care ended other than by adoption or death becomes a care leaver's case (DEV-5.1b)
  from that day. ``IN_TOUCH`` DIED is rejected: the return gives no date of death, which
  the record's retention turns on [CPPCR-50]. ``ACTIV`` and ``ACCOM`` are not read.

Not read, because case oversight does not need them: sex, ethnicity, UPN, mother and
child's birth date, ``CIN`` (category of need, checked against rule 145 only),
``PLACE_PROVIDER``, postcodes and ``URN``. UASC status is not read: the return carries
it in a separate UASC file, not in these files, and no oversight rule turns on it.

**Every row accounted for.** A row that breaks a DfE validation rule is rejected with
the rule's code and its row number, before anything is written for it: 102 (DOB not a
date), 141/147 (DECOM/DEC not a date), 143/144/145/146/149 (RNE, LS, CIN, PLACE, REC not
a valid code), 148 (DEC and REC not both given: an episode with a reason but no end
date, or the reverse), 356 (DEC before DECOM), 501 (a new episode starts before the
previous one ended), 142 (a new episode starts while the previous one is still open),
388 (X1, but no episode continues on that day), 432 (care ended, yet the next episode
is not S), 354/385 (DECOM/DEC after the collection year's end, here: after today),
167 (REVIEW_CODE not PN0-PN7). The importer's own rules, where the guidance has no
numbered one, are named ``OVS-...``: ``OVS-CHILD`` (CHILD missing, malformed, twice in
the header, or not in it), ``OVS-DATE`` (another date not a date, or missing),
``OVS-FUTURE`` (another date after today), ``OVS-S-IN-CARE`` (S while the previous
episode's care continues), ``OVS-LS-UNCHANGED`` (L, T or U, but ``LS`` is the previous
episode's), ``OVS-SAME-DECOM`` (two episodes of a child starting the same day),
``OVS-REVIEW-TWICE``, ``OVS-MISSING`` (not M or A; ends before it starts),
``OVS-OC3`` (a care leaver who is not one). A command the domain refuses rejects the row
with the domain's rule. So rows read = rows accepted + rows rejected, per file.

**Identity.** An episode is the child and its ``DECOM``; a review the child and its
date; a missing period the child and its start. Command ids come from that identity, so
importing the same files again replays and writes nothing; a corrected file (the same
episode with another ``PLACE``, ``LS`` or reason) records ``CareEpisodeCorrected`` with
the values that changed, not a second event.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError
from domain.events import (
    AdoptionOrderRecorded,
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildRegistered,
    ChildReturnedHome,
    EventType,
    LegalStatusChanged,
    LookedAfterReviewHeld,
    MissingFromCareRecorded,
    PeriodOfCareEnded,
    PlacementChanged,
    kind_of,
)
from domain.identifiers import check_local_id
from domain.provenance import Actor
from oversight.importers.jobs import FileProblem, Job, JobReport, Progress, Step, read_csv

FILES = ("header.csv", "episodes.csv", "reviews.csv")
CARE_LEAVERS = "oc3.csv"  # read when present
MISSING = "missing.csv"  # read when present
REQUIRED = {
    "header.csv": ("CHILD", "DOB"),
    "episodes.csv": ("CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"),
    "reviews.csv": ("CHILD", "REVIEW", "REVIEW_CODE"),
    CARE_LEAVERS: ("CHILD", "DOB", "IN_TOUCH"),
    MISSING: ("CHILD", "MISSING", "MIS_START", "MIS_END"),
}
#: The return's codes (DfE guidance; rules 143, 144, 145, 146, 149, 167).
RNE = frozenset({"S", "P", "L", "T", "U", "B"})
LS = frozenset({"C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3"})
CIN = frozenset({f"N{n}" for n in range(1, 9)})
PLACE = frozenset(
    {"A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5",
     "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1"}
)  # fmt: skip
REC = frozenset(
    {"X1", "E2", "E3", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "E11", "E12", "E13",
     "E14", "E15", "E16", "E17", "E41", "E45", "E46", "E47", "E48"}
)  # fmt: skip
REVIEW_CODES = frozenset({f"PN{n}" for n in range(8)})
#: OC3 ``IN_TOUCH``: in touch, not in touch, died, refuses contact, no longer requires
#: services, returned home.
IN_TOUCH = frozenset({"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"})

STARTED = "S"
PLACEMENT_CHANGES = frozenset({"P", "T", "U", "B"})
LEGAL_STATUS_CHANGES = frozenset({"L", "T", "U"})
RETURNED_HOME = frozenset({"E4A", "E4B"})
ADOPTED = frozenset({"E11", "E12"})
DIED = "E2"
CONTINUES = "X1"


class RowError(ValueError):
    """A row that breaks a rule: the rule's code, the column, and why."""

    def __init__(self, rule: str, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.rule, self.column = rule, column


def _at(day: date) -> datetime:
    """Noon UTC: the same day in England whatever the season."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _value(row: Mapping[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def _day(
    row: Mapping[str, str | None], column: str, rule: str, today: date, future: str
) -> date | None:
    value = _value(row, column)
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise RowError(rule, column, f"{value!r} is not a date dd/mm/yyyy") from None
    if day > today:
        raise RowError(future, column, f"{value} is after today")
    return day


def _code(row: Mapping[str, str | None], column: str, codes: frozenset[str], rule: str) -> str:
    value = _value(row, column)
    if not value:
        raise RowError(rule, column, "missing")
    if value not in codes:
        raise RowError(rule, column, f"{value!r} is not one of the return's codes")
    return value


@dataclass(frozen=True)
class Episode:
    line: int
    child: str
    start: date
    rne: str
    ls: str
    place: str
    end: date | None
    rec: str
    why: str

    @property
    def codes(self) -> list[tuple[str, str]]:
        return [("RNE", self.rne), *([("REC", self.rec)] if self.rec else [])]


@dataclass
class _Row:
    """A row planned: its file, line, child, steps, and where it sorts in the child's
    history (registration first; then by day)."""

    file: str
    line: int
    child: str
    steps: list[Step]
    order: tuple[date, int]
    codes: list[tuple[str, str]] = field(default_factory=list)


class Planner:
    """The return's files, checked row by row against the DfE rules and turned into the
    steps each accepted row means, for one authority."""

    def __init__(
        self, job: Job, authority: str, actor: Actor, risk_level: str, today: date
    ) -> None:
        self.job, self.authority, self.actor = job, authority, actor
        self.risk_level, self.today = risk_level, today
        self.rows: list[_Row] = []
        #: Each child whose last period of care has ended: the day, and the REC code.
        self.left_care: dict[str, tuple[date, str]] = {}
        #: The correction each episode command's id stands for: the child, the
        #: episode's start, and whether the child is in that episode now.
        self.episodes: dict[str, tuple[str, date, bool]] = {}
        self.header_lines: dict[str, int] = {}

    def _command(self, kind: type[c.Command], key: str, day: date, **fields: Any) -> c.Command:
        return kind(
            command_id=f"ssda903-{self.authority}-{key}",
            actor=self.actor,
            occurred_at=_at(day),
            imported=True,
            **fields,
        )

    def _reject(
        self, file: str, line: int, child: str | None, error: RowError,
        codes: Sequence[tuple[str, str]] = (),
    ) -> None:  # fmt: skip
        self.job.reject(file, line, child, error.rule, str(error), codes)

    def plan(self, directory: Path) -> list[_Row]:
        files = {name: list(read_csv(directory / name, REQUIRED[name])) for name in FILES}
        for name in (MISSING, CARE_LEAVERS):
            if (directory / name).is_file():
                files[name] = list(read_csv(directory / name, REQUIRED[name]))
        born = self._header(files["header.csv"])
        firsts = self._episodes(files["episodes.csv"], born)
        for child, dob in born.items():
            self._register(child, dob, firsts.get(child))
        self._reviews(files["reviews.csv"], born)
        if MISSING in files:
            self._missing(files[MISSING], born)
        if CARE_LEAVERS in files:
            self._care_leavers(files[CARE_LEAVERS], born)
        return sorted(self.rows, key=lambda r: (r.child, r.order, r.line))

    # -- header --------------------------------------------------------------------

    def _header(self, rows: list[tuple[int, dict[str, str]]]) -> dict[str, date]:
        born: dict[str, date] = {}
        for line, row in rows:
            self.job.read("header.csv")
            child = _value(row, "CHILD")
            try:
                if not child:
                    raise RowError("OVS-CHILD", "CHILD", "missing")
                try:
                    check_local_id(child, field="CHILD")
                except DomainError as error:
                    raise RowError("OVS-CHILD", "CHILD", error.message) from None
                dob = _day(row, "DOB", "102", self.today, "OVS-FUTURE")
                if dob is None:
                    raise RowError("102", "DOB", "missing")
                if child in born:
                    raise RowError(
                        "OVS-CHILD", "CHILD", f"appears twice in header.csv (line "
                        f"{self.header_lines[child]})"
                    )  # fmt: skip
            except RowError as error:
                self._reject("header.csv", line, child or None, error)
                continue
            born[child] = dob
            self.header_lines[child] = line
        return born

    def _register(self, child: str, dob: date, first: Episode | None) -> None:
        steps = [
            Step(
                self._command(
                    c.RegisterChild, f"child-{child}", max(first.start if first else dob, dob),
                    child_id=child, date_of_birth=dob, expected_date_of_birth=None,
                    case_type="cla", risk_level=self.risk_level, rag=None, name=None,
                ),
                ChildRegistered,
            )
        ]  # fmt: skip
        if first is not None and first.rne != STARTED:
            steps.append(
                Step(
                    self._command(
                        c.RecordCareBeganBeforeRecord, f"care-before-{child}", first.start,
                        child_id=child,
                    ),
                    CareBeganBeforeRecord,
                )
            )  # fmt: skip
        self.rows.append(_Row("header.csv", self.header_lines[child], child, steps, (date.min, 0)))

    # -- episodes ------------------------------------------------------------------

    def _episode(self, line: int, row: dict[str, str], child: str) -> Episode:
        start = _day(row, "DECOM", "141", self.today, "354")
        if start is None:
            raise RowError("141", "DECOM", "missing")
        rne = _code(row, "RNE", RNE, "143")
        ls = _code(row, "LS", LS, "144")
        if "CIN" in row and _value(row, "CIN"):
            _code(row, "CIN", CIN, "145")
        place = _code(row, "PLACE", PLACE, "146")
        end = _day(row, "DEC", "147", self.today, "385")
        rec = _value(row, "REC")
        if rec:
            _code(row, "REC", REC, "149")
        if (end is None) != (not rec):
            raise RowError(
                "148", "DEC" if end is None else "REC",
                "the date episode ceased and the reason episode ceased must both be "
                "given, or both left blank",
            )  # fmt: skip
        if end is not None and end < start:
            raise RowError("356", "DEC", "the episode ceased before it started (DECOM)")
        return Episode(
            line, child, start, rne, ls, place, end, rec, _value(row, "REASON_PLACE_CHANGE")
        )

    def _episodes(
        self, rows: list[tuple[int, dict[str, str]]], born: dict[str, date]
    ) -> dict[str, Episode]:
        """Every episode checked, then each child's in order: the steps of each
        accepted one. The first accepted episode of each child, by child."""
        by_child: dict[str, list[Episode]] = {}
        #: The days each child's episodes start in the file (rule 388 reads the file).
        starts: dict[str, set[date]] = {}
        for line, row in rows:
            child = _value(row, "CHILD")
            codes = [(col, _value(row, col)) for col in ("RNE", "REC") if _value(row, col)]
            self.job.read("episodes.csv", codes)
            with contextlib.suppress(ValueError):
                day = datetime.strptime(_value(row, "DECOM"), "%d/%m/%Y").date()
                starts.setdefault(child, set()).add(day)
            try:
                if child not in born:
                    raise RowError("OVS-CHILD", "CHILD", "not in header.csv")
                episode = self._episode(line, row, child)
            except RowError as error:
                self._reject("episodes.csv", line, child or None, error, codes)
                continue
            by_child.setdefault(child, []).append(episode)
        firsts: dict[str, Episode] = {}
        for child, episodes in by_child.items():
            episodes.sort(key=lambda e: (e.start, e.line))
            accepted = self._in_order(episodes, starts[child])
            if accepted:
                firsts[child] = accepted[0]
                self._steps(accepted)
        return firsts

    def _in_order(self, episodes: list[Episode], starts: set[date]) -> list[Episode]:
        """The child's episodes that follow on from each other (rules 142, 388, 432,
        501 and the importer's own); the others are rejected."""
        accepted: list[Episode] = []
        status: Episode | None = None  # the episode that last set the legal status
        for episode in episodes:
            previous = accepted[-1] if accepted else None
            try:
                self._follows(previous, episode, starts, status)
            except RowError as error:
                self._reject("episodes.csv", episode.line, episode.child, error, episode.codes)
                continue
            accepted.append(episode)
            if episode.rne == STARTED or episode.rne in LEGAL_STATUS_CHANGES:
                status = episode
        return accepted

    def _follows(
        self,
        previous: Episode | None,
        episode: Episode,
        starts: set[date],
        status: Episode | None,
    ) -> None:
        if episode.rec == CONTINUES and episode.end not in starts:
            raise RowError(
                "388", "REC", "X1 (the episode ended, care continued) but no episode "
                "starts on the day it ceased",
            )  # fmt: skip
        if previous is None:
            return
        if previous.start == episode.start:
            raise RowError(
                "OVS-SAME-DECOM", "DECOM",
                f"a second episode of this child starting that day (line {previous.line})",
            )  # fmt: skip
        if previous.end is None:
            raise RowError(
                "142", "DECOM", f"a new episode started, but the previous one (line "
                f"{previous.line}) has not ended",
            )  # fmt: skip
        if episode.start < previous.end:
            raise RowError(
                "501", "DECOM", f"a new episode started before the previous one (line "
                f"{previous.line}) ended",
            )  # fmt: skip
        if previous.rec != CONTINUES and episode.rne != STARTED:
            raise RowError(
                "432", "RNE", f"care ended at the previous episode (line {previous.line}, "
                f"REC {previous.rec}), but the reason for this new episode is not S",
            )  # fmt: skip
        if previous.rec == CONTINUES and episode.rne == STARTED:
            raise RowError(
                "OVS-S-IN-CARE", "RNE", f"S (started to be looked after), but the child's "
                f"care continues from the previous episode (line {previous.line}, X1)",
            )  # fmt: skip
        if episode.rne in LEGAL_STATUS_CHANGES and status is not None and episode.ls == status.ls:
            raise RowError(
                "OVS-LS-UNCHANGED", "LS", f"RNE {episode.rne} says the legal status "
                f"changed, but it is already {episode.ls} (line {status.line})",
            )  # fmt: skip

    def _steps(self, episodes: list[Episode]) -> None:
        last = episodes[-1]
        for episode in episodes:
            child, start = episode.child, episode.start
            key = f"{child}-{start.isoformat()}"
            current = episode is last and episode.end is None
            steps: list[Step] = []
            if episode.rne == STARTED:
                steps.append(
                    Step(
                        self._command(
                            c.RecordCameIntoCare, f"care-{key}", start, child_id=child,
                            legal_status=episode.ls, placement=episode.place,
                        ),
                        ChildCameIntoCare, ("RNE", episode.rne),
                    )
                )  # fmt: skip
                self.left_care.pop(child, None)  # a new period of care
            if episode.rne in LEGAL_STATUS_CHANGES:
                steps.append(
                    Step(
                        self._command(
                            c.ChangeLegalStatus, f"ls-{key}", start, child_id=child,
                            legal_status=episode.ls,
                        ),
                        LegalStatusChanged, ("RNE", episode.rne),
                    )
                )  # fmt: skip
            if episode.rne in PLACEMENT_CHANGES:
                steps.append(
                    Step(
                        self._command(
                            c.ChangePlacement, f"place-{key}", start, child_id=child,
                            placement=episode.place,
                            reason=episode.why or f"SSDA903 RNE {episode.rne}",
                        ),
                        PlacementChanged, ("RNE", episode.rne),
                    )
                )  # fmt: skip
            if episode.end is not None and episode.rec != CONTINUES:
                steps.extend(self._ending(child, key, episode.end, episode.rec))
                self.left_care[child] = (episode.end, episode.rec)
            for step in steps:
                self.episodes[step.command.command_id] = (child, start, current)
            self.rows.append(
                _Row("episodes.csv", episode.line, child, steps, (start, 1), episode.codes)
            )

    def _ending(self, child: str, key: str, end: date, reason: str) -> list[Step]:
        code = ("REC", reason)
        if reason in RETURNED_HOME:
            return [
                Step(
                    self._command(
                        c.RecordReturnedHome, f"home-{key}", end, child_id=child,
                        reason=f"SSDA903 REC {reason}",
                    ),
                    ChildReturnedHome, code,
                )
            ]  # fmt: skip
        found: list[Step] = []
        if reason in ADOPTED:
            found.append(
                Step(
                    self._command(
                        c.RecordAdoptionOrder, f"adopted-{key}", end, child_id=child,
                        order_made_on=end,
                    ),
                    AdoptionOrderRecorded, code,
                )
            )  # fmt: skip
        if reason == DIED:
            found.append(
                Step(
                    self._command(
                        c.RecordChildDeath, f"died-{key}", end, child_id=child, died_on=end
                    ),
                    ChildDeathRecorded, code,
                )
            )  # fmt: skip
        found.append(
            Step(
                self._command(
                    c.RecordCareEnded, f"ended-{key}", end, child_id=child, reason_code=reason
                ),
                PeriodOfCareEnded, code,
            )
        )  # fmt: skip
        return found

    # -- reviews, missing periods, care leavers -----------------------------------------

    def _known(self, row: dict[str, str], born: dict[str, date]) -> str:
        child = _value(row, "CHILD")
        if child not in born:
            raise RowError("OVS-CHILD", "CHILD", "not in header.csv")
        return child

    def _reviews(self, rows: list[tuple[int, dict[str, str]]], born: dict[str, date]) -> None:
        seen: dict[tuple[str, date], int] = {}  # (child, day) -> the line it was read on
        for line, row in rows:
            code = _value(row, "REVIEW_CODE")
            codes = [("REVIEW_CODE", code)] if code else []
            self.job.read("reviews.csv", codes)
            child = _value(row, "CHILD")
            try:
                child = self._known(row, born)
                day = _day(row, "REVIEW", "OVS-DATE", self.today, "OVS-FUTURE")
                if day is None:
                    raise RowError("OVS-DATE", "REVIEW", "missing")
                _code(row, "REVIEW_CODE", REVIEW_CODES, "167")
                if (child, day) in seen:
                    raise RowError(
                        "OVS-REVIEW-TWICE", "REVIEW",
                        f"a second review of this child that day (line {seen[child, day]})",
                    )  # fmt: skip
            except RowError as error:
                self._reject("reviews.csv", line, child or None, error, codes)
                continue
            seen[child, day] = line
            step = Step(
                self._command(
                    c.RecordLookedAfterReview, f"review-{child}-{day.isoformat()}", day,
                    child_id=child, review_on=day, review_code=code,
                ),
                LookedAfterReviewHeld, ("REVIEW_CODE", code),
            )  # fmt: skip
            self.rows.append(_Row("reviews.csv", line, child, [step], (day, 2), codes))

    def _missing(self, rows: list[tuple[int, dict[str, str]]], born: dict[str, date]) -> None:
        seen: dict[tuple[str, date], int] = {}
        for line, row in rows:
            kind = _value(row, "MISSING")
            codes = [("MISSING", kind)] if kind else []
            self.job.read(MISSING, codes)
            child = _value(row, "CHILD")
            try:
                child = self._known(row, born)
                _code(row, "MISSING", frozenset({"M", "A"}), "OVS-MISSING")
                start = _day(row, "MIS_START", "OVS-DATE", self.today, "OVS-FUTURE")
                if start is None:
                    raise RowError("OVS-DATE", "MIS_START", "missing")
                end = _day(row, "MIS_END", "OVS-DATE", self.today, "OVS-FUTURE")
                if end is not None and end < start:
                    raise RowError("OVS-MISSING", "MIS_END", "ends before it starts")
                if (child, start) in seen:
                    raise RowError(
                        "OVS-MISSING", "MIS_START",
                        f"a second period of this child starting that day (line "
                        f"{seen[child, start]})",
                    )  # fmt: skip
            except RowError as error:
                self._reject(MISSING, line, child or None, error, codes)
                continue
            seen[child, start] = line
            step = Step(
                self._command(
                    c.RecordMissingFromCare, f"missing-{child}-{start.isoformat()}", start,
                    child_id=child, missing=kind, started_on=start, ended_on=end,
                ),
                MissingFromCareRecorded, ("MISSING", kind),
            )  # fmt: skip
            self.rows.append(_Row(MISSING, line, child, [step], (start, 2), codes))

    def _care_leavers(self, rows: list[tuple[int, dict[str, str]]], born: dict[str, date]) -> None:
        for line, row in rows:
            self.job.read(CARE_LEAVERS)
            child = _value(row, "CHILD")
            try:
                child = self._known(row, born)
                left = self._left_care(child, row, born[child])
            except RowError as error:
                self._reject(CARE_LEAVERS, line, child or None, error)
                continue
            step = Step(
                self._command(
                    c.ChangeCaseType, f"care-leaver-{child}-{left.isoformat()}", left,
                    child_id=child, case_type="care_leaver",
                ),
                CaseTypeChanged,
            )  # fmt: skip
            self.rows.append(_Row(CARE_LEAVERS, line, child, [step], (left, 3)))

    def _left_care(self, child: str, row: dict[str, str], dob: date) -> date:
        """The day the care leaver's last period of care ended, or why there is none."""
        if _day(row, "DOB", "102", self.today, "OVS-FUTURE") != dob:
            raise RowError("OVS-OC3", "DOB", "differs from header.csv")
        in_touch = _value(row, "IN_TOUCH")
        if in_touch not in IN_TOUCH:
            raise RowError(
                "OVS-OC3", "IN_TOUCH",
                f"{in_touch!r} is not one of {', '.join(sorted(IN_TOUCH))}",
            )  # fmt: skip
        if in_touch == "DIED":
            raise RowError(
                "OVS-OC3", "IN_TOUCH",
                "DIED: the return gives no date of death, which the record's retention "
                "turns on [CPPCR-50]; record the death from the case file",
            )  # fmt: skip
        ended = self.left_care.get(child)
        if ended is None:
            raise RowError(
                "OVS-OC3", "CHILD", "no period of care has ended in episodes.csv: not a care leaver"
            )
        day, reason = ended
        if reason in ADOPTED or reason == DIED:
            raise RowError("OVS-OC3", "CHILD", f"care ended with REC {reason}: not a care leaver")
        return day

    # -- corrections -------------------------------------------------------------------

    def correct(self, step: Step, app: OversightApplication) -> Sequence[Step] | None:
        """The episode's command was recorded before with other values: record what
        changed as a correction of it (nothing, if its event's values are the same)."""
        episode = self.episodes.get(step.command.command_id)
        if episode is None:
            return None
        child, start, current = episode
        earlier = _recorded_by(app, step.command, step.records)
        if earlier is None:
            return None
        now = step.command.arguments("child_id")
        changes = {
            name: str(value)
            for name, value in now.items()
            if str(getattr(earlier, name, None)) != str(value)
        }
        if not changes:
            return []
        digest = hashlib.sha256(repr(sorted(changes.items())).encode()).hexdigest()[:12]
        command = self._command(
            c.CorrectCareEpisode,
            f"corrected-{step.command.command_id.removeprefix(f'ssda903-{self.authority}-')}"
            f"-{digest}",
            start,
            child_id=child,
            episode_started_on=start,
            corrects=step.records.__name__,
            changes=changes,
            current=current,
        )
        return [Step(command, CareEpisodeCorrected, step.code)]


def _recorded_by(app: OversightApplication, command: c.Command, kind: EventType) -> Any:
    """The event of ``kind`` the earlier command of this id recorded, if it can be read."""
    receipts = app.command_log.select_command_receipts(
        command.actor.authority_id, [command.command_id]
    )
    receipt = receipts.get(command.command_id)
    if receipt is None or receipt.last_originator_id is None:
        return None
    last = receipt.last_originator_version or 0
    events = app.repository.event_store.get(
        receipt.last_originator_id, gt=max(last - 4, 0), lte=last
    )
    for event in events:
        provenance = getattr(event, "provenance", None)
        if kind_of(event) is kind and getattr(provenance, "command_id", None) == command.command_id:
            return event
    return None


#: Rows whose receipts are asked of the store together.
EXPECT_EVERY = 1_000


def import_ssda903(
    app: OversightApplication,
    directory: Path,
    *,
    authority: str,
    actor: Actor,
    risk_level: str,
    dry_run: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
) -> JobReport:
    """Import the directory's header, episodes and reviews (and missing periods and care
    leavers, where ``missing.csv`` and ``oc3.csv`` are there) into ``authority``. A file
    that cannot be read raises ``FileProblem`` before anything is written."""
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise FileProblem(", ".join(missing), f"not found in {directory}")
    job = Job(app, importer="ssda903", dry_run=dry_run)
    planner = Planner(job, authority, actor, risk_level, today or datetime.now(UTC).date())
    job.correct = planner.correct
    rows = planner.plan(directory)
    failed: set[str] = set()
    for index, row in enumerate(rows, start=1):
        if index % EXPECT_EVERY == 1:
            job.expect(
                [s.command for r in rows[index - 1 : index - 1 + EXPECT_EVERY] for s in r.steps]
            )
        if row.child in failed:
            job.reject(
                row.file, row.line, row.child, "OVS-CHILD",
                "CHILD: the child's registration (header.csv) was refused", row.codes,
            )  # fmt: skip
        elif not job.run(row.file, row.line, row.child, row.steps, row.codes) and (
            row.file == "header.csv"  # the child itself: its other rows cannot follow
        ):
            failed.add(row.child)
        if progress is not None and (index % 200 == 0 or index == len(rows)):
            progress(index, len(rows))
    return job.finish()


__all__ = ["FILES", "FileProblem", "Planner", "RowError", "import_ssda903"]
