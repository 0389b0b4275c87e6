"""The subject's authority's own rules, handed to the aggregate that decides (ADR 0022).

An aggregate method that a pack's chain, roles or write rules bind takes them as an
argument: the use case reads the authority (inside the command, so the read is checked
at the write) and its adopted pack, and passes ``AuthorityRules``: the domain looks
nothing up for itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.governance import AuthorityRules

if TYPE_CHECKING:
    from application.app import OversightApplication


def rules_of(app: OversightApplication, authority_code: str) -> AuthorityRules:
    """The chains, roles and write rules of the pack ``authority_code`` has adopted."""
    pack_id = app.get_authority(authority_code).policy_pack
    return app.policy_packs.get(pack_id).authority


__all__ = ["rules_of"]
