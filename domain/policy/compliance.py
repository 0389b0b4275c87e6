"""Compliance: a worker's or child's recorded facts against its authority's pack (ADR 0009).

Evaluation has two steps, so that it can be incremental and bitemporal:

1. ``obligations(facts, pack, calendar)``: every obligation the rules create over the
   subject's life, each with the day it arises, its due day and the day it was met (if
   it was), and the positions of the events it rests on. This depends only on what was
   recorded (the facts given), not on the date asked about: the compliance projection
   keeps it per subject, and recomputes it only for subjects a new event touches. For a
   *known-at* question the caller passes only the facts recorded by then.
2. ``finding(obligation, as_of)``: its status on any as-of day: met, due soon, overdue,
   breached, or not applicable, with a sentence a manager can read that cites the rule.

An obligation is a *window* (``arises_on`` to ``due_on``). What follows a window, and
whether one past its due day is breached or overdue, depends on the rule kind only
(``WINDOWS_CLOSE``): an interval's missed window is breached and the next opens at once,
an annual minimum's year closes and the next year follows, a deadline has one window that
stays overdue until done.

Days are local days in England (Europe/London): an event at 00:30 BST on 1 June counts
on 1 June.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    ActionCarriedForward,
    ActionCompleted,
    ActionSet,
    AppraisalHeld,
    CaseSupervisionRecorded,
    DirectObservationRecorded,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    LineManagerChanged,
    ManagementOversightRecorded,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionHeld,
    WorkerRegistered,
    named,
)
from domain.policy.calendar import Period, WorkingCalendar
from domain.policy.clocks import run as run_clock
from domain.policy.packs import Pack, Rule
from domain.policy.timeline import (
    Fact,
    Life,
    Timeline,
    _date,
    timeline_of,
)


class Status(StrEnum):
    MET = "met"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    BREACHED = "breached"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Obligation:
    """Something a rule requires of the subject, and whether and when it was done."""

    rule_key: str
    rule_id: str
    kind: str
    arises_on: date
    due_on: date | None  # None: not applicable (e.g. absent, or no longer covered)
    satisfied_on: date | None
    evidence: tuple[int, ...]
    #: What the sentence needs: what was due ("formal supervision"), the last time it
    #: happened, counts, working days taken.
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule_key: str
    status: Status
    due_on: date | None
    evidence: tuple[int, ...]
    sentence: str
    #: The window the finding is about: it opened on ``window_start`` and closes at the
    #: end of ``window_end``, its due day (None: not applicable).
    window_start: date
    window_end: date | None


# -- facts -------------------------------------------------------------------------------


def known_facts(facts: Iterable[Fact], known_at: datetime | None = None) -> list[Fact]:
    """The facts recorded by ``known_at`` (all, if None), corrections applied in
    recorded order, in valid-time order (``Timeline.facts``). Before a correction was
    recorded, the original stands (ADR 0007)."""
    return Timeline(facts, known_at).facts


# -- the subject over time -----------------------------------------------------------------


def registration_of(facts: Sequence[Fact]) -> Fact | None:
    """The fact that registered the worker or child (None: not a worker or child)."""
    return timeline_of(facts).registration


def life_of(facts: Sequence[Fact]) -> Life | None:
    """The subject's life (``Timeline.life``)."""
    return timeline_of(facts).life


_CONDITION_ATTRIBUTE = {
    "roles": "role",
    "case_holding": "case_holding",
    "employment_patterns": "employment_pattern",
    "engagements": "engagement",
    "case_types": "case_type",
    "risk_levels": "risk_level",
    "rags": "rag",
}


