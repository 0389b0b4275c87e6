"""Use cases on a child's case: its allocation, legal status, placements, supervision
and oversight, and its closure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from application.policy import rules_of
from domain import commands as c
from domain.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from application.app import OversightApplication

#: The commands that change one child and nothing else: each names its method.
CHILD_COMMANDS: tuple[type[c.ChildCommand], ...] = (
    c.AllocateTeam,
    c.ChangeCaseType,
    c.ChangeThreshold,
    c.ChangeRiskLevel,
    c.ChangeLegalStatus,
    c.RecordCameIntoCare,
    c.ChangePlacement,
    c.RecordReturnedHome,
    c.RecordAdoptionOrder,
    c.RecordChildDeath,
    c.RecordCareEnded,
    c.RecordLookedAfterReview,
    c.RecordCaseSupervision,
    c.TriggerOversight,
    c.SetAction,
    c.CompleteAction,
    c.CarryForwardAction,
    c.RecordGroupDiscussion,
    # A child in need: the DfE CIN census (ADR 0026).
    c.RecordReferral,
    c.RecordAssessment,
    c.RecordSection47Enquiry,
    c.RecordInitialChildProtectionConference,
    c.StartChildInNeedPlan,
    c.CloseChildInNeedEpisode,
    # a child looked after, as the SSDA903 return gives it (ADR 0025)
    c.RecordCareBeganBeforeRecord,
    c.RecordMissingFromCare,
    c.CorrectCareEpisode,
)


def change_child(app: OversightApplication, cmd: c.ChildCommand) -> list[Aggregate]:
    """One of ``CHILD_COMMANDS``: the child's own rules decide it."""
    child = app.get_child(cmd.actor.authority_id, cmd.child_id)
    getattr(child, cmd.method)(cmd.provenance(), **cmd.arguments("child_id"))
    return [child]


#: The commands on a child that its authority's pack binds (who decides): each names
#: its method, which takes the pack's rules.
RULED_CHILD_COMMANDS: tuple[type[c.ChildCommand], ...] = (
    c.RecordManagementOversight,
    c.RecordManagementDecision,
    # A child protection plan: its pack may declare its events key points (ADR 0026).
    c.StartChildProtectionPlan,
    c.ReviewChildProtectionPlan,
    c.EndChildProtectionPlan,
)


def change_child_under_its_rules(app: OversightApplication, cmd: c.ChildCommand) -> list[Aggregate]:
    """One of ``RULED_CHILD_COMMANDS``: the child's rules and its authority's pack's."""
    authority = cmd.actor.authority_id
    child = app.get_child(authority, cmd.child_id)
    rules = rules_of(app, authority)
    getattr(child, cmd.method)(cmd.provenance(), **cmd.arguments("child_id"), rules=rules)
    return [child]


def allocate_worker(app: OversightApplication, cmd: c.AllocateWorker) -> list[Aggregate]:
    """Child, new worker and previous worker change together or not at all."""
    authority = cmd.actor.authority_id
    provenance = cmd.provenance()
    child = app.get_child(authority, cmd.child_id)
    previous_id = child.allocated_worker_id
    new_worker = app.get_worker(authority, cmd.worker_id)
    if not new_worker.employment.case_holding:
        raise ValidationError("the worker does not hold cases", field="worker_id")
    child.allocate_worker(provenance, worker_id=cmd.worker_id, reason=cmd.reason, team=cmd.team)
    touched: list[Aggregate] = [child, new_worker]
    new_worker.take_on_child(provenance, cmd.child_id)
    if previous_id is not None:
        previous = app.get_worker(authority, previous_id)
        previous.hand_over_child(provenance, cmd.child_id)
        touched.append(previous)
    return touched


def close_case(app: OversightApplication, cmd: c.CloseCase) -> list[Aggregate]:
    """A closed case leaves its worker's caseload, in the same save: the caseload is the
    worker's open cases (the child keeps who held it). Left on, a worker's caseload grew
    with every case they ever closed, and each personal record then read every one of
    those children again for POR-6.2b's names: at 3 million events, 45 % of the large
    authority's import (ADR 0015)."""
    authority = cmd.actor.authority_id
    child = app.get_child(authority, cmd.child_id)
    provenance = cmd.provenance()
    child.close_case(provenance, kind=cmd.kind, reason=cmd.reason)
    touched: list[Aggregate] = [child]
    if child.allocated_worker_id is None:
        return touched
    try:
        worker = app.get_worker(authority, child.allocated_worker_id)
    except NotFound:  # the worker's file already purged: there is no caseload to leave
        return touched
    if cmd.child_id in worker.caseload:
        worker.hand_over_child(provenance, cmd.child_id)
        touched.append(worker)
    return touched


__all__ = [
    "CHILD_COMMANDS",
    "RULED_CHILD_COMMANDS",
    "allocate_worker",
    "change_child",
    "change_child_under_its_rules",
    "close_case",
]
