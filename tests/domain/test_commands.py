"""Command fingerprints and identifiers: properties that examples would not cover."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import commands as c
from domain.errors import ValidationError
from domain.identifiers import authority_id, check_local_id, child_id, worker_id
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)

ACTOR = Actor("A1", Role.PRACTITIONER, "LA")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
local_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_./-]{0,20}\Z")


@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_fingerprint_tells_commands_apart(team_a: str, team_b: str) -> None:
    a = c.ChangeTeam(command_id="k", actor=ACTOR, occurred_at=WHEN, staff_id="SW1", team=team_a)
    b = replace(a, team=team_b)
    assert (a.fingerprint() == b.fingerprint()) == (team_a == team_b)
    assert a.fingerprint() == replace(a).fingerprint()


def test_fingerprint_covers_nested_and_typed_values() -> None:
    base = c.TriggerOversight(
        command_id="k",
        actor=ACTOR,
        occurred_at=WHEN,
        child_id="C1",
        trigger_id="T",
        kind="significant_incident",
        detail="x",
        incident_dates=[date(2025, 12, 30)],
    )
    assert base.fingerprint() != replace(base, incident_dates=[date(2025, 12, 31)]).fingerprint()
    assert base.fingerprint() != replace(base, imported=True).fingerprint()
    assert (
        base.fingerprint()
        != replace(base, actor=Actor("A2", Role.PRACTITIONER, "LA")).fingerprint()
    )


@given(local_ids, local_ids)
def test_identifiers_are_deterministic_and_disjoint(a: str, b: str) -> None:
    assert worker_id("LA", a) == worker_id("LA", a)
    assert (worker_id("LA", a) == worker_id("LA", b)) == (a == b)
    assert worker_id("LA", a) != child_id("LA", a)
    assert worker_id("LA", a) != worker_id("LB", a)
    assert authority_id("LA") != authority_id("LB")


@pytest.mark.parametrize("bad", ["", " ", "a b", "-lead", "x" * 65, "C1;DROP", "é1"])
def test_bad_local_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_local_id(bad, field="child_id")
    assert caught.value.field == "child_id"


def test_command_arguments_exclude_common_fields() -> None:
    command = c.ChangeTeam(command_id="k", actor=ACTOR, occurred_at=WHEN, staff_id="SW1", team="B")
    assert command.arguments("staff_id") == {"team": "B"}
    assert command.provenance().actor_role == "practitioner"


def test_each_command_invokes_the_aggregate_method_of_its_own_name() -> None:
    """One name per concept (issue 18): a command's aggregate method is its own name in
    snake case (``RecordCameIntoCare`` -> ``Child.record_came_into_care``), and that
    method exists on the aggregate the command addresses."""
    import inspect
    import re

    from domain.access import AccessLog
    from domain.child import Child
    from domain.subject import Subject
    from domain.worker import Worker

    targets = {c.WorkerCommand: Worker, c.ChildCommand: Child, c.SubjectCommand: Subject}
    checked = 0
    for name, command in vars(c).items():
        method = getattr(command, "method", None)
        if not (inspect.isclass(command) and isinstance(method, str)):
            continue
        assert method == re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(), name
        owner = (  # a read is recorded on the subject's access log, not on the subject
            AccessLog
            if command is c.RecordAccess
            else next(a for base, a in targets.items() if issubclass(command, base))
        )
        assert callable(getattr(owner, method, None)), f"{owner.__name__}.{method}"
        checked += 1
    assert checked >= 50
