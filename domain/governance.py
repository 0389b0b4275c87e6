"""An authority's own escalation chains, roles and write rules, as data (ADR 0022).

Each pack declares them (``[roles]``, ``[[chain]]``, ``[[write_rule]]``: read by
``domain.policy.packs``); the application hands the subject's authority's
``AuthorityRules`` to the aggregate method that decides, so every council is held to its
own procedure and to nothing another council wrote. Code only interprets a small closed
set of write-rule *kinds* (``WriteRuleKind``), as ``domain.policy.clocks`` does for
clocks: what a kind checks is here and in ``domain.rules``; which authorities are bound,
by whom and citing which clause, is the pack's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.policy.calendar import Period
from domain.policy.citations import Citations, cited
from domain.policy.key_points import KeyPoint
from domain.vocabulary import DisagreementSubject, EscalationLevel, Role


class WriteRuleKind(StrEnum):
    """The kinds of write rule a pack may select; each is interpreted by one named rule
    (``domain.rules``)."""

    #: Only the roles named approve the act [POR-3.1a: a frequency exception].
    APPROVED_BY = "approved_by"
    #: A comment is removed from a personal record only by the line manager of the
    #: supervisor who wrote it [DUR-4.8b].
    COMMENT_REMOVED_BY_ORIGINAL_SUPERVISORS_MANAGER = (
        "comment_removed_by_original_supervisors_manager"
    )
    #: A personal supervision record names no child of the authority [POR-6.2b].
    NO_SERVICE_USER_INFORMATION = "no_service_user_information"
    #: The supervisor signs and shares the record before the supervisee confirms [POR-6.2b].
    SUPERVISOR_SIGNS_FIRST = "supervisor_signs_first"


class Approval(StrEnum):
    """What an ``approved_by`` rule approves."""

    FREQUENCY_EXCEPTION = "frequency_exception"  # supervision less often than standard
    DECISION = "decision"  # a management decision or oversight on a child's case


#: The parameters each write-rule kind takes, beyond id, kind and title (its validation).
WRITE_RULE_PARAMETERS: Mapping[WriteRuleKind, frozenset[str]] = {
    WriteRuleKind.APPROVED_BY: frozenset({"approves", "roles"}),
    WriteRuleKind.COMMENT_REMOVED_BY_ORIGINAL_SUPERVISORS_MANAGER: frozenset(),
    WriteRuleKind.NO_SERVICE_USER_INFORMATION: frozenset(),
    WriteRuleKind.SUPERVISOR_SIGNS_FIRST: frozenset(),
}


@dataclass(frozen=True)
class ChainLevel:
    """One level of an escalation chain: its stored name, who holds it (resolves a
    disagreement while it is there), its clock if the policy gives one, and its clause."""

    number: int
    level: EscalationLevel
    roles: frozenset[Role]
    rule_id: str
    within: Period | None = None


@dataclass(frozen=True)
class EscalationChain:
    """Where a disagreement about ``about`` goes when supervision cannot resolve it, in
    order; ``rule_id`` is the clause that makes it a chain (cited past its top)."""

    rule_id: str
    about: frozenset[DisagreementSubject]
    levels: tuple[ChainLevel, ...]

    def after(self, current: EscalationLevel | None) -> ChainLevel | None:
        """The level next after ``current`` (None: not yet escalated); None past the top."""
        if current is None:
            return self.levels[0]
        names = [lvl.level for lvl in self.levels]
        if current not in names:
            return None
        index = names.index(current)
        return self.levels[index + 1] if index + 1 < len(self.levels) else None

    def holding(self, current: EscalationLevel) -> ChainLevel | None:
        return next((lvl for lvl in self.levels if lvl.level is current), None)


@dataclass(frozen=True)
class WriteRule:
    """A rule one authority's pack binds its writes with, citing its clause."""

    rule_id: str
    kind: WriteRuleKind
    title: str
    approves: Approval | None = None
    roles: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class AuthorityRules:
    """One authority's chains, roles and write rules: what its pack declares and it
    inherits. An authority is bound by these and by no other council's."""

    pack_id: str
    #: Every clause its chains and write rules cite.
    clauses: frozenset[str] = frozenset()
    #: The roles the policy names, with what the policy calls each.
    roles: Mapping[Role, str] = field(default_factory=dict)
    chains: tuple[EscalationChain, ...] = ()
    write_rules: tuple[WriteRule, ...] = ()
    #: Its own clauses for each rule, access decision and event code names
    #: (``[citations]``, ``domain.policy.citations``): nothing another council wrote.
    citations: Citations = field(default_factory=dict)
    #: The key points its pack declares on child-in-need events (``[[key_point]]``, ADR 0026).
    key_points: tuple[KeyPoint, ...] = ()

    def key_points_on(self, event: type, fields: Mapping[str, object]) -> tuple[KeyPoint, ...]:
        """The pack's key points ``event`` with these ``fields`` raises (none: not bound)."""
        return tuple(p for p in self.key_points if p.matches(event, fields))

    def cites(self, name: str) -> tuple[str, ...]:
        """The clauses the pack cites for ``name`` (none: the name stands alone)."""
        return tuple(self.citations.get(name, ()))

    def cited(self, name: str) -> str:
        """``name`` with the pack's clauses for it, as a refusal names its rule."""
        return cited(self.citations, name)

    def chain_for(self, subject: DisagreementSubject) -> EscalationChain | None:
        """The chain a disagreement about ``subject`` escalates along, if the pack has one."""
        return next((chain for chain in self.chains if subject in chain.about), None)

    def write_rule(self, kind: WriteRuleKind, approves: Approval | None = None) -> WriteRule | None:
        """The pack's rule of ``kind`` (for ``approves``), or None: not bound by one."""
        return next(
            (r for r in self.write_rules if r.kind is kind and r.approves is approves), None
        )

    def approvers(self, approves: Approval) -> WriteRule | None:
        return self.write_rule(WriteRuleKind.APPROVED_BY, approves)


#: No chain, no write rule: what an authority is bound by when its pack declares none.
UNBOUND = AuthorityRules(pack_id="")


__all__ = [
    "UNBOUND",
    "WRITE_RULE_PARAMETERS",
    "Approval",
    "AuthorityRules",
    "ChainLevel",
    "EscalationChain",
    "WriteRule",
    "WriteRuleKind",
]