def _as_written(value: Any) -> str:
    """An attribute as a pack writes the values it allows (``true``, ``cp``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _applies(rule: Rule, life: Life, day: date) -> bool:
    attributes = life.at(day)
    for condition, allowed in rule.when.items():
        if _as_written(attributes.get(_CONDITION_ATTRIBUTE[condition])) not in allowed:
            return False
    if rule.window is not None:
        anchor = life.asye_start if rule.window.anchor == "asye_start" else life.start
        if anchor is None:
            return False
        if rule.window.start is not None and day < rule.window.start.after(anchor):
            return False
        if rule.window.end is not None and day >= rule.window.end.after(anchor):
            return False
    under_age = rule.under_age
    return under_age is None or (life.born is not None and day < under_age.after(life.born))


def _boundaries(rule: Rule, life: Life, horizon: date) -> list[date]:
    days = {life.start, *(c.day for c in life.changes)}
    if rule.window is not None:
        anchor = life.asye_start if rule.window.anchor == "asye_start" else life.start
        if anchor is not None:
            for period in (rule.window.start, rule.window.end):
                if period is not None:
                    days.add(period.after(anchor))
    if rule.under_age is not None and life.born is not None:
        days.add(rule.under_age.after(life.born))
    last = min(horizon, life.end) if life.end else horizon
    return sorted(d for d in days if life.start <= d <= last)


def segments(rule: Rule, life: Life, horizon: date) -> list[tuple[date, date | None]]:
    """The spans [start, end) of the subject's life in which the rule applies; the last
    may be open (None) when it still applies at the horizon."""
    spans: list[tuple[date, date | None]] = []
    open_from: date | None = None
    for day in _boundaries(rule, life, horizon):
        applies = _applies(rule, life, day)
        if applies and open_from is None:
            open_from = day
        elif not applies and open_from is not None:
            spans.append((open_from, day))
            open_from = None
    if open_from is not None:
        end = life.end + timedelta(days=1) if life.end else None
        spans.append((open_from, end))
    return spans


# -- what each kind of rule requires -------------------------------------------------------


def _obligation(
    rule: Rule,
    arises_on: date,
    due_on: date | None,
    satisfied_on: date | None,
    evidence: Iterable[int | None],
    detail: Mapping[str, Any],
) -> Obligation:
    return Obligation(
        rule_key=rule.key,
        rule_id=rule.rule_id,
        kind=rule.kind,
        arises_on=arises_on,
        due_on=due_on,
        satisfied_on=satisfied_on,
        evidence=tuple(p for p in evidence if p is not None),
        detail=detail,
    )


NOUNS: Mapping[EventType, str] = {
    SupervisionSessionHeld: "formal supervision",
    SupervisionAgreementSigned: "supervision agreement review",
    SupervisionAgreementReviewed: "supervision agreement review",
    GroupSupervisionAttended: "group supervision",
    DirectObservationRecorded: "direct observation",
    AppraisalHeld: "appraisal",
    CaseSupervisionRecorded: "case supervision",
    GroupSupervisionDiscussionRecorded: "case supervision",
}


def _noun(rule: Rule) -> str:
    """What the rule counts, in words (by its first event)."""
    return NOUNS[named(rule.events[0])]


def _occasions(rule: Rule, facts: Sequence[Fact]) -> list[Fact]:
    kinds = frozenset(named(e) for e in rule.events)
    minimum = rule.min_duration_minutes
    chosen = []
    for fact in facts:
        kind = fact.kind
        if kind not in kinds:
            continue
        if (
            minimum is not None
            and kind is SupervisionSessionHeld
            and int(fact.data.get("duration_minutes", 0)) < minimum
        ):
            continue
        chosen.append(fact)
    return chosen


@dataclass(frozen=True)
class _Absence:
    start: date
    end: date | None
    kind: str


def _absences(facts: Sequence[Fact]) -> list[_Absence]:
    started: dict[str, Fact] = {}
    ended: dict[str, date] = {}
    for fact in facts:
        if fact.kind is AbsenceStarted:
            started[str(fact.data["absence_id"])] = fact
        elif fact.kind is AbsenceEnded:
            ended[str(fact.data["absence_id"])] = _date(fact.data["returned_on"])
    return [
        _Absence(_date(f.data["started_on"]), ended.get(i), str(f.data["kind"]))
        for i, f in started.items()
    ]


def agreed_interval(facts: Sequence[Fact], day: date) -> Period | None:
    """The frequency in force on ``day``: an approved exception, else the agreement's."""
    agreed: Period | None = None
    exception: Period | None = None
    for fact in facts:
        if fact.day > day:
            break
        if fact.kind is SupervisionAgreementSigned:
            agreed = Period.parse(str(fact.data["frequency"]))
        elif fact.kind is SupervisionFrequencyExceptionApproved:
            exception = Period.parse(str(fact.data["frequency"]))
    return exception or agreed


