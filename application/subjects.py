"""Which subject (a worker or a child) a command names: shared by the use cases that act
on either kind."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain import commands as c
from domain.errors import ValidationError
from domain.identifiers import check_local_id, child_id, worker_id
from domain.subject import Subject

if TYPE_CHECKING:
    from application.app import OversightApplication


def subject_of(app: OversightApplication, command: c.SubjectCommand) -> Subject:
    """The worker or child the command names, loaded to decide on."""
    authority = command.actor.authority_id
    if (command.staff_id is None) == (command.child_id is None):
        raise ValidationError("give exactly one of staff_id or child_id", field="staff_id")
    if command.staff_id is not None:
        return app.get_worker(authority, command.staff_id)
    assert command.child_id is not None
    return app.get_child(authority, command.child_id)


def subject_key_of(command: c.SubjectCommand) -> tuple[str, str, UUID]:
    """The kind, local id and aggregate id of the subject a command names."""
    authority = command.actor.authority_id
    if (command.staff_id is None) == (command.child_id is None):
        raise ValidationError("give exactly one of staff_id or child_id", field="staff_id")
    if command.staff_id is not None:
        check_local_id(command.staff_id, field="staff_id")
        return "worker", command.staff_id, worker_id(authority, command.staff_id)
    assert command.child_id is not None
    check_local_id(command.child_id, field="child_id")
    return "child", command.child_id, child_id(authority, command.child_id)


__all__ = ["subject_key_of", "subject_of"]
