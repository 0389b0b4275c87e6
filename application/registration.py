"""Registration use cases: an authority, its policy pack and closure days, and the
workers and children it registers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from domain import commands as c
from domain.authority import Authority
from domain.child import Child
from domain.errors import ValidationError
from domain.worker import Worker

if TYPE_CHECKING:
    from application.app import OversightApplication


def register_authority(app: OversightApplication, cmd: c.RegisterAuthority) -> list[Aggregate]:
    if cmd.authority_code != cmd.actor.authority_id:
        raise ValidationError("an actor registers their own authority", field="authority_code")
    app.policy_packs.get(cmd.policy_pack)  # a loaded pack, or a ValidationError naming them
    return [
        Authority.register(
            provenance=cmd.provenance(),
            authority_code=cmd.authority_code,
            name=cmd.name,
            policy_pack=cmd.policy_pack,
        )
    ]


def adopt_policy_pack(app: OversightApplication, cmd: c.AdoptPolicyPack) -> list[Aggregate]:
    authority = app.get_authority(cmd.actor.authority_id)
    app.policy_packs.get(cmd.policy_pack)
    authority.adopt_policy_pack(cmd.provenance(), policy_pack=cmd.policy_pack)
    return [authority]


def add_closure_day(app: OversightApplication, cmd: c.AddClosureDay) -> list[Aggregate]:
    authority = app.get_authority(cmd.actor.authority_id)
    authority.add_closure_day(cmd.provenance(), day=cmd.day, reason=cmd.reason)
    return [authority]


def register_worker(app: OversightApplication, cmd: c.RegisterWorker) -> list[Aggregate]:
    app.get_authority(cmd.actor.authority_id)
    return [
        Worker.register(
            provenance=cmd.provenance(), authority_code=cmd.actor.authority_id, **cmd.arguments()
        )
    ]


def register_child(app: OversightApplication, cmd: c.RegisterChild) -> list[Aggregate]:
    app.get_authority(cmd.actor.authority_id)
    arguments = cmd.arguments("child_id")
    return [
        Child.register(
            provenance=cmd.provenance(),
            authority_code=cmd.actor.authority_id,
            local_child_id=cmd.child_id,
            **arguments,
        )
    ]


#: The registrations: a second one of the same id is refused as ``AlreadyExists``.
REGISTRATIONS = (c.RegisterWorker, c.RegisterChild, c.RegisterAuthority)


def registration_field(command: c.Command) -> str:
    """The input field that names what a refused registration collided with."""
    if isinstance(command, c.RegisterWorker):
        return "staff_id"
    if isinstance(command, c.RegisterChild):
        return "child_id"
    return "authority_code"


__all__ = [
    "REGISTRATIONS",
    "add_closure_day",
    "adopt_policy_pack",
    "register_authority",
    "register_child",
    "register_worker",
    "registration_field",
]