def _recurring(rule: Rule, facts: Sequence[Fact], life: Life, horizon: date) -> list[Obligation]:
    """Consecutive windows, each due one interval after the day it counts from: the
    segment's start, the act that met the window before (the next window opens on that
    day), or the due day of a window that closed without it (the next window opens the
    day after: ``WINDOWS_CLOSE``). Computed to ``horizon``, so a missed run keeps opening
    windows, one finding each."""
    assert rule.interval is not None
    occasions = _occasions(rule, facts)
    absences = _absences(facts) if rule.subject == "worker" else []
    noun = _noun(rule)
    found: list[Obligation] = []
    for start, end in segments(rule, life, horizon):
        # The window opens on ``opens`` and is due one interval after ``base``; acts count
        # in it from ``opens`` (the segment's first window) or after ``counted_to``.
        opens, base, last_day, last_position = start, start, start, None
        counted_to: date | None = None
        index = 0
        while opens <= horizon:
            interval = rule.interval
            if rule.interval_from_agreement:
                interval = agreed_interval(facts, base) or rule.interval
            due: date | None = interval.after(base)
            if end is not None and due is not None and due >= end:
                break  # the rule stops applying before this falls due
            # While the supervisee is absent nothing can be held: due on their return.
            for absence in absences:
                if (
                    due is not None
                    and absence.start <= due
                    and (absence.end is None or due < absence.end)
                ):
                    due = absence.end
            while index < len(occasions) and (
                occasions[index].day < opens
                or (counted_to is not None and occasions[index].day <= counted_to)
            ):
                index += 1
            nxt = occasions[index] if index < len(occasions) else None
            if nxt is not None and (
                (end is not None and nxt.day >= end) or (due is not None and nxt.day > due)
            ):
                nxt = None  # not in this window
            found.append(
                _obligation(
                    rule,
                    opens,
                    due,
                    nxt.day if nxt else None,
                    (last_position, nxt.position if nxt else None),
                    {
                        "noun": noun,
                        "since": last_day.isoformat(),
                        "since_occasion": last_position is not None,
                        "interval": interval.code,
                    },
                )
            )
            if due is None:
                break  # absent with no return recorded: nothing falls due after this
            if nxt is None:
                # Closed without the act at the end of its due day: the next window
                # opens the day after, due one interval from the end of this one.
                base, counted_to, opens = due, due, due + timedelta(days=1)
            else:
                opens = base = counted_to = last_day = nxt.day
                last_position = nxt.position
    return found


def _minimum_count(
    rule: Rule, facts: Sequence[Fact], life: Life, horizon: date
) -> list[Obligation]:
    assert rule.period is not None
    occasions = _occasions(rule, facts)
    noun = _noun(rule)
    found: list[Obligation] = []
    window_start = life.start
    while window_start <= horizon:
        window_end = rule.period.after(window_start)  # exclusive
        last_day = window_end - timedelta(days=1)
        if life.end is not None and life.end < last_day:
            break  # left part-way: a part-year is not held to a full year's count
        if _applies(rule, life, window_start):
            pattern = str(life.at(window_start).get("employment_pattern", "*"))
            required = rule.count.get(pattern, rule.count.get("*"))
            if required is not None:
                inside = [o for o in occasions if window_start <= o.day < window_end]
                reached = inside[required - 1] if len(inside) >= required else None
                found.append(
                    _obligation(
                        rule,
                        window_start,
                        last_day,
                        reached.day if reached else None,
                        (o.position for o in inside),
                        {
                            "noun": noun,
                            "required": required,
                            "counted": [o.day.isoformat() for o in inside],
                            "period": rule.period.code,
                        },
                    )
                )
        window_start = window_end
    return found


