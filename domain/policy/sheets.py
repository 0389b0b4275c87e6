"""Tracking sheets, as the authorities' own forms lay them out.

- ``supervision_sheet``: a worker's personal supervision tracking sheet. Each session's
  date, the gap since the one before, the gap against the frequency agreed in the
  supervision agreement, with the comment SHR-APP2 asks for when the gap exceeds it,
  and sessions counted per rolling year [DUR-4.2, SHR-3.6a]; and the windows of the
  worker's rules that closed without the act in a period, by rule (ADR 0009, addendum).
- ``case_tracker``: Shropshire's "Case Supervision - Tracking" sheet for one worker.
  Rows are the children allocated to them during the period, columns their supervision
  sessions, a tick where the child was discussed, and the check that every case was
  discussed at least twice in the six months [SHR-3.6e]. Per child, the last case
  supervision and the next one due under the child's pack, and the child's breached
  windows in the period, by rule.
- ``team_sheet``: a team's group sessions (group supervision, team meetings, practice
  development sessions) and its team rules' windows that closed without one, by rule
  [DEV-7, POR-3.3].

Pure functions of facts (``domain.policy.timeline.Fact``), like the rest of the policy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.events import (
    CaseSupervisionRecorded,
    EventType,
    GroupSupervisionDiscussionRecorded,
    PersonalSupervisionRecordWritten,
    SupervisionSessionHeld,
)
from domain.policy.calendar import Period, add_months
from domain.policy.compliance import Obligation, agreed_interval, breached_windows
from domain.policy.packs import Rule
from domain.policy.quality import AUDIT_EVENTS
from domain.policy.registers import Allocation, Profile
from domain.policy.team_obligations import TeamSession
from domain.policy.timeline import Fact, signatures, timeline_of

ROLLING_YEAR = Period.parse("P1Y")


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    held_on: date
    supervisor_id: str
    duration_minutes: int
    previous_on: date | None
    gap_days: int | None
    agreed_frequency: str | None  # a period code, e.g. P1M
    expected_by: date | None
    over_by_days: int | None
    comment: str | None  # required when the gap exceeds the agreed frequency [SHR-APP2]
    sessions_in_rolling_year: int
    record_signed_by_both: bool
    evidence: tuple[int, ...]


@dataclass(frozen=True)
class YearCount:
    start: date
    end: date  # inclusive
    sessions: int


@dataclass(frozen=True)
class BreachedWindow:
    """A window of a rule that closed without the act (ADR 0009, addendum)."""

    rule_id: str
    rule_key: str
    start: date
    end: date  # its due day: it closed at the end of it


def breached_in(
    found: Sequence[Obligation], since: date, as_of: date
) -> tuple[list[BreachedWindow], dict[str, int]]:
    """The windows that closed without the act with their due day in ``[since, as_of)``
    (a window due on ``as_of`` is still open), oldest first, and how many per rule ID."""
    windows = sorted(
        (
            BreachedWindow(o.rule_id, o.rule_key, o.arises_on, o.due_on)
            for o in breached_windows(found, since, as_of)
            if o.due_on is not None
        ),
        key=lambda w: (w.end, w.rule_key),
    )
    return windows, dict(sorted(Counter(w.rule_id for w in windows).items()))


@dataclass(frozen=True)
class SupervisionSheet:
    staff_id: str
    display: str
    as_of: date
    sessions: list[SessionRow]
    rolling_years: list[YearCount]
    #: The period the breached windows are counted over: ``[since, as_of]``.
    since: date | None = None
    breached: list[BreachedWindow] = field(default_factory=list)
    breached_by_rule: dict[str, int] = field(default_factory=dict)
    #: Audits of this file by ``as_of`` (ADR 0023) [SHR-5.8, DUR-7].
    audits: list[AuditLine] = field(default_factory=list)
    #: The worker's own audit quotas as an auditor, in the periods from ``since`` to
    #: ``as_of`` (the read side fills them: they read other workers' files).
    audit_quotas: list[QuotaLine] = field(default_factory=list)


def supervision_sheet(
    who: Profile,
    facts: Sequence[Fact],
    as_of: date,
    default_frequency: Period | None = None,
    comment_rule: str | None = None,
    *,
    found: Sequence[Obligation] = (),
    since: date | None = None,
) -> SupervisionSheet:
    """``facts``: the worker's, corrections applied, in valid-time order;
    ``default_frequency``: when no agreement sets one; ``comment_rule``: the pack's rule
    that asks for a comment on a gap beyond the agreed frequency (SHR-APP2); ``found``:
    the worker's obligations, whose windows breached in ``[since, as_of]`` (a year to
    ``as_of`` by default) the sheet counts."""
    by_then = [f for f in facts if f.day <= as_of]
    record_of = {
        str(f.data["session_id"]): str(f.data["record_id"])
        for f in by_then
        if f.kind is PersonalSupervisionRecordWritten
    }
    # A correction voids the signatures before it (ADR 0020): signed again, or not.
    signed = signatures(by_then)
    held = [f for f in by_then if f.kind is SupervisionSessionHeld]
    rows: list[SessionRow] = []
    previous: Fact | None = None
    for fact in held:
        agreed = agreed_interval(facts, previous.day if previous else fact.day)
        agreed = agreed or default_frequency
        expected = agreed.after(previous.day) if agreed and previous else None
        over = (fact.day - expected).days if expected and fact.day > expected else None
        gap = (fact.day - previous.day).days if previous else None
        comment = None
        if over is not None and agreed is not None:
            asks = f"{comment_rule} asks for" if comment_rule else "the record needs"
            comment = (
                f"Gap of {gap} days since {previous.day if previous else ''} exceeds the "
                f"agreed frequency ({agreed.words()}) by {over} days; {asks} a comment."
            )
        window_start = add_months(fact.day, -12) + timedelta(days=1)
        in_year = sum(1 for f in held if window_start <= f.day <= fact.day)
        session_id = str(fact.data["session_id"])
        record = record_of.get(session_id)
        rows.append(
            SessionRow(
                session_id=session_id,
                held_on=fact.day,
                supervisor_id=str(fact.data["supervisor_id"]),
                duration_minutes=int(fact.data.get("duration_minutes", 0)),
                previous_on=previous.day if previous else None,
                gap_days=gap,
                agreed_frequency=agreed.code if agreed else None,
                expected_by=expected,
                over_by_days=over,
                comment=comment,
                sessions_in_rolling_year=in_year,
                record_signed_by_both=record is not None
                and {"supervisor", "supervisee"} <= signed.get(record, {}).keys(),
                evidence=(fact.position,),
            )
        )
        previous = fact
    years: list[YearCount] = []
    end = as_of
    first = held[0].day if held else as_of
    while end >= first and len(years) < 10:
        start = add_months(end, -12) + timedelta(days=1)
        years.append(YearCount(start, end, sum(1 for f in held if start <= f.day <= end)))
        end = start - timedelta(days=1)
    since = since or as_of - timedelta(days=365)
    breached, by_rule = breached_in(found, since, as_of)
    return SupervisionSheet(
        who.local_id,
        who.display,
        as_of,
        rows,
        years,
        since,
        breached,
        by_rule,
        audits=audit_lines(facts, as_of),
    )


# -- quality assurance on the sheets (ADR 0023) -------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    """An audit of the file: who, when, the judgement graded and as it stands."""

    audit_id: str
    audited_on: date
    auditor_id: str
    graded: str
    judgement: str
    disputed_by: str | None
    moderated_by: str | None
    evidence: tuple[int, ...]


@dataclass(frozen=True)
class QuotaLine:
    """One of the worker's audit quotas as an auditor in one period, and its status."""

    rule_id: str
    rule_key: str
    start: date
    end: date
    due: int
    done: int
    status: str


