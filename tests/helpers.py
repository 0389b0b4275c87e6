"""Builders for commands in tests: sensible defaults, overridden per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import strategies as st

from application.app import CommandResult, OversightApplication
from domain import commands as c
from domain.events import EventType, named
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.schema import check_schema
from oversight.settings import DatabaseSettings

AUTHORITY = "TEST-LA"
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=365)


@contextmanager
def opened(
    database: DatabaseSettings, *, aggregate_cache_size: int | None = None
) -> Iterator[OversightApplication]:
    """An application on ``database`` (as ``open_application`` opens it), closed after;
    ``aggregate_cache_size`` overrides the aggregates it keeps between commands (0: none,
    ADR 0016)."""
    check_schema(database)
    env = database.eventsourcing_env()
    if aggregate_cache_size is not None:
        env["AGGREGATE_CACHE_SIZE"] = str(aggregate_cache_size)
    application = OversightApplication(env=env)
    try:
        yield application
    finally:
        application.close()


def actor(
    actor_id: str = "ADMIN", role: Role = Role.ADMINISTRATOR, authority: str = AUTHORITY
) -> Actor:
    return Actor(actor_id, role, authority)


def cid() -> str:
    return uuid.uuid4().hex


def common(when: datetime | None = None, who: Actor | None = None, **extra: Any) -> dict[str, Any]:
    return {"command_id": cid(), "actor": who or actor(), "occurred_at": when or NOW, **extra}


def setup_authority(
    app: OversightApplication, code: str = AUTHORITY, pack: str = "DUR"
) -> CommandResult:
    return app.execute(
        c.RegisterAuthority(
            **common(START - timedelta(days=1), actor(authority=code)),
            authority_code=code,
            name=f"{code} Council",
            policy_pack=pack,
        )
    )


def register_worker(
    app: OversightApplication, staff_id: str = "SW1", **overrides: Any
) -> CommandResult:
    fields: dict[str, Any] = {
        "staff_id": staff_id,
        "display_name": f"Worker {staff_id}",
        "role": "social_worker",
        "team": "Team A",
        "line_manager_id": "TM1",
        "employment_pattern": "full_time",
        "fte": Decimal(1),
        "engagement": "permanent",
        "start_date": START.date(),
        "case_holding": True,
        "nqsw_asye_start": None,
    }
    when = overrides.pop("when", START)
    who = overrides.pop("who", None)
    fields.update(overrides)
    return app.execute(c.RegisterWorker(**common(when, who), **fields))


def register_child(
    app: OversightApplication, child_id: str = "C1", **overrides: Any
) -> CommandResult:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "date_of_birth": date(2015, 5, 1),
        "case_type": "cin",
        "risk_level": "medium",
        "rag": "amber",
        "name": None,
    }
    when = overrides.pop("when", START)
    fields.update(overrides)
    return app.execute(c.RegisterChild(**common(when), **fields))


def case_discussion(child_id: str, entry_id: str, **overrides: Any) -> c.CaseDiscussion:
    fields: dict[str, Any] = {
        "child_id": child_id,
        "entry_id": entry_id,
        "current_situation": "Stable at home.",
        "child_last_seen_on": (NOW - timedelta(days=3)).date(),
        "childs_views": "Happy at school.",
        "reflection": "Good engagement.",
        "analysis": "Risk reducing.",
        "decision": "Continue the plan.",
        "rationale": "Sustained change.",
        "actions": [],
        "previous_actions_reviewed": "Reviewed.",
    }
    fields.update(overrides)
    return c.CaseDiscussion(**fields)


def action(action_id: str, due: date | None = None, owner: str = "SW1") -> dict[str, Any]:
    return {
        "action_id": action_id,
        "description": "Visit the child",
        "owner": owner,
        "due_on": due or (NOW + timedelta(days=14)).date(),
    }


def topics(app: OversightApplication) -> list[str]:
    """Event class names in the order recorded."""
    return [
        n.topic.rsplit(".", 1)[-1]
        for n in app.recorder.select_notifications(start=1, limit=100_000)
    ]


def kinds(app: OversightApplication) -> list[EventType]:
    """The catalogue class of each event, in the order recorded."""
    return [named(name) for name in topics(app)]


def setup_team(app: OversightApplication, children: tuple[str, ...] = ("C1",)) -> None:
    """The authority, a team manager TM1, a social worker SW1 managed by TM1, and
    children (unallocated)."""
    setup_authority(app)
    register_worker(app, "TM1", role="team_manager", case_holding=False, line_manager_id=None)
    register_worker(app, "SW1")
    for child in children:
        register_child(app, child)


def case_supervision(
    when: datetime, who: Actor, child_id: str, entry_id: str, **discussion: Any
) -> c.RecordCaseSupervision:
    """A case supervision of ``child_id`` with SW1 by TM1 (``case_discussion``'s fields)."""
    return c.RecordCaseSupervision(
        **common(when, who),
        worker_id="SW1",
        supervisor_id="TM1",
        **vars(case_discussion(child_id, entry_id, **discussion)),
    )


def supervision_session(
    when: datetime, who: Actor, session_id: str, discussions: list[c.CaseDiscussion]
) -> c.HoldSupervisionSession:
    """SW1's hour of supervision with TM1, discussing ``discussions``."""
    return c.HoldSupervisionSession(
        **common(when, who),
        staff_id="SW1",
        session_id=session_id,
        supervisor_id="TM1",
        duration_minutes=60,
        functions_covered=["management"],
        wellbeing_discussed=True,
        equality_and_diversity_discussed=False,
        case_discussions=discussions,
    )


def stored_events(app: OversightApplication, authority: str | None = None) -> list[tuple[Any, ...]]:
    """Every stored event as (aggregate, version, topic, state without the time it was
    recorded), in log order: what two runs of the same commands must agree on. Only one
    authority's aggregates', when given (their registrations name it)."""
    rows = []
    start = 1
    while page := app.recorder.select_notifications(start=start, limit=2000):
        for n in page:
            state = orjson.loads(n.state)
            state.pop("timestamp", None)
            rows.append((n.originator_id, n.originator_version, n.topic, state))
        start = page[-1].id + 1
    if authority is None:
        return rows
    ids = {row[0] for row in rows if row[3].get("authority_code") == authority}
    return [row for row in rows if row[0] in ids]


def mixed_steps(*extra: Any) -> Any:
    """Steps for ``mixed_plan`` (what to do, to which child, with which small number),
    each with a value drawn from every ``extra`` strategy after them."""
    return st.lists(
        st.tuples(
            st.sampled_from(["set", "complete", "supervise", "close", "reuse", "session"]),
            st.sampled_from(["C1", "C2", "C3"]),
            st.integers(min_value=0, max_value=5),
            *extra,
        ),
        min_size=1,
        max_size=25,
    )


def mixed_plan(authority: str, steps: list[tuple[str, str, int]]) -> list[c.Command]:
    """An authority (DUR), a team manager and a worker, children C1 to C3, then one
    command per step, many of them refused by the rules: actions set twice or completed
    before they exist, supervision and closure of closed cases, sessions that fail half
    way (an odd number names a child that does not exist), entry ids already taken."""
    admin = actor("ADMIN", Role.ADMINISTRATOR, authority)
    commands: list[c.Command] = [
        c.RegisterAuthority(
            **common(START, admin), authority_code=authority, name="P", policy_pack="DUR"
        ),
        *[
            c.RegisterWorker(
                **common(START, admin),
                staff_id=staff,
                display_name=staff,
                role=role,
                team="T",
                line_manager_id=manager,
                employment_pattern="full_time",
                fte=Decimal(1),
                weekly_hours=Decimal(37),
                engagement="permanent",
                start_date=START.date(),
                case_holding=manager is not None,
            )
            for staff, role, manager in (
                ("TM1", "team_manager", None),
                ("SW1", "social_worker", "TM1"),
            )
        ],
    ]
    for child in ("C1", "C2", "C3"):
        commands.append(
            c.RegisterChild(
                **common(START, admin),
                child_id=child,
                date_of_birth=date(2016, 1, 1),
                case_type="cp",
                risk_level="medium",
            )
        )
    supervisor = actor("TM1", Role.SUPERVISOR, authority)
    practitioner = actor("SW1", Role.PRACTITIONER, authority)
    for n, (kind, child, k) in enumerate(steps, start=1):
        when = START + timedelta(days=1, minutes=n)
        if kind == "set":
            commands.append(
                c.SetAction(
                    **common(when, practitioner),
                    child_id=child,
                    action=action(f"A{k}", when.date() + timedelta(days=20)),
                )
            )
        elif kind == "complete":
            commands.append(
                c.CompleteAction(
                    **common(when, practitioner), child_id=child, action_id=f"A{k}", note="done"
                )
            )
        elif kind in ("supervise", "reuse"):  # reuse: an entry id that may be taken
            entry = f"E{n}" if kind == "supervise" else f"E{k}"
            commands.append(
                case_supervision(when, supervisor, child, entry, child_last_seen_on=START.date())
            )
        elif kind == "close":
            commands.append(
                c.CloseCase(**common(when, supervisor), child_id=child, kind="closed", reason="r")
            )
        else:  # a session; with an odd k, its last discussion names no child
            others = ["NOBODY"] if k % 2 else []
            commands.append(
                supervision_session(
                    when,
                    supervisor,
                    f"S{n}",
                    [
                        case_discussion(who, f"S{n}-{who}", child_last_seen_on=START.date())
                        for who in [child, *others]
                    ],
                )
            )
    return commands
