"""The Authority aggregate: a tenant, and the policy pack its records are held against.

A pack is named by its id (``DUR``, or an authority's own copy such as ``DUR-2027``);
the application checks the id names a loaded pack (``domain.policy.packs``) before the
aggregate records it, so a pack an authority copies needs no code change.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.events import (
    AuthorityRegistered,
    ClosureDayAdded,
    PolicyPackAdopted,
)
from domain.identifiers import authority_id, check_authority_code
from domain.policy.packs import check_pack_id
from domain.provenance import Provenance, require_text
from domain.rules import OccurredAtIsNotInTheFuture, require
from domain.subject import Subject


class Authority(Subject):
    """A local authority. Every worker and child belongs to exactly one."""

    # The catalogue events an Authority triggers. The library subclasses each one as an
    # attribute of the aggregate (``Authority.ClosureDayAdded``, the topic it is stored
    # under), so each must be an attribute here first.
    AuthorityRegistered = AuthorityRegistered
    ClosureDayAdded = ClosureDayAdded
    PolicyPackAdopted = PolicyPackAdopted

    @staticmethod
    def create_id(authority_code: str) -> UUID:
        return authority_id(authority_code)

    @classmethod
    def register(
        cls, *, provenance: Provenance, authority_code: str, name: str, policy_pack: str
    ) -> Authority:
        OccurredAtIsNotInTheFuture.check(provenance.occurred_at)
        check_authority_code(authority_code)
        require_text(name, field="name", max_length=200)
        return cls(
            provenance=provenance,
            authority_code=authority_code,
            name=name,
            policy_pack=check_pack_id(policy_pack),
        )

    @event(AuthorityRegistered)
    def __init__(
        self, *, provenance: Provenance, authority_code: str, name: str, policy_pack: str
    ) -> None:
        self._init_subject(authority_code, provenance)
        self.name = name
        self.policy_pack = policy_pack
        self.closure_days: set[date] = set()

    def adopt_policy_pack(self, provenance: Provenance, *, policy_pack: str) -> None:
        self.check_provenance(provenance)
        require(
            check_pack_id(policy_pack) != self.policy_pack,
            "the authority already uses that pack",
            field="policy_pack",
        )
        self._policy_pack_adopted(provenance, policy_pack)

    @event(PolicyPackAdopted)
    def _policy_pack_adopted(self, provenance: Provenance, policy_pack: str) -> None:
        self.policy_pack = policy_pack

    def add_closure_day(self, provenance: Provenance, *, day: date, reason: str) -> None:
        """An authority's own closure day, which does not count as a working day."""
        self.check_provenance(provenance)
        require(day not in self.closure_days, "already a closure day", field="day")
        require_text(reason, field="reason", max_length=200)
        self._closure_day_added(provenance, day, reason)

    @event(ClosureDayAdded)
    def _closure_day_added(self, provenance: Provenance, day: date, reason: str) -> None:
        self.closure_days.add(day)
