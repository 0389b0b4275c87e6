"""In-memory aggregate builders for the pure domain tests (no store involved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from domain.child import Child
from domain.events import EventType, kind_of
from domain.governance import AuthorityRules, ChainLevel, EscalationChain
from domain.policy.packs import PackLibrary
from domain.provenance import Provenance
from domain.vocabulary import DisagreementSubject, EscalationLevel, Role
from domain.worker import Worker

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=365)
_counter = iter(range(1, 10**9))


def prov(
    when: datetime | None = None,
    actor: str = "TM1",
    role: str = "supervisor",
    imported: bool = False,
) -> Provenance:
    return Provenance(
        occurred_at=when or NOW,
        actor_id=actor,
        actor_role=role,
        command_id=f"cmd-{next(_counter)}",
        imported=imported,
    )


def worker(**overrides: Any) -> Worker:
    fields: dict[str, Any] = {
        "provenance": prov(START),
        "authority_code": "TEST-LA",
        "staff_id": "SW1",
        "display_name": "Sam Worker",
        "role": "social_worker",
        "team": "Team A",
        "line_manager_id": "TM1",
        "employment_pattern": "full_time",
        "fte": Decimal(1),
        "engagement": "permanent",
        "start_date": START.date(),
        "case_holding": True,
    }
    fields.update(overrides)
    return Worker.register(**fields)


def child(**overrides: Any) -> Child:
    fields: dict[str, Any] = {
        "provenance": prov(START),
        "authority_code": "TEST-LA",
        "local_child_id": "C1",
        "date_of_birth": date(2015, 1, 1),
        "expected_date_of_birth": None,
        "case_type": "cin",
        "risk_level": "medium",
    }
    fields.update(overrides)
    return Child.register(**fields)


def held_session(w: Worker, session_id: str = "S1", when: datetime | None = None) -> None:
    w.hold_supervision_session(
        prov(when or NOW - timedelta(days=2)),
        session_id=session_id,
        supervisor_id="TM1",
        duration_minutes=90,
        functions_covered=["management", "support"],
        wellbeing_discussed=True,
        equality_and_diversity_discussed=False,
        children_discussed=[],
    )


def written_record(w: Worker, record_id: str = "R1", session_id: str = "S1") -> None:
    held_session(w, session_id)
    w.write_personal_supervision_record(
        prov(NOW - timedelta(days=1)),
        record_id=record_id,
        session_id=session_id,
        actions_reviewed="All reviewed.",
        wellbeing="Well.",
        workload="Manageable.",
        development="Training booked.",
        disagreements=None,
        agreed_actions=[
            {
                "action_id": "A1",
                "description": "Book training",
                "owner": "SW1",
                "due_on": (NOW + timedelta(days=10)).date(),
            }
        ],
    )


def replay(aggregate: Worker | Child) -> Any:
    """Rebuild an aggregate from the events it has triggered so far."""
    rebuilt = None
    for event in aggregate.pending_events:
        rebuilt = event.mutate(rebuilt)
    return rebuilt


def kinds(aggregate: Worker | Child) -> list[EventType]:
    """The catalogue classes of the events an aggregate has triggered so far, in order."""
    return [kind_of(e) for e in aggregate.pending_events]


@cache
def _library() -> PackLibrary:
    return PackLibrary.load()


def rules(pack_id: str) -> AuthorityRules:
    """The roles, chains and write rules of a built-in pack (ADR 0022)."""
    return _library().get(pack_id).authority


_MANAGERS = frozenset(
    {Role.SUPERVISOR, Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}
)

#: A three-level chain for every subject, with no write rule: an invented authority's.
THREE_LEVELS = AuthorityRules(
    pack_id="TEST",
    chains=(
        EscalationChain(
            rule_id="TEST-1",
            about=frozenset(DisagreementSubject),
            levels=(
                ChainLevel(1, EscalationLevel.SUPERVISORS_LINE_MANAGER, _MANAGERS, "TEST-1"),
                ChainLevel(
                    2, EscalationLevel.SERVICE_MANAGER, frozenset({Role.SERVICE_MANAGER}), "TEST-2"
                ),
                ChainLevel(
                    3, EscalationLevel.HEAD_OF_SERVICE, frozenset({Role.HEAD_OF_SERVICE}), "TEST-3"
                ),
            ),
        ),
    ),
)