def audit_lines(facts: Sequence[Fact], as_of: date) -> list[AuditLine]:
    """The audits of a subject recorded by ``as_of`` (their disputes and moderations by
    then applied), from the one fold."""
    by_then = [f for f in facts if f.day <= as_of]
    made = {str(f.data["audit_id"]): f for f in by_then if f.kind in AUDIT_EVENTS}
    entries, _ = timeline_of(by_then).entries_at(None)
    lines: list[AuditLine] = []
    for audit_id, fact in made.items():
        fields = entries.get(audit_id, {})
        lines.append(
            AuditLine(
                audit_id=audit_id,
                audited_on=fact.day,
                auditor_id=str(fields.get("auditor_id")),
                graded=str(fields.get("graded")),
                judgement=str(fields.get("judgement")),
                disputed_by=fields.get("disputed_by"),
                moderated_by=fields.get("moderated_by"),
                evidence=(fact.position,),
            )
        )
    return sorted(lines, key=lambda line: (line.audited_on, line.audit_id))


@dataclass(frozen=True)
class TrackerColumn:
    session_id: str
    held_on: date


@dataclass(frozen=True)
class TrackerRow:
    child_id: str
    local_child_id: str
    allocated: list[tuple[date, date | None]]
    #: Sessions (column ids) at which the child was discussed.
    discussed_at: list[str]
    #: Case supervisions of this child by this worker in the period outside a session.
    discussed_outside_sessions: int
    #: In the period of the pack's counted rule (SHR-3.6e: 6 months); None where the
    #: authority's policy counts no case discussions.
    discussed_in_last_six_months: int | None
    #: The rule's count reached in that period [SHR-3.6e]; None: no such rule.
    twice_in_six_months: bool | None
    last_case_supervision: date | None
    next_due: date | None
    next_due_rule: str | None
    #: The child's windows that closed without a case supervision in the period.
    breached_windows: int = 0
    breached_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseTracker:
    staff_id: str
    start: date
    end: date
    columns: list[TrackerColumn]
    rows: list[TrackerRow]
    #: The authority's own rule counting each case's discussions (SHR-3.6e); None: its
    #: policy requires no such count, and no other council's rule stands in for it.
    counted_rule: str | None = None

    @property
    def required_by_policy(self) -> bool:
        """Whether the authority's policy counts each case's discussions."""
        return self.counted_rule is not None