def supervisor_on(facts: Sequence[Fact], day: date) -> str | None:
    """A worker's supervisor on ``day``: the one their latest agreement names, else their
    line manager (staff ids; facts in valid-time order)."""
    manager: str | None = None
    agreed: str | None = None
    for fact in facts:
        if fact.day > day:
            break
        if fact.kind in (WorkerRegistered, LineManagerChanged):
            manager = fact.data.get("line_manager_id")
        elif fact.kind is SupervisionAgreementSigned:
            agreed = str(fact.data["supervisor_id"])
    return agreed or manager


def _deadline_clocks(
    rule: Rule, facts: Sequence[Fact], related: Mapping[str, Sequence[Fact]]
) -> Iterable[tuple[Fact, date, Fact | None, str, str]]:
    """(the event that starts the clock, its day, the event that stops it, what is due,
    the id of the item it concerns): the rule's clock, as its pack defines it, run by the
    clock engine (``domain/policy/clocks.py``)."""
    assert rule.clock_definition is not None
    return run_clock(rule.clock_definition, facts, related, rule.after)


@dataclass
class ActionItem:
    """An agreed action on a child's case, as the actions register shows it."""

    action_id: str
    description: str
    owner: str | None
    set_on: date
    due_on: date
    completed_on: date | None = None
    carried_forward: int = 0
    evidence: list[int] = field(default_factory=list)


def action_items(facts: Sequence[Fact]) -> list[ActionItem]:
    """Every action set on the subject, with its current due date: carrying it forward
    with a rationale resets that date [POR-6.1]."""
    found: dict[str, ActionItem] = {}
    for fact in facts:
        listed: list[Any] = []
        if fact.kind in (CaseSupervisionRecorded, ManagementOversightRecorded):
            listed = list(fact.data.get("actions", []))
        elif fact.kind is ActionSet:
            listed = [fact.data["action"]]
        for action in listed:
            found[str(action["action_id"])] = ActionItem(
                action_id=str(action["action_id"]),
                description=str(action.get("description", "")),
                owner=action.get("owner"),
                set_on=fact.day,
                due_on=_date(action["due_on"]),
                evidence=[fact.position],
            )
        item = found.get(str(fact.data.get("action_id")))
        if item is None:
            continue
        if fact.kind is ActionCarriedForward:
            item.due_on = _date(fact.data["new_due_on"])
            item.carried_forward += 1
            item.evidence.append(fact.position)
        elif fact.kind is ActionCompleted:
            item.completed_on = fact.day
            item.evidence.append(fact.position)
    return list(found.values())


def _actions(rule: Rule, facts: Sequence[Fact]) -> list[Obligation]:
    """Each action is due on its own due date; late completion or none is drift."""
    return [
        _obligation(
            rule,
            item.set_on,
            item.due_on,
            item.completed_on,
            item.evidence,
            {"noun": f"action {item.action_id}", "clock": "action_due", "item": item.action_id},
        )
        for item in action_items(facts)
    ]


def _deadline(
    rule: Rule,
    facts: Sequence[Fact],
    life: Life,
    calendar: WorkingCalendar,
    related: Mapping[str, Sequence[Fact]],
) -> list[Obligation]:
    if rule.clock == "action_due":
        return [o for o in _actions(rule, facts) if _applies(rule, life, o.arises_on)]
    assert rule.within is not None
    found: list[Obligation] = []
    for start, day, done, what, item in _deadline_clocks(rule, facts, related):
        if not _applies(rule, life, day):
            continue
        due = rule.within.after(day, calendar)
        satisfied = done.day if done is not None else None
        taken = (
            calendar.working_days_between(day, satisfied)
            if satisfied is not None and rule.within.working_days
            else ((satisfied - day).days if satisfied is not None else None)
        )
        found.append(
            _obligation(
                rule,
                day,
                due,
                satisfied,
                (start.position, done.position if done else None),
                {
                    "noun": what,
                    "clock": rule.clock,
                    "item": item,
                    "within": rule.within.code,
                    "taken": taken,
                },
            )
        )
    return found


