"""A child's case in 2012, told through the application as the API runs it: a trigger
and the oversight answering it, decisions, a corrected case supervision, a disagreement
escalated and resolved, the allocated worker's supervision with a disputed sign-off, and
a supervision record purged when its retention had run [DUR-4.9]."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from application.app import OversightApplication
from application.purge import Purges
from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.settings import DatabaseSettings
from tests.projections.conftest import catch_up_all

LA = "EXP-LA"
THEN = datetime(2012, 3, 1, 10, 0, tzinfo=UTC)
PURGE_AS_OF = date(2026, 12, 1)
#: Words only the purged record held: they must never reach an export.
PURGED_WORDS = "PURGED-WELLBEING-SENTINEL"
#: Words only the worker's personal file holds (a differing view at sign-off).
PERSONAL_WORDS = "Workload is higher than recorded"

ADMIN = Actor("ADMIN", Role.ADMINISTRATOR, LA)
TM1 = Actor("TM1", Role.SUPERVISOR, LA)
SW1 = Actor("SW1", Role.SUPERVISEE, LA)
SW1_PRACTITIONER = Actor("SW1", Role.PRACTITIONER, LA)
SM1 = Actor("SM1", Role.SERVICE_MANAGER, LA)
DPO = Actor("DPO1", Role.DATA_PROTECTION_OFFICER, LA)


def at(days: int, hours: int = 0) -> datetime:
    return THEN + timedelta(days=days, hours=hours)


def common(days: int, who: Actor = ADMIN) -> dict[str, Any]:
    return {"command_id": uuid.uuid4().hex, "actor": who, "occurred_at": at(days)}


def _worker(staff_id: str, role: str, manager: str | None, team: str = "Team A") -> c.Command:
    return c.RegisterWorker(
        **common(0),
        staff_id=staff_id,
        display_name=f"Worker {staff_id}",
        role=role,
        team=team,
        line_manager_id=manager,
        employment_pattern="full_time",
        fte=Decimal(1),
        weekly_hours=Decimal(37),
        engagement="permanent",
        start_date=THEN.date(),
        case_holding=role == "social_worker",
    )


def _child(child_id: str, worker: str, team: str, days: int = 1) -> list[c.Command]:
    return [
        c.RegisterChild(
            **common(days),
            child_id=child_id,
            date_of_birth=date(2008, 5, 1),
            case_type="cin",
            risk_level="medium",
            rag="amber",
        ),
        c.AllocateWorker(
            **common(days + 1), child_id=child_id, worker_id=worker, reason="NEW", team=team
        ),
    ]


def _session(session: str, days: int, wellbeing: str) -> list[c.Command]:
    return [
        c.HoldSupervisionSession(
            **common(days, TM1),
            staff_id="SW1",
            session_id=session,
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["management", "support"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
        ),
        c.WritePersonalSupervisionRecord(
            **common(days + 1, TM1),
            staff_id="SW1",
            record_id=f"{session}-R",
            session_id=session,
            actions_reviewed="All reviewed",
            wellbeing=wellbeing,
            workload="Manageable",
            development="Court skills",
            disagreements=None,
            agreed_actions=[],
        ),
    ]


def plan() -> list[c.Command]:
    return [
        c.RegisterAuthority(
            **common(-1), authority_code=LA, name="Export Council", policy_pack="DUR"
        ),
        _worker("SM1", "service_manager", None, "Leadership"),
        _worker("TM1", "team_manager", "SM1"),
        _worker("SW1", "social_worker", "TM1"),
        _worker("SW2", "social_worker", "TM1"),
        _worker("TM2", "team_manager", "SM1", "Team B"),
        _worker("SW3", "social_worker", "TM2", "Team B"),
        *_child("C1", "SW1", "Team A"),
        *_child("C2", "SW1", "Team A"),
        *_child("C3", "SW3", "Team B"),
        *_session("SW1-S1", 21, "Well"),
        c.SignPersonalSupervisionRecord(**common(23, TM1), staff_id="SW1", record_id="SW1-S1-R"),
        c.SignPersonalSupervisionRecord(
            **common(23, SW1),
            staff_id="SW1",
            record_id="SW1-S1-R",
            confirmed=False,
            differing_view=PERSONAL_WORDS,
        ),
        *_session("SW1-S2", 24, PURGED_WORDS),
        c.RecordCaseSupervision(
            **common(27, TM1),
            child_id="C1",
            entry_id="C1-CS2",
            worker_id="SW1",
            supervisor_id="TM1",
            current_situation="Stable.",
            child_last_seen_on=date(2012, 3, 26),
            childs_views="Wants to stay home.",
            reflection="Reflective.",
            analysis="Lower risk.",
            decision="Step down soon.",
            rationale="Progress.",
            actions=[],
            previous_actions_reviewed="None due.",
        ),
        c.TriggerOversight(
            **common(29, TM1),
            child_id="C1",
            trigger_id="C1-T9",
            kind="significant_incident",
            detail="Police called",
            incident_dates=[date(2012, 3, 29)],
        ),
        c.RecordManagementOversight(
            **common(30, SM1),
            child_id="C1",
            entry_id="C1-MO1",
            answers_trigger_ids=["C1-T9"],
            reason="Incident",
            current_situation="Safe",
            decision="Strategy discussion",
            rationale="Escalating risk",
            actions=[
                {
                    "action_id": "C1-A3",
                    "description": "Hold a strategy discussion",
                    "owner": "SW1",
                    "due_on": date(2012, 4, 6),
                }
            ],
        ),
        c.RecordManagementDecision(
            **common(30, TM1),
            child_id="C1",
            entry_id="C1-MD1",
            decision="End the child protection plan",
            rationale="Risk reduced",
            consulted_by="SM1",
        ),
        c.CorrectEntry(
            **common(31, TM1),
            child_id="C1",
            entry_id="C1-CS2",
            changes={"decision": "Step down next month."},
            reason="Typo",
        ),
        c.RaiseDisagreement(
            **common(31, SW1_PRACTITIONER),
            child_id="C1",
            disagreement_id="C1-D1",
            subject="decision_on_child",
            about="Step down is too early",
        ),
        c.EscalateDisagreement(
            **common(32, SW1_PRACTITIONER),
            child_id="C1",
            disagreement_id="C1-D1",
            reason="Not resolved with the supervisor",
        ),
        c.ResolveDisagreement(
            **common(33, SM1),
            child_id="C1",
            disagreement_id="C1-D1",
            resolution="Step down deferred",
        ),
        c.RecordManagementDecision(
            **common(40, TM2),
            child_id="C3",
            entry_id="C3-MD1",
            decision="Convene a strategy meeting",
            rationale="New concerns",
            consulted_by="SM1",
        ),
    ]


TM2 = Actor("TM2", Role.TEAM_MANAGER, LA)


def tell(database: DatabaseSettings, app: OversightApplication, engine: Engine) -> list[datetime]:
    """Run the story, bring the read models up to date, purge SW1-S2's record; returns
    the instants at which each command was recorded (system time), in order."""
    recorded: list[datetime] = []
    for command in plan():
        app.execute(command)
        recorded.append(datetime.now(UTC))
    catch_up_all(database, app, engine)
    Purges.on(app, engine).purge_record(
        c.PurgeRecord(
            **common(0, DPO) | {"occurred_at": datetime(2026, 12, 1, 9, tzinfo=UTC)},
            staff_id="SW1",
            record_class="personal_supervision",
            record_id="SW1-S2",
            as_of=PURGE_AS_OF,
        )
    )
    catch_up_all(database, app, engine)
    return recorded
