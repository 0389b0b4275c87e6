"""The subject's authority's own rules, handed to the aggregate that decides (ADR 0022).

An aggregate method that a pack's chain, roles or write rules bind takes them as an
argument: the use case reads the authority (inside the command, so the read is checked
at the write) and its adopted pack, and passes ``AuthorityRules``: the domain looks
nothing up for itself.

A refusal names its rule by name only (``domain.rules``, ``domain.authorization``); the
clauses it cites are the authority's pack's ``[citations]`` for that name, added here,
where the authority is known (issue 19 item 3): never another council's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from domain.errors import DomainError
from domain.governance import UNBOUND, AuthorityRules
from domain.policy.citations import NAME

if TYPE_CHECKING:
    from application.app import OversightApplication
    from domain.authority import Authority
    from domain.policy.packs import PackLibrary

E = TypeVar("E", bound=DomainError)


class _Authorities(Protocol):
    """Where an authority and the packs it may adopt are read (the application)."""

    def get_authority(self, authority_code: str) -> Authority: ...

    @property
    def policy_packs(self) -> PackLibrary: ...


def rules_of(app: OversightApplication, authority_code: str) -> AuthorityRules:
    """The chains, roles, write rules and citations of the pack ``authority_code`` has
    adopted."""
    pack_id = app.get_authority(authority_code).policy_pack
    return app.policy_packs.get(pack_id).authority


def cite_refusal(app: _Authorities, authority_code: str, error: E) -> E:
    """``error`` citing the clauses the authority's pack gives its rule's name, where it
    names the rule alone; one that already cites (a write rule's or a chain's own clause)
    or names no rule is left as it is. An authority not there yet (or its pack not
    loaded) cites nothing beyond the name."""
    name = error.rule
    if not name or not NAME.match(name):
        return error
    try:
        pack_id = app.get_authority(authority_code).policy_pack
        rules = app.policy_packs.get(pack_id).authority
    except DomainError:
        rules = UNBOUND
    error.rule = rules.cited(name)
    return error


__all__ = ["cite_refusal", "rules_of"]