def obligations(
    facts: Sequence[Fact],
    pack: Pack,
    calendar: WorkingCalendar,
    horizon: date,
    related: Mapping[str, Sequence[Fact]] | None = None,
) -> list[Obligation]:
    """Every obligation the pack's rules create over the subject's life up to
    ``horizon`` (facts as given: pass ``known_facts`` for a known-at question).
    ``related``: other workers' facts a rule needs, by staff id (a worker's supervisors,
    for their absences)."""
    ordered = sorted(facts, key=lambda f: (f.occurred_at, f.position))
    life = life_of(facts)
    if life is None:
        return []
    found: list[Obligation] = []
    for rule in pack.rules_for(life.subject):
        if rule.kind == "recurring":
            found.extend(_recurring(rule, ordered, life, horizon))
        elif rule.kind == "minimum_count":
            found.extend(_minimum_count(rule, ordered, life, horizon))
        else:
            found.extend(_deadline(rule, ordered, life, calendar, related or {}))
    return found


# -- status on a day, in words ----------------------------------------------------------------


#: Rule kinds whose window closes on its due day, what follows it, and so what a window
#: past its due day without the act is (ADR 0009, addendum):
#:
#: - ``recurring`` (an interval): closes; the next window opens at once and runs one
#:   interval from the act that met this one, or from the end of this one if it was
#:   missed. Missed: BREACHED, one finding per window (auditors count missed months).
#: - ``minimum_count`` (an annual minimum): closes at the period's end; the next period
#:   (year) follows. Not reached: BREACHED.
#: - ``deadline`` (a working-day or calendar deadline from a clock): one window only,
#:   which stays open until the act. Past due and not done: OVERDUE; done late: BREACHED.
WINDOWS_CLOSE = {"recurring": True, "minimum_count": True, "deadline": False}


def closes(kind: str) -> bool:
    """Whether windows of this rule kind close on their due day (``WINDOWS_CLOSE``)."""
    return WINDOWS_CLOSE.get(kind, False)


def status_at(obligation: Obligation, as_of: date, due_soon: Period) -> Status:
    """The window's status on ``as_of``: met (done in it, or open and not yet due), due
    soon, overdue (open past due: a deadline's only window), breached (closed without the
    act, or done after it closed) or not applicable."""
    if obligation.satisfied_on is not None and obligation.satisfied_on <= as_of:
        if obligation.due_on is None or obligation.satisfied_on <= obligation.due_on:
            return Status.MET
        return Status.BREACHED
    if obligation.due_on is None:
        return Status.NOT_APPLICABLE
    if as_of > obligation.due_on:
        return Status.BREACHED if closes(obligation.kind) else Status.OVERDUE
    if due_soon.after(as_of) >= obligation.due_on:
        return Status.DUE_SOON
    return Status.MET


def closed_without_act(obligation: Obligation, as_of: date) -> bool:
    """A window that had closed by ``as_of`` with nothing done in it (a breached window,
    as tracking sheets and summaries count them)."""
    return (
        closes(obligation.kind)
        and obligation.due_on is not None
        and obligation.due_on < as_of
        and (obligation.satisfied_on is None or obligation.satisfied_on > obligation.due_on)
    )


def breached_windows(found: Iterable[Obligation], since: date, as_of: date) -> list[Obligation]:
    """The windows that closed without the act with their due day in ``[since, as_of)``:
    a window still open on ``as_of`` (due that day) has not closed."""
    return [
        o
        for o in found
        if o.due_on is not None and since <= o.due_on and closed_without_act(o, as_of)
    ]


def finding(obligation: Obligation, as_of: date, due_soon: Period) -> Finding:
    status = status_at(obligation, as_of, due_soon)
    return Finding(
        rule_id=obligation.rule_id,
        rule_key=obligation.rule_key,
        status=status,
        due_on=obligation.due_on,
        evidence=obligation.evidence,
        sentence=sentence(obligation, status, as_of),
        window_start=obligation.arises_on,
        window_end=obligation.due_on,
    )


