"""What an authority's subjects are held to: its pack and working calendar, from its facts."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Table

from domain.events import AuthorityRegistered, ClosureDayAdded, PolicyPackAdopted
from domain.identifiers import authority_id
from domain.policy.calendar import WorkingCalendar
from domain.policy.packs import Pack, PackLibrary
from domain.policy.timeline import Fact
from projections.compliance.facts import facts_of

log = logging.getLogger(__name__)

#: An authority's facts: settling one hands its mark on to the authority's subjects.
AUTHORITY_EVENTS = frozenset({AuthorityRegistered, PolicyPackAdopted, ClosureDayAdded})
#: The events that name the pack an authority's subjects are held to.
_PACK_EVENTS = (AuthorityRegistered, PolicyPackAdopted)


@dataclass(frozen=True)
class AuthorityContext:
    """What an authority's subjects are held to: its pack and its working calendar."""

    authority_code: str
    pack_id: str | None
    pack: Pack | None
    calendar: WorkingCalendar
    through: int = 0  # the position of the last authority fact read


def context_from(code: str, facts: Sequence[Fact], library: PackLibrary) -> AuthorityContext:
    """The context an authority's facts (in any order) give, its pack from ``library``."""
    pack_id: str | None = None
    closures: set[date] = set()
    for fact in sorted(facts, key=lambda f: f.position):
        if fact.kind in _PACK_EVENTS:
            pack_id = str(fact.data["policy_pack"])
        elif fact.kind is ClosureDayAdded:
            closures.add(date.fromisoformat(str(fact.data["day"])[:10]))
    pack = library.packs.get(pack_id) if pack_id else None
    if pack_id and pack is None:
        log.warning("authority %s uses pack %s, which is not loaded", code, pack_id)
    through = max((f.position for f in facts), default=0)
    return AuthorityContext(code, pack_id, pack, WorkingCalendar(frozenset(closures)), through)


def authority_context(
    conn: Connection,
    tables: Mapping[str, Table],
    code: str,
    library: PackLibrary,
    known_at: datetime | None = None,
) -> AuthorityContext:
    """An authority's context from its stored facts (those recorded by ``known_at``)."""
    facts = facts_of(conn, tables, [str(authority_id(code))]).get(str(authority_id(code)), [])
    if known_at is not None:
        facts = [f for f in facts if f.recorded_at <= known_at]
    return context_from(code, facts, library)


def is_authority(facts: Sequence[Fact]) -> bool:
    """Whether these are an authority's facts (its first is one only an authority has)."""
    return bool(facts) and facts[0].kind in AUTHORITY_EVENTS


def digest_of(library: PackLibrary, pack_id: str) -> str | None:
    """The loaded pack's digest (None: not loaded), to spot rows made under another."""
    pack = library.packs.get(pack_id)
    return pack.digest if pack is not None else None
