"""Use cases on a worker: their employment, supervision agreement, sessions and
personal supervision records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from application.policy import rules_of
from domain import commands as c
from domain.errors import NotFound, ValidationError
from domain.governance import WriteRule, WriteRuleKind
from domain.rules import PersonalRecordHoldsNoServiceUserInformation
from domain.worker import PERSONAL_RECORD_TEXT_FIELDS, Worker

if TYPE_CHECKING:
    from application.app import OversightApplication

#: The commands that change one worker and nothing else: each names its method.
WORKER_COMMANDS: tuple[type[c.WorkerCommand], ...] = (
    c.ChangeRole,
    c.ChangeTeam,
    c.ChangeLineManager,
    c.ChangeWorkingPattern,
    c.LeaveEmployment,
    c.SignSupervisionAgreement,
    c.ReviewSupervisionAgreement,
    c.ScheduleSupervisionSession,
    c.CancelSupervisionSession,
    c.RescheduleSupervisionSession,
    c.StartAbsence,
    c.EndAbsence,
    c.AttendGroupSupervision,
    c.RecordDirectObservation,
    c.SignDirectObservation,
    c.HoldAppraisal,
)


#: The commands on one worker that the authority's pack binds (who approves, in what
#: order the parties sign): each names its method, which takes the pack's rules.
RULED_WORKER_COMMANDS: tuple[type[c.WorkerCommand], ...] = (
    c.ApproveFrequencyException,
    c.SignPersonalSupervisionRecord,
)


def change_worker(app: OversightApplication, cmd: c.WorkerCommand) -> list[Aggregate]:
    """One of ``WORKER_COMMANDS``: the worker's own rules decide it."""
    worker = app.get_worker(cmd.actor.authority_id, cmd.staff_id)
    getattr(worker, cmd.method)(cmd.provenance(), **cmd.arguments("staff_id"))
    return [worker]


def change_worker_under_its_rules(
    app: OversightApplication, cmd: c.WorkerCommand
) -> list[Aggregate]:
    """One of ``RULED_WORKER_COMMANDS``: the worker's rules and its authority's pack's."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    rules = rules_of(app, authority)
    getattr(worker, cmd.method)(cmd.provenance(), **cmd.arguments("staff_id"), rules=rules)
    return [worker]


def hold_supervision_session(
    app: OversightApplication, cmd: c.HoldSupervisionSession
) -> list[Aggregate]:
    """The session on the worker and a case supervision on each child, in one save."""
    authority = cmd.actor.authority_id
    provenance = cmd.provenance()
    worker = app.get_worker(authority, cmd.staff_id)
    worker.hold_supervision_session(
        provenance,
        session_id=cmd.session_id,
        supervisor_id=cmd.supervisor_id,
        duration_minutes=cmd.duration_minutes,
        functions_covered=list(cmd.functions_covered),
        wellbeing_discussed=cmd.wellbeing_discussed,
        equality_and_diversity_discussed=cmd.equality_and_diversity_discussed,
        children_discussed=[d.child_id for d in cmd.case_discussions],
    )
    touched: list[Aggregate] = [worker]
    for index, discussion in enumerate(cmd.case_discussions):
        try:
            child = app.get_child(authority, discussion.child_id)
            arguments = asdict(discussion)
            del arguments["child_id"]
            child.record_case_supervision(
                provenance,
                worker_id=cmd.staff_id,
                supervisor_id=cmd.supervisor_id,
                session_id=cmd.session_id,
                **arguments,
            )
        except (ValidationError, NotFound) as error:
            error.field = f"case_discussions[{index}].{error.field}"
            raise
        touched.append(child)
    return touched


def write_personal_supervision_record(
    app: OversightApplication, cmd: c.WritePersonalSupervisionRecord
) -> list[Aggregate]:
    """Where the authority's pack says so [POR-6.2b], the record may not name a child of
    the authority, by id or by name."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    rule = rules_of(app, authority).write_rule(WriteRuleKind.NO_SERVICE_USER_INFORMATION)
    if rule is not None:
        _names_no_child(app, cmd, worker, rule)
    worker.write_personal_supervision_record(cmd.provenance(), **cmd.arguments("staff_id"))
    return [worker]


def _names_no_child(
    app: OversightApplication,
    cmd: c.WritePersonalSupervisionRecord,
    worker: Worker,
    rule: WriteRule,
) -> None:
    authority = cmd.actor.authority_id
    texts: dict[str, str | None] = {
        name: getattr(cmd, name) for name in PERSONAL_RECORD_TEXT_FIELDS
    }
    for index, action in enumerate(cmd.agreed_actions):
        if isinstance(action, dict):
            texts[f"agreed_actions[{index}].description"] = action.get("description")
    candidates = PersonalRecordHoldsNoServiceUserInformation.candidate_identifiers(texts.values())
    child_ids = [token for token in candidates if app.child_exists(authority, token)]
    names = _caseload_names(
        app, authority, sorted(worker.children_worked_with(cmd.occurred_at.date()))
    )
    PersonalRecordHoldsNoServiceUserInformation.check(texts, child_ids, names, rule)


def _caseload_names(
    app: OversightApplication, authority: str, caseload: Iterable[str]
) -> list[str]:
    names: list[str] = []
    for local_id in caseload:
        try:
            name = app.get_child(authority, local_id).name
        except NotFound:  # its record purged since: no name left to look for
            continue
        if name:
            names.append(name)
            names.extend(part for part in name.split() if len(part) >= 3)
    return names


__all__ = [
    "RULED_WORKER_COMMANDS",
    "WORKER_COMMANDS",
    "change_worker",
    "change_worker_under_its_rules",
    "hold_supervision_session",
    "write_personal_supervision_record",
]