def findings(found: Iterable[Obligation], as_of: date, due_soon: Period) -> list[Finding]:
    """The findings on ``as_of``: every obligation that had arisen by then."""
    return [finding(o, as_of, due_soon) for o in found if o.arises_on <= as_of]


def sentence(obligation: Obligation, status: Status, as_of: date) -> str:
    d = obligation.detail
    rule = obligation.rule_id
    noun = str(d.get("noun", "it"))
    done = obligation.satisfied_on if status in (Status.MET, Status.BREACHED) else None
    if obligation.kind == "recurring":
        allowed = Period.parse(str(d["interval"])).words()
        since = date.fromisoformat(str(d["since"]))
        origin = (
            f"since {since.isoformat()}"
            if d.get("since_occasion")
            else (f"since the rule applied on {since.isoformat()}")
        )
        if status is Status.NOT_APPLICABLE:
            return f"No {noun} due while absent; {rule} applies again on return."
        if done is not None and obligation.arises_on > since:
            return (
                f"{noun.capitalize()} on {done.isoformat()}, in the window "
                f"{obligation.arises_on} to {obligation.due_on} (none {origin} before it); "
                f"{rule} allows at most {allowed}."
            )
        if done is not None:
            gap = (done - since).days
            verdict = "within" if status is Status.MET else "beyond"
            return (
                f"{noun.capitalize()} on {done.isoformat()}, {gap} days {origin}: "
                f"{verdict} the {allowed} {rule} allows."
            )
        if status is Status.BREACHED and obligation.due_on is not None:
            gap = (obligation.due_on - since).days
            return (
                f"No {noun} in the window {obligation.arises_on} to {obligation.due_on} "
                f"({gap} days {origin} at its end); {rule} allows at most {allowed}."
            )
        gap = (as_of - since).days
        if status is Status.OVERDUE:
            return f"No {noun} for {gap} days ({origin}); {rule} allows at most {allowed}."
        none_since = f" (none {origin})" if obligation.arises_on > since else ""
        return (
            f"Next {noun} due by {obligation.due_on}{none_since}; {rule} allows at most {allowed}."
        )
    if obligation.kind == "minimum_count":
        counted = len(d.get("counted", []))
        required = int(d["required"])
        period = Period.parse(str(d["period"])).words()
        span = f"{obligation.arises_on.isoformat()} to {obligation.due_on}"
        if status is Status.MET and done is not None:
            return (
                f"{required} {noun} sessions reached on {done} ({span}); "
                f"{rule} requires {required}."
            )
        return (
            f"{counted} of {required} {noun} sessions in the {period} {span}; "
            f"{rule} requires at least {required}."
        )
    # deadlines
    within = d.get("within")
    limit = Period.parse(str(within)).words() if within else f"until {obligation.due_on}"
    start = obligation.arises_on.isoformat()
    if d.get("clock") == "action_due":
        if done is not None:
            assert obligation.due_on is not None
            days_late = (done - obligation.due_on).days
            late = "" if status is Status.MET else f", {days_late} days late"
            return (
                f"{noun.capitalize()} completed on {done}{late} (due {obligation.due_on}; {rule})."
            )
        if status is Status.OVERDUE:
            assert obligation.due_on is not None
            overdue = (as_of - obligation.due_on).days
            return (
                f"{noun.capitalize()} overdue by {overdue} days "
                f"(due {obligation.due_on}): drift; {rule}."
            )
        return f"{noun.capitalize()} due {obligation.due_on} ({rule})."
    if done is not None:
        taken = d.get("taken")
        unit = "working days" if within and str(within).endswith("WD") else "days"
        verdict = "within" if status is Status.MET else "beyond"
        return (
            f"{noun.capitalize()} on {done}, {taken} {unit} after {start}: "
            f"{verdict} the {limit} {rule} allows."
        )
    if status is Status.OVERDUE:
        return f"Overdue since {obligation.due_on}: {noun}, {limit} after {start} under {rule}."
    return f"{noun.capitalize()} due by {obligation.due_on} ({limit} after {start}; {rule})."
