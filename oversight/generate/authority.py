"""A generated authority at scale, for benchmarks, load tests and demos (ADR 0015).

``oversight demo generate --scale small|medium|large --seed N`` builds one synthetic,
deterministic authority: the same seed, scale and last day give the same commands with
the same ids, so a second run (or a run resumed after a crash) writes nothing twice.

Its shape follows the packs' rules month by month, for every open case and every
supervisee:

- personal supervision every month, with cancellations, reschedules and sessions that
  never happen; records written late, signed, and now and then disputed [DUR-4.2,
  DUR-4.4, DUR-4.7a, POR-6.2a];
- case supervision of each open case, most in the worker's session and the rest on
  their own, with actions set and completed and some left to drift [DUR-4.6a,
  DEV-5.1b, DEV-5.3, POR-6.1];
- the key points that need a manager's oversight (allocation, coming into care,
  returning home, incidents, closure) answered within days, or not at all [DEV-6];
- looked-after children's reviews, placement moves, disagreements and escalations
  [DUR-4.10], sickness absence, and practitioners who leave and are replaced, their
  cases reallocated [SSDA903 LEFTRL].

Cases open and close throughout, so the open caseload stays near the scale's size while
the number of children ever known grows. Commands are yielded in time order, a month at
a time, so even the large scale is generated in bounded memory.

A scale with ``archive`` also migrates in records from before the history: a leaver of
2016 with their supervision records and three cases closed in 2014, one under a legal
hold, so the purge schedule has something due (ADR 0012). The demo authorities are such
scales (``oversight.generate.demo``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from domain import commands as c
from domain.errors import ValidationError
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.vocabulary import DisagreementSubject, Role
from oversight.generate.groups import GroupSessions
from oversight.generate.quality import QualityAudits

#: The last day of a generated history unless another is given: fixed, so that a seed
#: always generates the same authority (and a re-run replays it from its receipts).
DEFAULT_UNTIL = date(2026, 11, 1)


@dataclass(frozen=True)
class Scale:
    """How big a generated authority is."""

    name: str
    teams: int
    practitioners: int
    open_cases: int
    years: int
    #: Migrate in records from before the history (a leaver of 2016, closed cases).
    archive: bool = False

    @property
    def service_managers(self) -> int:
        return max(1, self.teams // 5)

    @property
    def workers(self) -> int:
        return 1 + self.service_managers + self.teams + self.practitioners


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        # About 40 workers, 450 open cases, two years: tens of thousands of events.
        Scale("small", teams=4, practitioners=36, open_cases=450, years=2),
        # About 300 workers, 4,000 open cases, five years: 1-2 million events.
        Scale("medium", teams=24, practitioners=270, open_cases=4_000, years=5),
        # Twice the medium authority: about 2 million events (the size at which the
        # point-in-time history is benchmarked, issue 18).
        Scale("medium-x2", teams=48, practitioners=540, open_cases=8_000, years=5),
        # About 1,300 workers, 18,000 open cases, ten years: about 10 million events.
        Scale("large", teams=110, practitioners=1_200, open_cases=18_000, years=10),
        # The demo authorities (``oversight demo seed``): two years and an archive; the
        # full-size one holds the Durham pack, the small ones each of the other packs.
        Scale("demo", teams=5, practitioners=22, open_cases=150, years=2, archive=True),
        Scale("demo-small", teams=2, practitioners=8, open_cases=25, years=2, archive=True),
    )
}

#: Case types and their share of new cases, and how long such a case stays open (days).
CASE_TYPES = {
    "assessment": (14, 45, 120),
    "cin": (32, 120, 420),
    "cp": (20, 180, 540),
    "cla": (18, 365, 1_500),
    "care_leaver": (6, 365, 1_400),
    "feh": (6, 90, 300),
    "disability": (4, 365, 1_200),
}
#: What every generated case supervision records (the fields of a case discussion).
DISCUSSION: dict[str, Any] = {
    "current_situation": (
        "Plan progressing; school attendance improved; family engaging with support."
    ),
    "childs_views": "Wants to stay at the current school and see grandparents more often.",
    "reflection": "Worker reflected on engagement with father and on what is not yet known.",
    "analysis": "Risks reducing; protective factors stronger; drift risk low.",
    "decision": "Continue the plan; review at the next supervision.",
    "rationale": "Evidence of sustained change over the last month.",
    "previous_actions_reviewed": "Previous actions reviewed: most completed, one carried on.",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class _Member:
    staff_id: str
    role: str
    team: str
    manager: str | None
    joined: date
    case_holding: bool
    caseload: list[str] = field(default_factory=list)
    sessions: int = 0
    next_session: date | None = None
    discussed: int = 0
    left: bool = False
    left_on: date | None = None


@dataclass
class _Case:
    child_id: str
    case_type: str
    worker: str
    opened: date
    closes_on: date
    in_care: bool = False
    next_review: date | None = None
    entries: int = 0
    actions: list[tuple[str, date]] = field(default_factory=list)
    action_count: int = 0
    last_supervised: date | None = None
    closed: bool = False


class AuthorityGenerator:
    """Yields one generated authority's commands in time order."""

    def __init__(
        self,
        scale: Scale,
        *,
        seed: int,
        until: date,
        authority_code: str,
        name: str | None = None,
        policy_pack: str = "DUR",
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.until = until
        self.code = authority_code
        self.name = name or f"Generated {scale.name} authority (seed {seed})"
        self.pack = policy_pack
        # A decision is escalated only where the pack has a chain for it (ADR 0022). An
        # unknown pack is refused, naming it, when the authority adopts it.
        try:
            pack = PackLibrary.load().get(policy_pack)
        except ValidationError:
            self._escalates = False
        else:
            chain = pack.authority.chain_for(DisagreementSubject.DECISION_ON_CHILD)
            self._escalates = chain is not None
        self.rng = random.Random(f"{seed}/{scale.name}/{authority_code}")
        self.start = until - timedelta(days=365 * scale.years)
        self.admin = Actor("ADMIN", Role.ADMINISTRATOR, authority_code)
        self.staff: dict[str, _Member] = {}
        self.cases: dict[str, _Case] = {}
        self.children = 0
        self.practitioners_hired = 0
        self._queue: list[tuple[datetime, int, c.Command]] = []
        #: Everything before this has been yielded: nothing may be added before it.
        self._floor = at(self.start, 0)
        self._counter = 0
        #: Teams' group sessions, where the pack has team rules [DEV-7, POR-3.3].
        self._groups = GroupSessions(self)
        self._audits = QualityAudits(self)  # ADR 0023

    # -- plumbing ----------------------------------------------------------------------

    def _cid(self, label: str) -> str:
        return f"gen-{self.code}-{self.seed}-{self._counter + 1}-{label}"

    def _add(self, when: datetime, make: Any, label: str, **fields: Any) -> str:
        if when.date() >= self.until:
            return ""
        if when < self._floor:
            msg = f"{label} at {when} is before the month already yielded ({self._floor})"
            raise AssertionError(msg)
        command_id = self._cid(label)
        self._counter += 1
        command = make(command_id=command_id, occurred_at=when, **fields)
        heapq.heappush(self._queue, (when, self._counter, command))
        return command_id

    def _actor(self, staff_id: str, role: Role) -> Actor:
        return Actor(staff_id, role, self.code)

    def commands(self) -> Iterator[c.Command]:
        self._setup()
        if self.scale.archive:
            self._archive(at(self.start, 9))
        month = date(self.start.year, self.start.month, 1)
        while month < self.until:
            following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            self._month(max(month, self.start), following)
            boundary = at(following, 0)
            while self._queue and self._queue[0][0] < boundary:
                yield heapq.heappop(self._queue)[2]
            self._floor = boundary
            month = following
        while self._queue:
            yield heapq.heappop(self._queue)[2]

    # -- the authority and its staff -----------------------------------------------------

    def _setup(self) -> None:
        day = self.start
        self._add(
            at(day, 8),
            c.RegisterAuthority,
            "authority",
            actor=self.admin,
            authority_code=self.code,
            name=self.name,
            policy_pack=self.pack,
        )
        self._hire("HOS01", "head_of_service", "Leadership", None, day)
        for n in range(1, self.scale.service_managers + 1):
            self._hire(f"SM{n:02d}", "service_manager", "Leadership", "HOS01", day)
        for n in range(1, self.scale.teams + 1):
            manager = f"SM{(n - 1) % self.scale.service_managers + 1:02d}"
            self._hire(f"TM{n:02d}", "team_manager", f"Team {n}", manager, day)
        for n in range(self.scale.practitioners):
            self._hire_practitioner(n % self.scale.teams + 1, day)

    def _hire_practitioner(self, team: int, day: date) -> _Member:
        self.practitioners_hired += 1
        n = self.practitioners_hired
        # One practitioner in eight is newly qualified [SWRB-5], so even a small
        # authority has one.
        role = "nqsw" if n % 8 == 5 else "social_worker"
        return self._hire(f"SW{n:03d}", role, f"Team {team}", f"TM{team:02d}", day)

    def _hire(self, staff_id: str, role: str, team: str, manager: str | None, day: date) -> _Member:
        rng = self.rng
        joined = day + timedelta(days=rng.randint(0, 6))
        case_holding = role in ("social_worker", "nqsw")
        part_time = case_holding and rng.random() < 0.15
        agency = case_holding and rng.random() < 0.12
        member = _Member(staff_id, role, team, manager, joined, case_holding)
        member.next_session = joined + timedelta(days=rng.randint(20, 30))
        self.staff[staff_id] = member
        self._add(
            at(joined, 9),
            c.RegisterWorker,
            f"register-{staff_id}",
            actor=self.admin,
            staff_id=staff_id,
            display_name=f"Worker {staff_id}",
            role=role,
            team=team,
            line_manager_id=manager,
            employment_pattern="part_time" if part_time else "full_time",
            fte=Decimal("0.6") if part_time else Decimal("1"),
            weekly_hours=Decimal("22.2") if part_time else Decimal("37"),
            engagement="agency" if agency else "permanent",
            start_date=joined,
            case_holding=case_holding,
            nqsw_asye_start=joined if role == "nqsw" else None,
        )
        if manager is not None:
            signed = joined + timedelta(days=3)
            # Each party signs for themselves: the supervisor, then the supervisee.
            for suffix, signer, hour in (
                ("", self._actor(manager, Role.SUPERVISOR), 14),
                ("-supervisee", self._actor(staff_id, Role.SUPERVISEE), 15),
            ):
                self._add(
                    at(signed, hour),
                    c.SignSupervisionAgreement,
                    f"agreement-{staff_id}{suffix}",
                    actor=signer,
                    staff_id=staff_id,
                    agreement_id=f"{staff_id}-SA1",
                    supervisor_id=manager,
                    frequency="P1M",
                    supervision_format="individual",
                    review_due_on=signed + timedelta(days=365),
                    escalation_manager_id=self.staff[manager].manager or "HOS01",
                )
        return member

    def _archive(self, after: datetime) -> None:
        """Records from before the history, migrated in: a leaver of 2016 with their
        supervision records, and three cases closed in 2014, one under a legal hold
        since 2025. Their retention periods have run (or not), so the purge schedule has
        something due (ADR 0012). Each is written just after the authority's first
        morning, with the day it really happened."""
        dpo = self._actor("DPO01", Role.DATA_PROTECTION_OFFICER)
        steps: list[tuple[date, Any, dict[str, Any]]] = []
        joined = date(2014, 1, 6)
        worker = {"staff_id": "ARCH01"}
        steps.append(
            (
                joined,
                c.RegisterWorker,
                {
                    **worker,
                    "display_name": "Archived Practitioner",
                    "role": "social_worker",
                    "team": "Archive",
                    "line_manager_id": None,
                    "employment_pattern": "full_time",
                    "fte": Decimal(1),
                    "engagement": "permanent",
                    "start_date": joined,
                    "case_holding": True,
                },
            )
        )
        for n, day in enumerate((date(2015, 2, 10), date(2015, 3, 10)), start=1):
            session = {**worker, "session_id": f"ARCH01-S{n}"}
            steps.append(
                (
                    day - timedelta(days=7),
                    c.ScheduleSupervisionSession,
                    {**session, "supervisor_id": "ARCHTM", "scheduled_for": at(day, 10)},
                )
            )
            steps.append(
                (
                    day,
                    c.HoldSupervisionSession,
                    {
                        **session,
                        "supervisor_id": "ARCHTM",
                        "duration_minutes": 90,
                        "functions_covered": ["management", "support", "development"],
                        "wellbeing_discussed": True,
                        "equality_and_diversity_discussed": True,
                    },
                )
            )
            steps.append(
                (
                    day + timedelta(days=1),
                    c.WritePersonalSupervisionRecord,
                    {
                        **session,
                        "record_id": f"ARCH01-R{n}",
                        "actions_reviewed": "Actions from the last session reviewed",
                        "wellbeing": "Well; workload discussed",
                        "workload": "Caseload of 18",
                        "development": "Court skills training booked",
                        "disagreements": None,
                        "agreed_actions": [],
                    },
                )
            )
        left = date(2016, 3, 31)
        steps.append((left, c.LeaveEmployment, {**worker, "last_day": left, "reason": "retired"}))
        for child, born, case_type in (
            ("ARCH-C01", date(1995, 6, 1), "cin"),
            ("ARCH-C02", date(2000, 1, 15), "cp"),
            ("ARCH-C03", date(1996, 9, 9), "cin"),
        ):
            steps.append(
                (
                    date(2013, 4, 2),
                    c.RegisterChild,
                    {
                        "child_id": child,
                        "date_of_birth": born,
                        "expected_date_of_birth": None,
                        "case_type": case_type,
                        "risk_level": "medium",
                    },
                )
            )
            steps.append(
                (
                    date(2014, 5, 20),
                    c.CloseCase,
                    {"child_id": child, "kind": "closed", "reason": "Needs met"},
                )
            )
        hold = {
            "child_id": "ARCH-C03",
            "hold_id": "HOLD-ARCH-C03",
            "kind": "subject_access_request",
            "reference": "SAR made by the former child, 2025",
        }
        held = date(2025, 1, 6)
        if held < self.start:  # placed before the history: migrated in with the rest
            steps.append((held, c.PlaceLegalHold, {**hold, "actor": dpo, "imported": False}))
        for index, (day, make, fields) in enumerate(steps):
            label = f"archive-{index}"
            command = make(
                **{
                    "command_id": self._cid(label),
                    "actor": self.admin,
                    "occurred_at": at(day, 10),
                    "imported": True,
                    **fields,
                }
            )
            self._counter += 1
            heapq.heappush(self._queue, (after + timedelta(seconds=index), self._counter, command))
        if self.start <= held:
            # A subject access request by the former child: their record is held past
            # its retention period.
            self._add(at(held, 10), c.PlaceLegalHold, "legal-hold-ARCH-C03", actor=dpo, **hold)

    # -- one month -------------------------------------------------------------------------

    def _month(self, first: date, following: date) -> None:
        days = (following - first).days
        self._turnover(first, days)
        self._new_cases(first, days)
        for case in list(self.cases.values()):
            self._case_month(case, first, following)
        for member in list(self.staff.values()):
            if member.manager is not None:
                self._supervision(member, following)
        self._groups.month(first, following)
        self._audits.month(first, following)

    def _practitioners(self, team: str | None = None) -> list[_Member]:
        return [
            m
            for m in self.staff.values()
            if m.case_holding and not m.left and (team is None or m.team == team)
        ]

    def _turnover(self, first: date, days: int) -> None:
        """About one practitioner in seven leaves a year; their cases go to colleagues in
        the team before they go, and a new practitioner joins the team."""
        rng = self.rng
        if first < self.start + timedelta(days=90):
            return
        leaving = [m for m in self._practitioners() if rng.random() < 0.012]
        for member in leaving:
            # Notice: the last day comes after every session already arranged is written
            # up and signed.
            last_day = first + timedelta(days=rng.randint(8, days - 1))
            if member.next_session is not None:
                last_day = max(last_day, member.next_session + timedelta(days=20))
            manager = self._actor(member.manager or "HOS01", Role.TEAM_MANAGER)
            colleagues = [
                m
                for m in self._practitioners(member.team)
                if m not in leaving and m.joined < last_day - timedelta(days=6)
            ]
            for index, child in enumerate(list(member.caseload)):
                if not colleagues:
                    break
                if self.cases[child].closes_on <= last_day - timedelta(days=5):
                    continue  # closes before the hand-over
                to = min(colleagues, key=lambda m: (len(m.caseload), m.staff_id))
                self._allocate(child, to, manager, at(last_day - timedelta(days=5), 9, index % 60))
            member.left = True
            member.left_on = last_day
            self._add(
                at(last_day, 17),
                c.LeaveEmployment,
                f"leave-{member.staff_id}",
                actor=self.admin,
                staff_id=member.staff_id,
                last_day=last_day,
                reason=rng.choice(["resigned", "resigned", "retired", "end_of_contract"]),
            )
            team = int(member.team.split()[-1])
            self._hire_practitioner(team, last_day + timedelta(days=rng.randint(7, 40)))

    def _allocate(self, child: str, to: _Member, manager: Actor, when: datetime) -> None:
        case = self.cases[child]
        previous = self.staff[case.worker]
        if child in previous.caseload:
            previous.caseload.remove(child)
        to.caseload.append(child)
        case.worker = to.staff_id
        command_id = self._add(
            when,
            c.AllocateWorker,
            f"reallocate-{child}",
            actor=manager,
            child_id=child,
            worker_id=to.staff_id,
            reason="LEFTRL",
            team=to.team,
        )
        self._answer(case, f"{command_id}:allocation_to_new_practitioner", when, manager)

    def _new_cases(self, first: date, days: int) -> None:
        """Open cases up to the scale's caseload: all at once in the first month (the
        caseload a council migrates in), then as others close."""
        rng = self.rng
        open_now = sum(1 for case in self.cases.values() if not case.closed)
        wanted = self.scale.open_cases - open_now
        if first > self.start + timedelta(days=31):
            wanted = min(wanted, int(self.scale.open_cases * 0.09) + rng.randint(0, 5))
        names = list(CASE_TYPES)
        weights = [CASE_TYPES[n][0] for n in names]
        for _ in range(max(0, wanted)):
            self.children += 1
            child = f"C{self.children:04d}"
            opened = first + timedelta(days=rng.randint(0, days - 1))
            case_type = rng.choices(names, weights)[0]
            _, shortest, longest = CASE_TYPES[case_type]
            team = rng.randint(1, self.scale.teams)
            workers = [
                m for m in self._practitioners(f"Team {team}") if m.joined < opened
            ] or self._practitioners(f"Team {team}")
            worker = min(workers, key=lambda m: (len(m.caseload), rng.random()))
            if worker.joined >= opened:
                opened = worker.joined + timedelta(days=1)
            case = _Case(
                child,
                case_type,
                worker.staff_id,
                opened,
                opened + timedelta(days=rng.randint(shortest, longest)),
            )
            self.cases[child] = case
            worker.caseload.append(child)
            risk = rng.choices(["low", "medium", "high"], [3, 5, 2])[0]
            age_days = rng.randint(30, 17 * 365) if case_type != "care_leaver" else 6_700
            # Now and then an assessment before birth, of a child not yet born.
            unborn = case_type in ("assessment", "cin", "cp") and rng.random() < 0.03
            self._add(
                at(opened, 10),
                c.RegisterChild,
                f"register-{child}",
                actor=self.admin,
                child_id=child,
                date_of_birth=None if unborn else opened - timedelta(days=age_days),
                expected_date_of_birth=opened + timedelta(days=60) if unborn else None,
                case_type=case_type,
                risk_level=risk,
                rag={"low": "green", "medium": "amber", "high": "red"}[risk],
            )
            manager = self._actor(worker.manager or "HOS01", Role.TEAM_MANAGER)
            command_id = self._add(
                at(opened, 11),
                c.AllocateWorker,
                f"allocate-{child}",
                actor=manager,
                child_id=child,
                worker_id=worker.staff_id,
                reason="NEW",
                team=worker.team,
            )
            self._answer(
                case, f"{command_id}:allocation_to_new_practitioner", at(opened, 11), manager
            )
            if case_type == "cla":
                into_care = opened + timedelta(days=rng.randint(0, 20))
                command_id = self._add(
                    at(into_care, 13),
                    c.RecordCameIntoCare,
                    f"care-{child}",
                    actor=self._actor(worker.staff_id, Role.PRACTITIONER),
                    child_id=child,
                    legal_status=rng.choice(["C2", "C2", "V2", "E1"]),
                    placement=rng.choice(["U1", "U3", "U4", "K2", "R1"]),
                )
                case.in_care = True
                case.next_review = into_care + timedelta(days=20)
                self._answer(case, f"{command_id}:came_into_care", at(into_care, 13), manager)

    def _answer(self, case: _Case, trigger_id: str, raised: datetime, manager: Actor) -> None:
        """A manager's oversight record answering a trigger: mostly within days [DEV-6],
        sometimes weeks late, now and then never."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.06 or not trigger_id.split(":")[0]:
            return
        delay = rng.randint(1, 5) if roll < 0.85 else rng.randint(6, 30)
        when = raised + timedelta(days=delay, hours=3)
        case.entries += 1
        case.action_count += 1
        action_id = f"{case.child_id}-A{case.action_count}"
        self._add(
            when,
            c.RecordManagementOversight,
            f"oversight-{case.child_id}",
            actor=manager,
            child_id=case.child_id,
            entry_id=f"{case.child_id}-MO{case.entries}",
            answers_trigger_ids=[trigger_id],
            reason=trigger_id.rsplit(":", 1)[-1].replace("_", " ").capitalize(),
            current_situation=DISCUSSION["current_situation"],
            decision="Agreed the plan; visit within 5 working days.",
            rationale=DISCUSSION["rationale"],
            actions=[
                {
                    "action_id": action_id,
                    "description": "Visit within 5 working days and see the child alone",
                    "owner": case.worker,
                    "due_on": when.date() + timedelta(days=7),
                }
            ],
        )

    # -- one case, one month -----------------------------------------------------------------

    def _case_month(self, case: _Case, first: date, following: date) -> None:
        if case.closed or case.opened >= following:
            return
        rng = self.rng
        worker = self.staff[case.worker]
        practitioner = self._actor(worker.staff_id, Role.PRACTITIONER)
        manager = self._actor(worker.manager or "HOS01", Role.TEAM_MANAGER)
        begin = max(first, case.opened + timedelta(days=1))
        # Nothing is done on a case after the day it closes.
        span = max(1, (min(following, case.closes_on) - begin).days)

        def some_day(lo: int = 0) -> date:
            return begin + timedelta(days=rng.randint(min(lo, span - 1), span - 1))

        # Actions: one or two set, those due completed (most on time, some late, some
        # drifting) [DEV-5.3, POR-6.1].
        for _ in range(rng.choice([1, 1, 2])):
            case.action_count += 1
            action_id = f"{case.child_id}-A{case.action_count}"
            day = some_day()
            due = day + timedelta(days=rng.randint(14, 42))
            self._add(
                at(day, 12, rng.randint(0, 59)),
                c.SetAction,
                f"action-{action_id}",
                actor=practitioner,
                child_id=case.child_id,
                action={
                    "action_id": action_id,
                    "description": "Visit the child and see them alone",
                    "owner": worker.staff_id,
                    "due_on": due,
                },
            )
            case.actions.append((action_id, due))
        still_open: list[tuple[str, date]] = []
        for action_id, due in case.actions:
            if due >= following or rng.random() < 0.08:
                still_open.append((action_id, due))
                continue
            done = min(due + timedelta(days=rng.choice([-3, -1, 0, 0, 2, 9])), following)
            done = max(done, begin)
            if done >= following:
                still_open.append((action_id, due))
                continue
            self._add(
                at(done, 16, rng.randint(0, 59)),
                c.CompleteAction,
                f"complete-{action_id}",
                actor=practitioner,
                child_id=case.child_id,
                action_id=action_id,
                note="Done; the child was seen alone.",
            )
        case.actions = still_open[-12:]

        # Case supervision outside the worker's session for cases not discussed in it
        # lately (every month for child protection and looked-after children, every
        # other month otherwise) [DUR-4.6a, DEV-5.1b].
        interval = 28 if case.case_type in ("cp", "cla") else 56
        due = (case.last_supervised or case.opened) + timedelta(days=interval)
        if due < following and rng.random() < 0.93:
            day = max(begin, min(due + timedelta(days=rng.choice([-5, -2, 0, 3, 10])), following))
            if day < following:
                self._case_supervision(case, worker, day)

        # Looked-after children's reviews, placement moves, returning home.
        if case.in_care and case.next_review is not None and case.next_review < following:
            review = max(case.next_review, begin)
            if review < following:
                self._add(
                    at(review, 15),
                    c.RecordLookedAfterReview,
                    f"review-{case.child_id}",
                    actor=practitioner,
                    child_id=case.child_id,
                    review_on=review,
                    review_code=rng.choice(["PN1", "PN1", "PN2", "PN3", "PN0"]),
                )
            first_review = case.next_review == case.opened + timedelta(days=20)
            case.next_review = review + timedelta(days=70 if first_review else 182)
        if case.in_care and begin > case.opened + timedelta(days=25) and rng.random() < 0.04:
            moved = some_day()
            placement = rng.choice(["U1", "U3", "U4", "K2", "R1", "P1"])
            if moved < case.closes_on:
                self._add(
                    at(moved, 14),
                    c.ChangePlacement,
                    f"placement-{case.child_id}",
                    actor=practitioner,
                    child_id=case.child_id,
                    placement=placement,
                    reason="Placement ended at the carer's request",
                )
            elif moved < self.until:
                # Care ends that morning (the case closes on the first day it is worked
                # this month): no move after it. Its id is used up all the same, so every
                # later command keeps the id it had before this was mended.
                self._counter += 1
        # Incidents needing oversight [DEV-6 (2)], and disagreements [DUR-4.10].
        if rng.random() < 0.015:
            day = some_day()
            trigger_id = f"{case.child_id}-SI{case.entries + 1}"
            self._add(
                at(day, 16),
                c.TriggerOversight,
                f"incident-{case.child_id}",
                actor=practitioner,
                child_id=case.child_id,
                trigger_id=trigger_id,
                kind="significant_incident",
                detail="Child missing overnight; returned safe.",
                incident_dates=[day - timedelta(days=1)],
            )
            case.entries += 1
            self._answer(case, trigger_id, at(day, 16), manager)
        if rng.random() < 0.002:
            day = some_day()
            case.entries += 1
            disagreement = f"{case.child_id}-D{case.entries}"
            self._add(
                at(day, 12),
                c.RaiseDisagreement,
                f"disagree-{case.child_id}",
                actor=practitioner,
                child_id=case.child_id,
                disagreement_id=disagreement,
                subject="decision_on_child",
                about="Decision not to convene a strategy meeting",
            )
            if rng.random() < 0.5 and self._escalates:
                self._add(
                    at(day + timedelta(days=7), 12),
                    c.EscalateDisagreement,
                    f"escalate-{case.child_id}",
                    actor=practitioner,
                    child_id=case.child_id,
                    disagreement_id=disagreement,
                    reason="Not resolved in supervision",
                )

        # Closure, with the manager's sign-off [DEV-6 (13)].
        if case.closes_on < following:
            day = max(case.closes_on, begin)
            if day >= following:
                return
            if case.in_care:
                self._add(
                    at(day, 10),
                    c.RecordCareEnded if case.case_type != "cla" else c.RecordReturnedHome,
                    f"care-ends-{case.child_id}",
                    actor=practitioner,
                    child_id=case.child_id,
                    **(
                        {"reason_code": "E8"}
                        if case.case_type != "cla"
                        else {"reason": "Reunification plan met"}
                    ),
                )
                case.in_care = False
            command_id = self._add(
                at(day, 16),
                c.CloseCase,
                f"close-{case.child_id}",
                actor=manager,
                child_id=case.child_id,
                kind=rng.choice(["closed", "closed", "closed", "stepped_across_to_early_help"]),
                reason="Plan outcomes met; no further statutory involvement needed.",
            )
            self._answer(case, f"{command_id}:closure_or_transfer", at(day, 16), manager)
            case.closed = True
            if case.child_id in worker.caseload:
                worker.caseload.remove(case.child_id)

    def _case_supervision(self, case: _Case, worker: _Member, day: date) -> None:
        case.entries += 1
        case.last_supervised = day
        supervisor = worker.manager or "HOS01"
        self._add(
            at(day, 11, self.rng.randint(0, 59)),
            c.RecordCaseSupervision,
            f"case-supervision-{case.child_id}",
            actor=self._actor(supervisor, Role.SUPERVISOR),
            child_id=case.child_id,
            entry_id=f"{case.child_id}-CS{case.entries}",
            worker_id=worker.staff_id,
            supervisor_id=supervisor,
            child_last_seen_on=day - timedelta(days=self.rng.randint(1, 20)),
            **DISCUSSION,
        )

    # -- one supervisee's personal supervision ------------------------------------------------

    def _supervision(self, member: _Member, following: date) -> None:
        rng = self.rng
        # A session is generated in the month it is scheduled, two weeks ahead.
        while member.next_session is not None and member.next_session < following + timedelta(
            days=14
        ):
            day = member.next_session
            member.next_session = day + timedelta(days=rng.choice([28, 30, 31, 33]))
            if member.left_on is not None and day >= member.left_on - timedelta(days=60):
                member.next_session = None
                return
            if day < self.start:
                continue
            member.sessions += 1
            session_id = f"{member.staff_id}-S{member.sessions:03d}"
            supervisor = member.manager or "HOS01"
            sup = self._actor(supervisor, Role.SUPERVISOR)
            self._add(
                at(day - timedelta(days=14), 9),
                c.ScheduleSupervisionSession,
                f"schedule-{session_id}",
                actor=sup,
                staff_id=member.staff_id,
                session_id=session_id,
                supervisor_id=supervisor,
                scheduled_for=at(day, 10),
            )
            roll = rng.random()
            if roll < 0.06:
                self._add(
                    at(day - timedelta(days=1), 16),
                    c.CancelSupervisionSession,
                    f"cancel-{session_id}",
                    # The party who cancels does so for themselves.
                    actor=sup
                    if rng.choice(["supervisee", "supervisor"]) == "supervisor"
                    else self._actor(member.staff_id, Role.SUPERVISEE),
                    staff_id=member.staff_id,
                    session_id=session_id,
                    reason="Court hearing took priority",
                )
                continue
            if roll < 0.08:
                continue  # never held nor cancelled
            held = day
            if roll < 0.20:
                held = day + timedelta(days=rng.randint(2, 9))
                self._add(
                    at(day - timedelta(days=1), 17),
                    c.RescheduleSupervisionSession,
                    f"reschedule-{session_id}",
                    actor=sup,
                    staff_id=member.staff_id,
                    session_id=session_id,
                    new_scheduled_for=at(held, 10),
                    reason="Supervisor on duty",
                )
            self._hold(member, session_id, supervisor, held)

    def _hold(self, member: _Member, session_id: str, supervisor: str, held: date) -> None:
        rng = self.rng
        live = [
            child
            for child in member.caseload
            if self.cases[child].opened < held - timedelta(days=1)
            and self.cases[child].closes_on > held
        ]
        share = max(1, len(live) // 3) if live else 0
        chosen = live[member.discussed % len(live) :][:share] if live else []
        member.discussed += share
        discussions = []
        for child in chosen:
            case = self.cases[child]
            case.entries += 1
            case.last_supervised = held
            discussions.append(
                c.CaseDiscussion(
                    child_id=child,
                    entry_id=f"{child}-CS{case.entries}",
                    child_last_seen_on=held - timedelta(days=rng.randint(1, 20)),
                    **DISCUSSION,
                )
            )
        sup = self._actor(supervisor, Role.SUPERVISOR)
        self._add(
            at(held, 10),
            c.HoldSupervisionSession,
            f"hold-{session_id}",
            actor=sup,
            staff_id=member.staff_id,
            session_id=session_id,
            supervisor_id=supervisor,
            duration_minutes=rng.choice([60, 75, 90, 90, 90, 100]),
            functions_covered=rng.sample(
                ["management", "development", "support", "mediation"], rng.randint(2, 4)
            ),
            wellbeing_discussed=rng.random() < 0.9,
            equality_and_diversity_discussed=rng.random() < 0.6,
            case_discussions=discussions,
        )
        delay = rng.choices([1, 3, 5, 9, 14, 25], [20, 30, 25, 13, 8, 4])[0]
        written = held + timedelta(days=delay)
        record_id = f"{session_id}-R"
        self._add(
            at(written, 15),
            c.WritePersonalSupervisionRecord,
            f"record-{session_id}",
            actor=sup,
            staff_id=member.staff_id,
            record_id=record_id,
            session_id=session_id,
            actions_reviewed="All actions from last session reviewed.",
            wellbeing="Managing workload; took leave last month.",
            workload="Caseload within agreed range.",
            development="Attending court skills training.",
            disagreements=None,
            agreed_actions=[
                {
                    "action_id": f"{record_id}-A1",
                    "description": "Book a reflective supervision slot",
                    "owner": member.staff_id,
                    "due_on": held + timedelta(days=30),
                }
            ],
        )
        signed = written + timedelta(days=1)
        self._add(
            at(signed, 16),
            c.SignPersonalSupervisionRecord,
            f"sign-sup-{session_id}",
            actor=sup,
            staff_id=member.staff_id,
            record_id=record_id,
        )
        if rng.random() < 0.92:
            disputed = rng.random() < 0.03
            confirmed = at(signed + timedelta(days=rng.randint(0, 10)), 17)
            self._add(
                confirmed,
                c.SignPersonalSupervisionRecord,
                f"sign-me-{session_id}",
                actor=self._actor(member.staff_id, Role.SUPERVISEE),
                staff_id=member.staff_id,
                record_id=record_id,
                confirmed=not disputed,
                differing_view="Workload is higher than recorded." if disputed else None,
            )
            if disputed:
                # The supervisee takes their differing view further [DUR-4.10, POR-6.2a].
                self._add(
                    confirmed + timedelta(minutes=5),
                    c.RaiseDisagreement,
                    f"dispute-{session_id}",
                    actor=self._actor(member.staff_id, Role.SUPERVISEE),
                    staff_id=member.staff_id,
                    disagreement_id=f"{record_id}-D",
                    subject="record_content",
                    about="Workload recorded lower than it is",
                )
        if rng.random() < 0.01:
            off = held + timedelta(days=rng.randint(3, 20))
            absence = f"{member.staff_id}-ABS{member.sessions}"
            self._add(
                at(off, 8),
                c.StartAbsence,
                f"sick-{absence}",
                actor=sup,
                staff_id=member.staff_id,
                absence_id=absence,
                kind="sickness",
                started_on=off,
            )
            back = off + timedelta(days=rng.randint(5, 25))
            self._add(
                at(back, 8),
                c.EndAbsence,
                f"back-{absence}",
                actor=sup,
                staff_id=member.staff_id,
                absence_id=absence,
                returned_on=back,
            )
