"""Small, deterministic demo authorities with two years of realistic history.

One authority per policy pack (``DEMO_AUTHORITIES``): the full-size ``DEMO`` under the
Durham pack, and a smaller one under each of Portsmouth, Devon, Shropshire and Bury, so
that every pack has findings to show (``oversight demo summary``).

The shape follows the policy rules: monthly personal supervision with some sessions
cancelled, rescheduled or missed [DUR-4.2, DUR-4.4]; records written late and disputed
[DUR-4.7a, POR-6.2a]; case supervision every one to three months [DEV-5.1b, DUR-4.6a];
oversight triggers from allocations, care episodes and incidents, most answered and some
left open [DEV-6]; and disagreements, some escalated and some open [DUR-4.10].

Every command id is derived from the seed, so seeding twice writes nothing the second
time: each command replays from its receipt.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import Engine

from application.app import OversightApplication
from domain import commands as c
from domain.child import Child
from domain.errors import DomainError
from domain.policy.packs import PackLibrary
from domain.provenance import Actor
from domain.subject import SubjectPurged
from domain.vocabulary import ActorRole
from domain.worker import Worker
from projections.compliance import register_items
from projections.compliance import summary as compliance_summary
from projections.engine import active_generation
from projections.purge_schedule import purge_schedule

DEMO_AUTHORITY = "DEMO"


@dataclass(frozen=True)
class DemoAuthority:
    """One demo authority: its code, the pack it adopts, and its size."""

    code: str
    name: str
    pack: str
    teams: int = 5
    practitioners: int = 22
    children: int = 300


#: One demo authority per pack [issue 4]: the full-size DEMO holds the Durham pack,
#: and a smaller one holds each of the others, so every pack produces findings.
DEMO_AUTHORITIES = (
    DemoAuthority(DEMO_AUTHORITY, "Demo Borough Council", "DUR"),
    DemoAuthority("DEMO-POR", "Demo Harbour City Council", "POR", 2, 8, 50),
    DemoAuthority("DEMO-DEV", "Demo Moorland County Council", "DEV", 2, 8, 50),
    DemoAuthority("DEMO-SHR", "Demo Marches Council", "SHR", 2, 8, 50),
    DemoAuthority("DEMO-BUR", "Demo Millstone Borough Council", "BUR", 2, 8, 50),
)
HISTORY_DAYS = 730


@dataclass
class Plan:
    """Commands in valid-time order, each built lazily by the clock it runs at."""

    seed: int
    until: date
    authority: str = DEMO_AUTHORITY
    commands: list[tuple[datetime, int, c.Command]] = field(default_factory=list)
    counter: int = 0

    def add(self, at: datetime, command: c.Command) -> None:
        self.counter += 1
        self.commands.append((at, self.counter, command))

    def cid(self, label: str) -> str:
        prefix = "" if self.authority == DEMO_AUTHORITY else f"{self.authority}-"
        return f"demo-{prefix}{self.seed}-{self.counter + 1}-{label}"

    def ordered(self) -> Iterator[c.Command]:
        for _, _, command in sorted(self.commands, key=lambda item: (item[0], item[1])):
            yield command


@dataclass(frozen=True)
class SeedReport:
    executed: int
    replayed: int
    refused: int
    refusals: Counter[str]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def build_plan(seed: int, until: date, demo: DemoAuthority = DEMO_AUTHORITIES[0]) -> Plan:
    rng = random.Random(seed if demo.code == DEMO_AUTHORITY else f"{seed}/{demo.code}")
    plan = Plan(seed=seed, until=until, authority=demo.code)
    start = until - timedelta(days=HISTORY_DAYS)
    admin = Actor("ADMIN", ActorRole.ADMINISTRATOR, demo.code)

    plan.add(
        at(start, 8),
        c.RegisterAuthority(
            command_id=plan.cid("authority"),
            actor=admin,
            occurred_at=at(start, 8),
            authority_code=demo.code,
            name=demo.name,
            policy_pack=demo.pack,
        ),
    )

    # -- staff: 1 head of service, 2 service managers, 5 team managers, 22 practitioners
    staff: list[dict[str, Any]] = [
        {
            "staff_id": "HOS01",
            "role": "head_of_service",
            "team": "Leadership",
            "line_manager_id": None,
            "case_holding": False,
        },
    ]
    staff += [
        {
            "staff_id": f"SM0{i}",
            "role": "service_manager",
            "team": "Leadership",
            "line_manager_id": "HOS01",
            "case_holding": False,
        }
        for i in (1, 2)
    ]
    staff += [
        {
            "staff_id": f"TM0{i}",
            "role": "team_manager",
            "team": f"Team {i}",
            "line_manager_id": "SM01" if i <= 3 or demo.teams < 3 else "SM02",
            "case_holding": False,
        }
        for i in range(1, demo.teams + 1)
    ]
    for n in range(1, demo.practitioners + 1):
        team = (n - 1) % demo.teams + 1
        staff.append(
            {
                "staff_id": f"SW{n:03d}",
                "role": "nqsw" if n in (5, 12, 19) else "social_worker",
                "team": f"Team {team}",
                "line_manager_id": f"TM0{team}",
                "case_holding": True,
            }
        )
    first_names = [
        "Alex",
        "Bea",
        "Cal",
        "Dee",
        "Eli",
        "Fay",
        "Gus",
        "Hal",
        "Ivy",
        "Jo",
        "Kit",
        "Lou",
        "Max",
        "Ned",
        "Oli",
        "Pam",
        "Quin",
        "Ros",
        "Sid",
        "Tess",
        "Uma",
        "Vic",
        "Wyn",
        "Xan",
        "Yas",
        "Zed",
        "Ari",
        "Bo",
        "Cy",
        "Di",
    ]
    for index, member in enumerate(staff):
        part_time = member["staff_id"] in ("SW004", "SW009", "SW015", "SW021")
        agency = member["staff_id"] in ("SW007", "SW018")
        joined = start + timedelta(days=rng.randint(0, 20))
        member["joined"] = joined
        member["part_time"] = part_time
        plan.add(
            at(joined, 9),
            c.RegisterWorker(
                command_id=plan.cid(f"register-{member['staff_id']}"),
                actor=admin,
                occurred_at=at(joined, 9),
                staff_id=member["staff_id"],
                display_name=f"{first_names[index]} Demo{index:02d}",
                role=member["role"],
                team=member["team"],
                line_manager_id=member["line_manager_id"],
                employment_pattern="part_time" if part_time else "full_time",
                fte=Decimal("0.5") if part_time else Decimal("1"),
                weekly_hours=Decimal("18.5") if part_time else Decimal("37"),
                engagement="agency" if agency else "permanent",
                start_date=joined,
                case_holding=member["case_holding"],
                nqsw_asye_start=joined if member["role"] == "nqsw" else None,
            ),
        )

    practitioners = [m for m in staff if m["case_holding"]]
    supervisees = [m for m in staff if m["line_manager_id"]]

    # -- children: 300, registered over the two years, allocated, supervised, overseen
    case_types = ["cin", "cp", "cla", "care_leaver", "assessment", "feh", "disability"]
    weights = [30, 20, 20, 8, 12, 6, 4]
    caseload: dict[str, list[tuple[str, date]]] = {m["staff_id"]: [] for m in practitioners}
    child_plans: list[dict[str, Any]] = []
    for n in range(1, demo.children + 1):
        child = f"C{n:04d}"
        opened = (
            start + timedelta(days=30 + rng.randint(0, HISTORY_DAYS - 120))
            if n > demo.children // 2
            else start + timedelta(days=21 + rng.randint(0, 20))
        )
        case_type = rng.choices(case_types, weights)[0]
        risk = rng.choices(["low", "medium", "high"], [3, 5, 2])[0]
        worker = min(practitioners, key=lambda m: (len(caseload[m["staff_id"]]), rng.random()))
        caseload[worker["staff_id"]].append((child, opened))
        child_plans.append(
            {
                "child": child,
                "opened": opened,
                "case_type": case_type,
                "risk": risk,
                "worker": worker,
            }
        )
        unborn = rng.random() < 0.03
        dob = opened - timedelta(days=rng.randint(30, 17 * 365))
        plan.add(
            at(opened, 10),
            c.RegisterChild(
                command_id=plan.cid(f"register-{child}"),
                actor=admin,
                occurred_at=at(opened, 10),
                child_id=child,
                date_of_birth=None if unborn else dob,
                expected_date_of_birth=opened + timedelta(days=60) if unborn else None,
                case_type=case_type,
                risk_level=risk,
                rag={"low": "green", "medium": "amber", "high": "red"}[risk],
            ),
        )
        manager = Actor(worker["line_manager_id"], ActorRole.TEAM_MANAGER, demo.code)
        alloc_at = at(opened, 11)
        plan.add(
            alloc_at,
            c.AllocateWorker(
                command_id=plan.cid(f"allocate-{child}"),
                actor=manager,
                occurred_at=alloc_at,
                child_id=child,
                worker_id=worker["staff_id"],
                reason="NEW",
                team=worker["team"],
            ),
        )
        _child_history(plan, rng, child, opened, until, case_type, worker, manager)

    # One practitioner leaves four months before the end; their cases are reallocated.
    leaver = practitioners[10] if len(practitioners) > 11 else practitioners[-2]
    leaver["leaves"] = True

    # -- personal supervision: monthly per supervisee, with the usual slippage
    for member in supervisees:
        _supervision_history(plan, rng, member, until, caseload.get(member["staff_id"], []))

    # -- reallocations when a worker leaves [SSDA903 LEFTRL]
    leave_day = until - timedelta(days=120)
    successor = practitioners[practitioners.index(leaver) + 1]
    for index, (child, _) in enumerate(list(caseload[leaver["staff_id"]])):
        manager = Actor(leaver["line_manager_id"], ActorRole.TEAM_MANAGER, demo.code)
        when = at(leave_day - timedelta(days=7), 9, index % 50)
        plan.add(
            when,
            c.AllocateWorker(
                command_id=plan.cid(f"reallocate-{child}"),
                actor=manager,
                occurred_at=when,
                child_id=child,
                worker_id=successor["staff_id"],
                reason="LEFTRL",
                team=successor["team"],
            ),
        )
    plan.add(
        at(leave_day, 17),
        c.LeaveEmployment(
            command_id=plan.cid(f"leave-{leaver['staff_id']}"),
            actor=admin,
            occurred_at=at(leave_day, 17),
            staff_id=leaver["staff_id"],
            last_day=leave_day,
            reason="resigned",
        ),
    )
    _archive(plan, demo, at(start, 9))
    return plan


def _archive(plan: Plan, demo: DemoAuthority, after: datetime) -> None:
    """Records from before the two years, migrated in: a leaver of 2016 with their
    supervision records, and three closed cases, one under a legal hold. Their retention
    periods have run (or not), so the purge schedule has something due (ADR 0012)."""
    admin = Actor("ADMIN", ActorRole.ADMINISTRATOR, demo.code)
    dpo = Actor("DPO01", ActorRole.DATA_PROTECTION_OFFICER, demo.code)
    steps: list[c.Command] = []

    def when(day: date) -> dict[str, Any]:
        return {
            "command_id": plan.cid(f"archive-{len(steps)}"),
            "actor": admin,
            "occurred_at": at(day, 10),
            "imported": True,
        }

    joined = date(2014, 1, 6)
    steps.append(
        c.RegisterWorker(
            **when(joined),
            staff_id="ARCH01",
            display_name="Archived Practitioner",
            role="social_worker",
            team="Archive",
            line_manager_id=None,
            employment_pattern="full_time",
            fte=Decimal(1),
            engagement="permanent",
            start_date=joined,
            case_holding=True,
        )
    )
    for n, day in enumerate((date(2015, 2, 10), date(2015, 3, 10)), start=1):
        steps.append(
            c.ScheduleSupervisionSession(
                **when(day - timedelta(days=7)),
                staff_id="ARCH01",
                session_id=f"ARCH01-S{n}",
                supervisor_id="ARCHTM",
                scheduled_for=at(day, 10),
            )
        )
        steps.append(
            c.HoldSupervisionSession(
                **when(day),
                staff_id="ARCH01",
                session_id=f"ARCH01-S{n}",
                supervisor_id="ARCHTM",
                duration_minutes=90,
                functions_covered=["management", "support", "development"],
                wellbeing_discussed=True,
                equality_and_diversity_discussed=True,
            )
        )
        steps.append(
            c.WritePersonalSupervisionRecord(
                **when(day + timedelta(days=1)),
                staff_id="ARCH01",
                record_id=f"ARCH01-R{n}",
                session_id=f"ARCH01-S{n}",
                actions_reviewed="Actions from the last session reviewed",
                wellbeing="Well; workload discussed",
                workload="Caseload of 18",
                development="Court skills training booked",
                disagreements=None,
                agreed_actions=[],
            )
        )
    steps.append(
        c.LeaveEmployment(
            **when(date(2016, 3, 31)),
            staff_id="ARCH01",
            last_day=date(2016, 3, 31),
            reason="retired",
        )
    )
    for child, born, case_type in (
        ("ARCH-C01", date(1995, 6, 1), "cin"),
        ("ARCH-C02", date(2000, 1, 15), "cp"),
        ("ARCH-C03", date(1996, 9, 9), "cin"),
    ):
        steps.append(
            c.RegisterChild(
                **when(date(2013, 4, 2)),
                child_id=child,
                date_of_birth=born,
                expected_date_of_birth=None,
                case_type=case_type,
                risk_level="medium",
                rag=None,
                name=None,
            )
        )
        steps.append(
            c.CloseCase(
                **when(date(2014, 5, 20)), child_id=child, kind="closed", reason="Needs met"
            )
        )
    steps.append(
        c.PlaceLegalHold(
            **{**when(date(2025, 1, 6)), "actor": dpo, "imported": False},
            child_id="ARCH-C03",
            hold_id="HOLD-ARCH-C03",
            kind="subject_access_request",
            reference="SAR made by the former child, 2025",
        )
    )
    for index, command in enumerate(steps):
        plan.add(after + timedelta(seconds=index), command)


def _child_history(
    plan: Plan,
    rng: random.Random,
    child: str,
    opened: date,
    until: date,
    case_type: str,
    worker: dict[str, Any],
    manager: Actor,
) -> None:
    practitioner = Actor(worker["staff_id"], ActorRole.PRACTITIONER, plan.authority)
    # Oversight of the allocation trigger [DEV-6 (1)]: usually within days, sometimes never.
    trigger_id = f"{plan.commands[-1][2].command_id}:allocation_to_new_practitioner"
    if rng.random() < 0.88:
        day = opened + timedelta(days=rng.randint(1, 12))
        if day < until:
            plan.add(
                at(day, 15),
                c.RecordManagementOversight(
                    command_id=plan.cid(f"oversight-{child}"),
                    actor=manager,
                    occurred_at=at(day, 15),
                    child_id=child,
                    entry_id=f"{child}-MO-1",
                    answers_trigger_ids=[trigger_id],
                    reason="Allocation to a new practitioner",
                    current_situation="Assessment under way; family engaging.",
                    decision="Allocate and visit within 5 working days.",
                    rationale="Level of need requires a qualified social worker.",
                    actions=[
                        {
                            "action_id": f"{child}-A1",
                            "description": "Visit the child at home",
                            "owner": worker["staff_id"],
                            "due_on": day + timedelta(days=7),
                        }
                    ],
                ),
            )
    if case_type == "cla" and rng.random() < 0.5:
        day = opened + timedelta(days=rng.randint(20, 200))
        if day < until:
            plan.add(
                at(day, 13),
                c.RecordCameIntoCare(
                    command_id=plan.cid(f"care-{child}"),
                    actor=practitioner,
                    occurred_at=at(day, 13),
                    child_id=child,
                    legal_status="C2",
                    placement="U1",
                ),
            )
            if rng.random() < 0.3 and day + timedelta(days=150) < until:
                back = day + timedelta(days=rng.randint(60, 150))
                plan.add(
                    at(back, 13),
                    c.RecordReturnedHome(
                        command_id=plan.cid(f"home-{child}"),
                        actor=practitioner,
                        occurred_at=at(back, 13),
                        child_id=child,
                        reason="Reunification plan met",
                    ),
                )
    if rng.random() < 0.12:
        day = opened + timedelta(days=rng.randint(15, 300))
        if day < until:
            plan.add(
                at(day, 16),
                c.TriggerOversight(
                    command_id=plan.cid(f"incident-{child}"),
                    actor=practitioner,
                    occurred_at=at(day, 16),
                    child_id=child,
                    trigger_id=f"{child}-SI",
                    kind="significant_incident",
                    detail="Child missing overnight; returned safe.",
                    incident_dates=[day - timedelta(days=1)],
                ),
            )
    if rng.random() < 0.05:
        day = opened + timedelta(days=rng.randint(30, 300))
        if day < until:
            plan.add(
                at(day, 12),
                c.RaiseDisagreement(
                    command_id=plan.cid(f"disagree-{child}"),
                    actor=practitioner,
                    occurred_at=at(day, 12),
                    child_id=child,
                    disagreement_id=f"{child}-D1",
                    subject="decision_on_child",
                    about="Decision not to convene a strategy meeting",
                ),
            )
            for level in range(rng.randint(0, 2)):
                later = day + timedelta(days=7 * (level + 1))
                if later < until:
                    plan.add(
                        at(later, 12),
                        c.EscalateDisagreement(
                            command_id=plan.cid(f"escalate-{child}-{level}"),
                            actor=practitioner,
                            occurred_at=at(later, 12),
                            child_id=child,
                            disagreement_id=f"{child}-D1",
                            reason="Not resolved in supervision",
                        ),
                    )


def _supervision_history(
    plan: Plan,
    rng: random.Random,
    member: dict[str, Any],
    until: date,
    children: list[tuple[str, date]],
) -> None:
    staff_id = member["staff_id"]
    supervisor = member["line_manager_id"]
    sup = Actor(supervisor, ActorRole.SUPERVISOR, plan.authority)
    me = Actor(staff_id, ActorRole.SUPERVISEE, plan.authority)
    joined: date = member["joined"]
    agreement_day = joined + timedelta(days=3)
    # Each party signs the agreement for themselves: the supervisor, then the supervisee.
    for suffix, signer, hour in (("", sup, 14), ("-supervisee", me, 15)):
        plan.add(
            at(agreement_day, hour),
            c.SignSupervisionAgreement(
                command_id=plan.cid(f"agreement-{staff_id}{suffix}"),
                actor=signer,
                occurred_at=at(agreement_day, hour),
                staff_id=staff_id,
                agreement_id=f"{staff_id}-SA1",
                supervisor_id=supervisor,
                frequency="P1M",
                supervision_format="individual",
                review_due_on=agreement_day + timedelta(days=365),
                escalation_manager_id="HOS01" if supervisor.startswith("SM") else "SM01",
            ),
        )
    month = 1
    day = joined + timedelta(days=28)
    discussed_index = 0
    while day < until - timedelta(days=3):
        if member.get("leaves") and day > until - timedelta(days=175):
            break
        session_id = f"{staff_id}-S{month:02d}"
        scheduled = at(day - timedelta(days=14), 9)
        plan.add(
            scheduled,
            c.ScheduleSupervisionSession(
                command_id=plan.cid(f"schedule-{session_id}"),
                actor=sup,
                occurred_at=scheduled,
                staff_id=staff_id,
                session_id=session_id,
                supervisor_id=supervisor,
                scheduled_for=at(day, 10),
            ),
        )
        roll = rng.random()
        held_day = day
        if roll < 0.07:
            plan.add(
                at(day - timedelta(days=1), 16),
                c.CancelSupervisionSession(
                    command_id=plan.cid(f"cancel-{session_id}"),
                    actor=me,  # the supervisee cancels, for themselves
                    occurred_at=at(day - timedelta(days=1), 16),
                    staff_id=staff_id,
                    session_id=session_id,
                    reason="Court hearing took priority",
                ),
            )
        elif roll < 0.10:
            pass  # missed: scheduled, never held nor cancelled
        else:
            if roll < 0.22:
                held_day = day + timedelta(days=rng.randint(2, 9))
                plan.add(
                    at(day - timedelta(days=1), 17),
                    c.RescheduleSupervisionSession(
                        command_id=plan.cid(f"reschedule-{session_id}"),
                        actor=sup,
                        occurred_at=at(day - timedelta(days=1), 17),
                        staff_id=staff_id,
                        session_id=session_id,
                        new_scheduled_for=at(held_day, 10),
                        reason="Supervisor on duty",
                    ),
                )
            if held_day >= until:
                break
            discussions: list[c.CaseDiscussion] = []
            live = [ch for ch, opened in children if opened < held_day - timedelta(days=1)]
            for ch in live[discussed_index : discussed_index + max(1, len(live) // 3)]:
                discussions.append(
                    c.CaseDiscussion(
                        child_id=ch,
                        entry_id=f"{session_id}-{ch}",
                        current_situation="Plan progressing; school attendance improved.",
                        child_last_seen_on=held_day - timedelta(days=rng.randint(1, 20)),
                        childs_views="Wants to stay at current school.",
                        reflection="Worker reflected on engagement with father.",
                        analysis="Risks reducing; protective factors stronger.",
                        decision="Continue plan; review in 4 weeks.",
                        rationale="Evidence of sustained change.",
                        previous_actions_reviewed="Previous actions reviewed in session.",
                    )
                )
            if live:
                discussed_index = (discussed_index + max(1, len(live) // 3)) % max(1, len(live))
            held_at = at(held_day, 10)
            plan.add(
                held_at,
                c.HoldSupervisionSession(
                    command_id=plan.cid(f"hold-{session_id}"),
                    actor=sup,
                    occurred_at=held_at,
                    staff_id=staff_id,
                    session_id=session_id,
                    supervisor_id=supervisor,
                    duration_minutes=rng.choice([60, 75, 90, 90, 90, 100]),
                    functions_covered=rng.sample(
                        ["management", "development", "support", "mediation"], rng.randint(2, 4)
                    ),
                    wellbeing_discussed=rng.random() < 0.9,
                    equality_and_diversity_discussed=rng.random() < 0.6,
                    case_discussions=discussions,
                ),
            )
            delay = rng.choices([2, 5, 9, 14, 25], [30, 35, 20, 10, 5])[0]
            written = at(held_day + timedelta(days=delay), 15)
            if written.date() < until:
                record_id = f"{session_id}-R"
                plan.add(
                    written,
                    c.WritePersonalSupervisionRecord(
                        command_id=plan.cid(f"record-{session_id}"),
                        actor=sup,
                        occurred_at=written,
                        staff_id=staff_id,
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
                                "description": "Book reflective supervision slot",
                                "owner": staff_id,
                                "due_on": held_day + timedelta(days=30),
                            }
                        ],
                    ),
                )
                signed = at(held_day + timedelta(days=delay + 1), 16)
                if signed.date() < until:
                    plan.add(
                        signed,
                        c.SignPersonalSupervisionRecord(
                            command_id=plan.cid(f"sign-sup-{session_id}"),
                            actor=sup,
                            occurred_at=signed,
                            staff_id=staff_id,
                            record_id=record_id,
                        ),
                    )
                    confirmed_at = signed + timedelta(days=rng.randint(0, 12))
                    if rng.random() < 0.9 and confirmed_at.date() < until:
                        disputed = rng.random() < 0.05
                        plan.add(
                            confirmed_at,
                            c.SignPersonalSupervisionRecord(
                                command_id=plan.cid(f"sign-me-{session_id}"),
                                actor=me,
                                occurred_at=confirmed_at,
                                staff_id=staff_id,
                                record_id=record_id,
                                confirmed=not disputed,
                                differing_view="Workload is higher than recorded."
                                if disputed
                                else None,
                            ),
                        )
                        if disputed:
                            plan.add(
                                confirmed_at + timedelta(minutes=5),
                                c.RaiseDisagreement(
                                    command_id=plan.cid(f"dispute-{session_id}"),
                                    actor=me,
                                    occurred_at=confirmed_at + timedelta(minutes=5),
                                    staff_id=staff_id,
                                    disagreement_id=f"{record_id}-D",
                                    subject="record_content",
                                    about="Workload recorded lower than it is",
                                ),
                            )
        month += 1
        day = day + timedelta(days=rng.choice([28, 30, 31, 33]))
    if member["staff_id"] in ("SW003", "SW016"):
        off = until - timedelta(days=200)
        plan.add(
            at(off, 8),
            c.StartAbsence(
                command_id=plan.cid(f"sick-{staff_id}"),
                actor=sup,
                occurred_at=at(off, 8),
                staff_id=staff_id,
                absence_id=f"{staff_id}-ABS1",
                kind="sickness",
                started_on=off,
            ),
        )
        back = off + timedelta(days=18)
        plan.add(
            at(back, 8),
            c.EndAbsence(
                command_id=plan.cid(f"back-{staff_id}"),
                actor=sup,
                occurred_at=at(back, 8),
                staff_id=staff_id,
                absence_id=f"{staff_id}-ABS1",
                returned_on=back,
            ),
        )


def seed(
    app: OversightApplication,
    *,
    seed: int = 7,
    until: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    authorities: Sequence[DemoAuthority] = DEMO_AUTHORITIES,
) -> SeedReport:
    """Run the demo plans, one authority after another. Commands the domain refuses
    (for example a case supervision for a child closed meanwhile) are counted, never
    half-written."""
    last_day = until or datetime.now(UTC).date()
    commands = [
        command for demo in authorities for command in build_plan(seed, last_day, demo).ordered()
    ]
    executed = replayed = refused = 0
    refusals: Counter[str] = Counter()
    for index, command in enumerate(commands):
        try:
            result = app.execute(command)
        except DomainError as error:
            refused += 1
            refusals[f"{type(command).__name__}: {error.rule or error.field}"] += 1
        else:
            if result.replayed:
                replayed += 1
            else:
                executed += 1
        if progress and (index % 250 == 0 or index == len(commands) - 1):
            progress(index + 1, len(commands))
    return SeedReport(executed, replayed, refused, refusals)


def summary(app: OversightApplication, authority_code: str = DEMO_AUTHORITY) -> dict[str, Any]:
    """Counts an auditor would ask for first, read straight from the aggregates."""
    events: Counter[str] = Counter()
    workers: list[Worker] = []
    children: list[Child] = []
    authority_of: dict[UUID, str | None] = {}
    for notification in _all_notifications(app):
        originator = notification.originator_id
        if originator not in authority_of:
            try:
                aggregate: Aggregate = app.repository.get(originator)
            except SubjectPurged:  # only its tombstones are left
                authority_of[originator] = None
                continue
            authority_of[originator] = getattr(aggregate, "authority_code", None)
            if authority_of[originator] == authority_code:
                if isinstance(aggregate, Worker):
                    workers.append(aggregate)
                elif isinstance(aggregate, Child):
                    children.append(aggregate)
        if authority_of[originator] == authority_code:
            events[notification.topic.rsplit(".", 1)[-1]] += 1
    sessions = Counter(s.status for w in workers for s in w.sessions.values())
    records = [r for w in workers for r in w.records.values()]
    return {
        "authority": authority_code,
        "policy_pack": app.get_authority(authority_code).policy_pack,
        "events": sum(events.values()),
        "workers": len(workers),
        "workers_left": sum(1 for w in workers if w.employment.left_on is not None),
        "children": len(children),
        "children_in_care": sum(1 for ch in children if ch.in_care),
        "sessions_held": sessions["held"],
        "sessions_cancelled": sessions["cancelled"],
        "sessions_scheduled_not_held": sessions["scheduled"],
        "personal_records": len(records),
        "records_fully_signed": sum(1 for r in records if len(r.signed_by) == 2),
        "records_disputed": sum(1 for r in records if r.disputed),
        "case_supervisions": sum(
            1 for ch in children for e in ch.entries.values() if e.kind == "case_supervision"
        ),
        "oversight_records": sum(
            1 for ch in children for e in ch.entries.values() if e.kind == "management_oversight"
        ),
        "open_oversight_triggers": sum(len(ch.open_triggers) for ch in children),
        "open_disagreements": sum(
            1 for s in [*workers, *children] for d in s.disagreements.values() if not d.resolved
        ),
        "event_counts": dict(sorted(events.items())),
    }


def _all_notifications(app: OversightApplication) -> Iterator[Any]:
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000)
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1


def compliance_overview(
    engine: Engine, library: PackLibrary, authority_code: str, as_of: date, head: int
) -> dict[str, Any]:
    """The authority's compliance on ``as_of`` from the compliance projection: rates by
    rule for the year to then, and its open queues and registers."""
    with engine.connect() as conn:
        _, position = active_generation(conn, "compliance")
    result = compliance_summary(engine, library, authority_code, as_of=as_of)
    overall = result.overall()
    return {
        "as_of": as_of.isoformat(),
        "since": result.since.isoformat(),
        "projection_position": position,
        "projection_lag_events": max(0, head - position),
        "fell_due": overall.fell_due,
        "on_time": overall.on_time,
        "late": overall.late,
        "missed": overall.missed,
        "breached": overall.breached,
        "due_soon": overall.due_soon,
        "rate": None if overall.rate is None else round(overall.rate, 3),
        "by_rule": {
            rule: {
                "fell_due": t.fell_due,
                "on_time": t.on_time,
                "late": t.late,
                "missed": t.missed,
                "breached": t.breached,
                "due_soon": t.due_soon,
            }
            for rule, t in result.by_rule().items()
        },
        "open": {
            name: len(register_items(engine, authority_code, name, as_of=as_of, limit=100_000))
            for name in ("oversight_trigger", "action", "sign_off", "disagreement")
        },
        "retention": dict(
            sorted(
                Counter(
                    row.status_on(as_of)
                    for row in purge_schedule(
                        engine, authority_code=authority_code, include_purged=True
                    )
                ).items()
            )
        ),
    }
