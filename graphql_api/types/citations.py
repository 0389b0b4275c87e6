"""A rule ID as a citation: the clause, whose it is, its words and where they come from
(ADR 0028).

A citation is read from the pack the subject's authority has adopted, and from the packs
it ``extends`` (SWRB, the national standard every pack builds on): never from another
council's pack, so a rule of one authority cites only that authority's clauses
(ADR 0022). A name the pack does not account for (a named rule or access decision cited
by its name alone, or a label such as ``ADMIN``) is a citation with its id alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import strawberry

from domain.policy.packs import Pack, PackLibrary
from graphql_api.context import Info
from graphql_api.errors import run_in_thread
from projections.compliance.context import authority_context
from projections.compliance.tables import VIEWS


@strawberry.type(
    description="A rule cited, as its authority's policy pack declares it: the clause's "
    "id, whose policy it is, its words and the source document they are taken from "
    "(docs/policy-packs.md)."
)
class RuleCitation:
    id: str = strawberry.field(
        description="The clause's rule ID as the policy numbers it (e.g. DUR-4.7a), or the "
        "name of the rule or access decision where the pack cites no clause for it."
    )
    pack: str | None = strawberry.field(
        description="The id of the policy pack that declares the clause (the authority's "
        "own, or SWRB, the national standard it extends); null when no pack declares it."
    )
    authority: str | None = strawberry.field(
        description="Whose policy the clause is: the declaring pack's name (e.g. Durham "
        "County Council); null when no pack declares it."
    )
    clause: str | None = strawberry.field(
        description="The clause in words, as the pack gives it (a rule's title, or what "
        "the source says); null when the pack records no words for it."
    )
    source: str | None = strawberry.field(
        description="The source document the pack's clauses are taken from (the "
        "council's published policy), as the pack names it."
    )


@dataclass(frozen=True)
class _Clause:
    pack: str
    authority: str
    words: str | None
    source: str | None


def _own_clauses(pack: Pack) -> dict[str, _Clause]:
    """The clauses ``pack`` itself declares, with their words (first declaration wins)."""
    found: dict[str, _Clause] = {}

    def add(rule_id: str, words: str | None, source: str | None = None) -> None:
        if rule_id not in found:
            found[rule_id] = _Clause(pack.pack_id, pack.name, words or None, source or pack.source)

    for rule in pack.rules:
        add(rule.rule_id, rule.title)
    for team_rule in pack.team_rules:
        add(team_rule.rule_id, team_rule.title)
    for retention in pack.retention:
        add(retention.rule_id, retention.title)
    for tool in pack.quality.tools.values():
        add(tool.rule_id, tool.title)
    for quota in pack.quality.quotas:
        add(quota.rule_id, quota.title)
    for uncomputed in pack.uncomputed:
        add(uncomputed.rule_id, uncomputed.says, uncomputed.source)
    for clause in sorted(pack.quality.clauses | pack.authority.clauses):
        add(clause, None)
    return found


#: Indexes by library (held, so its id is not reused) and pack: packs do not change
#: once loaded.
_INDEXES: dict[tuple[int, str], tuple[PackLibrary, Mapping[str, _Clause]]] = {}


def _index(library: PackLibrary, pack_id: str) -> Mapping[str, _Clause]:
    """Every clause the pack accounts for, its own first, then its parents'."""
    key = (id(library), pack_id)
    if key not in _INDEXES:
        _INDEXES[key] = (library, _built(library, pack_id))
    return _INDEXES[key][1]


def _built(library: PackLibrary, pack_id: str) -> Mapping[str, _Clause]:
    pack = library.packs.get(pack_id)
    if pack is None:
        return {}
    parent = _index(library, pack.extends) if pack.extends else {}
    own = _own_clauses(pack)
    cited = {c for clauses in pack.authority.citations.values() for c in clauses}
    for clause in sorted(cited):
        if clause not in own and clause not in parent:
            own[clause] = _Clause(pack.pack_id, pack.name, None, pack.source)
    return {**parent, **own}


def citation(library: PackLibrary, pack_id: str | None, rule_id: str) -> RuleCitation:
    """``rule_id`` as the pack ``pack_id`` (with what it extends) declares it."""
    found = _index(library, pack_id).get(rule_id) if pack_id else None
    if found is None:
        return RuleCitation(id=rule_id, pack=None, authority=None, clause=None, source=None)
    return RuleCitation(
        id=rule_id,
        pack=found.pack,
        authority=found.authority,
        clause=found.words,
        source=found.source,
    )


def citations(
    library: PackLibrary, pack_id: str | None, rule_ids: str | Iterable[str] | None
) -> list[RuleCitation]:
    """Each of ``rule_ids`` (a space-separated list, as stored, or a sequence) cited."""
    if rule_ids is None:
        return []
    ids = rule_ids.split() if isinstance(rule_ids, str) else list(rule_ids)
    return [citation(library, pack_id, rule_id) for rule_id in ids]


async def adopted_pack(info: Info) -> str | None:
    """The pack the caller's authority (every subject's they may read) has adopted, read
    once per request."""
    cache: dict[str, str | None] = info.context.__dict__.setdefault("_adopted_packs", {})
    code = info.context.who().authority_code
    if code not in cache:
        service = info.context.service

        def read() -> str | None:
            with service.engine.connect() as conn:
                pack = authority_context(conn, VIEWS, code, service.library).pack
            return pack.pack_id if pack is not None else None

        cache[code] = await run_in_thread(read)
    return cache[code]


async def cite(info: Info, rule_id: str | None) -> RuleCitation | None:
    """``rule_id`` cited from the caller's authority's pack (None: no rule)."""
    if rule_id is None:
        return None
    return citation(info.context.service.library, await adopted_pack(info), rule_id)


__all__ = ["RuleCitation", "adopted_pack", "citation", "citations", "cite"]