@dataclass(frozen=True)
class ChildOnTracker:
    child_id: str
    profile: Profile
    facts: Sequence[Fact]  # corrections applied, valid-time order
    obligations: Sequence[Obligation]
    allocations: Sequence[Allocation]


CASE_SUPERVISION: frozenset[EventType] = frozenset(
    {CaseSupervisionRecorded, GroupSupervisionDiscussionRecorded}
)


def case_tracker(
    staff_id: str,
    worker_facts: Sequence[Fact],
    children: Sequence[ChildOnTracker],
    start: date,
    end: date,
    minimum: Rule | None,
) -> CaseTracker:
    """The tracker for ``[start, end]`` (inclusive). ``minimum`` is the pack's rule for
    how often each case is discussed within a period (SHR-3.6e: twice in six months):
    the sheet's check column counts the period ending on ``end``. None: the authority's
    policy has no such rule, and the tracker shows the discussions without a count."""
    assert minimum is None or (minimum.kind == "minimum_count" and minimum.period is not None)
    sessions = [
        f for f in worker_facts if f.kind is SupervisionSessionHeld and start <= f.day <= end
    ]
    columns = [TrackerColumn(str(f.data["session_id"]), f.day) for f in sessions]
    by_id = {c.session_id for c in columns}
    by_day = {c.held_on: c.session_id for c in columns}
    required = minimum.count.get("*", min(minimum.count.values())) if minimum else None
    window_from = (
        minimum.period.before(end) + timedelta(days=1)
        if minimum is not None and minimum.period is not None
        else None
    )
    rows: list[TrackerRow] = []
    for child in children:
        spans = [
            (a.start, a.end)
            for a in child.allocations
            if a.worker_id == staff_id and a.start <= end and (a.end is None or a.end >= start)
        ]
        if not spans:
            continue
        discussed: list[str] = []
        outside = 0
        recent = 0
        last: date | None = None
        for fact in child.facts:
            if fact.kind not in CASE_SUPERVISION or fact.day > end:
                continue
            last = fact.day if last is None or fact.day > last else last
            if window_from is not None and fact.day >= window_from:
                recent += 1
            if fact.day < start:
                continue
            session = fact.data.get("session_id")
            column = str(session) if session in by_id else by_day.get(fact.day)
            if column is not None:
                if column not in discussed:
                    discussed.append(column)
            elif fact.data.get("worker_id") in (staff_id, None):
                outside += 1
        nxt = _next_due(child.obligations, end)
        breached, by_rule = breached_in(child.obligations, start, end)
        rows.append(
            TrackerRow(
                child_id=child.child_id,
                local_child_id=child.profile.local_id,
                allocated=spans,
                discussed_at=discussed,
                discussed_outside_sessions=outside,
                discussed_in_last_six_months=recent if required is not None else None,
                twice_in_six_months=recent >= required if required is not None else None,
                last_case_supervision=last,
                next_due=nxt.due_on if nxt else None,
                next_due_rule=nxt.rule_id if nxt else None,
                breached_windows=len(breached),
                breached_by_rule=by_rule,
            )
        )
    rows.sort(key=lambda r: r.local_child_id)
    return CaseTracker(
        staff_id, start, end, columns, rows, minimum.rule_id if minimum is not None else None
    )


