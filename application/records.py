"""Use cases on what is recorded about any subject: corrections, disagreements, legal
holds, and comments removed from a supervision record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from application.policy import rules_of
from application.subjects import subject_of
from domain import commands as c
from domain.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from application.app import OversightApplication

#: The commands that change one subject, a worker or a child: each names its method.
SUBJECT_COMMANDS: tuple[type[c.SubjectCommand], ...] = (
    c.RaiseDisagreement,
    c.PlaceLegalHold,
    c.LiftLegalHold,
)


def change_subject(app: OversightApplication, cmd: c.SubjectCommand) -> list[Aggregate]:
    """One of ``SUBJECT_COMMANDS``: the subject's own rules decide it."""
    subject = subject_of(app, cmd)
    getattr(subject, cmd.method)(cmd.provenance(), **cmd.arguments("staff_id", "child_id"))
    return [subject]


#: The commands on a subject that its authority's escalation chain decides [ADR 0022].
RULED_SUBJECT_COMMANDS: tuple[type[c.SubjectCommand], ...] = (
    c.EscalateDisagreement,
    c.ResolveDisagreement,
)


def change_subject_under_its_rules(
    app: OversightApplication, cmd: c.SubjectCommand
) -> list[Aggregate]:
    """One of ``RULED_SUBJECT_COMMANDS``: the subject's rules and its authority's chain."""
    subject = subject_of(app, cmd)
    rules = rules_of(app, cmd.actor.authority_id)
    arguments = cmd.arguments("staff_id", "child_id")
    getattr(subject, cmd.method)(cmd.provenance(), **arguments, rules=rules)
    return [subject]


def correct_entry(app: OversightApplication, cmd: c.CorrectEntry) -> list[Aggregate]:
    """Only the entry's author or their line manager corrects it [DUR-4.7a]: the line
    manager is read from the author's own record, as it is now."""
    subject = subject_of(app, cmd)
    entry = subject.entries.get(cmd.entry_id)
    manager_id: str | None = None
    if entry is not None and entry.recorded_by and entry.recorded_by != cmd.actor.id:
        try:
            manager_id = app.get_worker(cmd.actor.authority_id, entry.recorded_by).line_manager_id
        except (NotFound, ValidationError):  # not a worker here (an importer), or purged
            manager_id = None
    subject.correct_entry(
        cmd.provenance(),
        entry_id=cmd.entry_id,
        changes=cmd.changes,
        reason=cmd.reason,
        authors_line_manager_id=manager_id,
    )
    return [subject]


def remove_comment(app: OversightApplication, cmd: c.RemoveComment) -> list[Aggregate]:
    """Where the authority's pack says so [DUR-4.8b]: only the manager of the supervisor
    who wrote the record."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    record = worker.records.get(cmd.record_id)
    manager_id: str | None = None
    if record is not None:
        try:
            manager_id = app.get_worker(authority, record.supervisor_id).line_manager_id
        except NotFound:
            manager_id = None
    worker.remove_comment(
        cmd.provenance(),
        record_id=cmd.record_id,
        field_name=cmd.field_name,
        reason=cmd.reason,
        original_supervisors_manager_id=manager_id,
        rules=rules_of(app, authority),
    )
    return [worker]


__all__ = [
    "RULED_SUBJECT_COMMANDS",
    "SUBJECT_COMMANDS",
    "change_subject",
    "change_subject_under_its_rules",
    "correct_entry",
    "remove_comment",
]
