"""The dispatch table: which use case decides each command.

Every command the application runs is listed here, next to the function that decides
it; ``OversightApplication.execute`` looks its handler up in this table and nothing
else. Each use-case group is a module of its own (``registration``, ``workers``,
``children``, ``records``, ``access``, ``purge_plan``, ``quality``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from application import access, children, purge_plan, quality, records, registration, workers
from domain import commands as c
from domain.errors import ValidationError

if TYPE_CHECKING:
    from application.app import OversightApplication

#: A use case: decide a command on the aggregates it loads; return those it touched.
Handler = Callable[["OversightApplication", Any], list[Aggregate]]

_HANDLERS: dict[type[c.Command], Handler] = {
    c.RegisterAuthority: registration.register_authority,
    c.AdoptPolicyPack: registration.adopt_policy_pack,
    c.AddClosureDay: registration.add_closure_day,
    c.RegisterWorker: registration.register_worker,
    c.RegisterChild: registration.register_child,
    **dict.fromkeys(workers.WORKER_COMMANDS, workers.change_worker),
    **dict.fromkeys(workers.RULED_WORKER_COMMANDS, workers.change_worker_under_its_rules),
    c.HoldSupervisionSession: workers.hold_supervision_session,
    c.WritePersonalSupervisionRecord: workers.write_personal_supervision_record,
    **dict.fromkeys(children.CHILD_COMMANDS, children.change_child),
    **dict.fromkeys(children.RULED_CHILD_COMMANDS, children.change_child_under_its_rules),
    c.AllocateWorker: children.allocate_worker,
    c.CloseCase: children.close_case,
    **dict.fromkeys(records.SUBJECT_COMMANDS, records.change_subject),
    **dict.fromkeys(records.RULED_SUBJECT_COMMANDS, records.change_subject_under_its_rules),
    c.CorrectEntry: records.correct_entry,
    c.RemoveComment: records.remove_comment,
    c.RecordAccess: access.record_access,
    c.PurgeRecord: purge_plan.purge_record,
    **quality.QUALITY_HANDLERS,
}


def handles(*command_types: type[c.Command]) -> Callable[[Handler], Handler]:
    """Register a use case for more commands (a test's own command, say)."""

    def register(func: Handler) -> Handler:
        for command_type in command_types:
            _HANDLERS[command_type] = func
        return func

    return register


def handler_of(command: c.Command) -> Handler:
    """The use case that decides ``command``; an unknown command is refused."""
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise ValidationError(f"unknown command {type(command).__name__}", field="command")
    return handler


def handled_commands() -> frozenset[type[c.Command]]:
    """Every command the application runs (the API generates a mutation for most)."""
    return frozenset(_HANDLERS)


__all__ = ["Handler", "handled_commands", "handler_of", "handles"]