def _next_due(found: Sequence[Obligation], as_of: date) -> Obligation | None:
    """The case supervision the child's pack requires next: of each recurring rule's
    current cycle (the last to arise by ``as_of``), the earliest still open."""
    current: dict[str, Obligation] = {}
    for o in found:
        if o.kind != "recurring" or o.arises_on > as_of:
            continue
        if o.rule_key not in current or o.arises_on >= current[o.rule_key].arises_on:
            current[o.rule_key] = o
    open_ones = [
        o
        for o in current.values()
        if o.due_on is not None and (o.satisfied_on is None or o.satisfied_on > as_of)
    ]
    return min(open_ones, key=lambda o: o.due_on or date.max, default=None)


# -- a team's group sessions [DEV-7, POR-3.3] (ADR 0024) -------------------------------------


@dataclass(frozen=True)
class TeamSessionRow:
    session_id: str
    kind: str  # in the policy's words: group supervision, team meeting, ...
    held_on: date
    facilitator_id: str
    attendees: tuple[str, ...]
    previous_on: date | None  # the team's session before it, of any kind
    gap_days: int | None
    evidence: tuple[int, ...]


@dataclass(frozen=True)
class TeamSheet:
    """A team's group sessions, and its team rules' windows that closed without one:
    Devon's Service Manager's "record of all Group Supervisions" (DEV-7), Portsmouth's
    programme (POR-3.3)."""

    team: str
    as_of: date
    since: date
    sessions: list[TeamSessionRow]
    breached: list[BreachedWindow] = field(default_factory=list)
    breached_by_rule: dict[str, int] = field(default_factory=dict)


def team_sheet(
    team: str,
    sessions: Sequence[TeamSession],
    found: Sequence[Obligation],
    as_of: date,
    since: date | None = None,
) -> TeamSheet:
    """``sessions``: the team's (``team_obligations.team_sessions``); ``found``: its
    obligations, whose windows breached in ``[since, as_of]`` (a year to ``as_of`` by
    default) the sheet counts."""
    since = since or as_of - timedelta(days=365)
    rows: list[TeamSessionRow] = []
    previous: date | None = None
    for s in sorted(sessions, key=lambda s: (s.day, s.fact.position)):
        if s.team != team or s.day > as_of:
            continue
        rows.append(
            TeamSessionRow(
                session_id=s.session_id,
                kind=s.kind.words,
                held_on=s.day,
                facilitator_id=s.facilitator_id,
                attendees=s.attendees,
                previous_on=previous,
                gap_days=(s.day - previous).days if previous else None,
                evidence=(s.fact.position,),
            )
        )
        previous = s.day
    breached, by_rule = breached_in(found, since, as_of)
    return TeamSheet(team, as_of, since, [r for r in rows if r.held_on >= since], breached, by_rule)
