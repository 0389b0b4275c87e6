"""One subject's findings on a day: from its stored obligations when settled, else
computed from its stored facts (a known-at question, a subject not yet settled, or a
day past the horizon its obligations were computed to)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import Connection, Engine, select

from domain.policy.compliance import Finding, Obligation, findings, known_facts, obligations
from domain.policy.packs import PackLibrary
from domain.policy.registers import Profile, profile
from domain.policy.timeline import LONDON, Fact
from projections.compliance.context import AuthorityContext, authority_context
from projections.compliance.derive import horizon_for
from projections.compliance.facts import related_of, subject_facts, supervisors_facts
from projections.compliance.obligations import stored_obligations
from projections.compliance.tables import VIEWS, stored_day, view


def end_of_day(day: date) -> datetime:
    """The last instant of a local day in England, for known-at and as-of bounds."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class SubjectCompliance:
    """A subject's findings on ``as_of`` (as known at ``known_at``), for the API and CLI."""

    subject_id: str
    profile: Profile
    pack_id: str | None
    as_of: date
    known_at: datetime | None
    #: Where the answer came from: "stored" obligations, or "computed" from the facts.
    source: str
    findings: list[Finding]


def is_settled(conn: Connection, subject_id: str, as_of: date) -> bool:
    """Whether the stored obligations answer for ``as_of``: settled, not marked dirty,
    and within the horizon they were computed to."""
    subject = view("compliance_subject")
    dirty = view("compliance_dirty")
    row = conn.execute(
        select(subject.c.valid_until).where(subject.c.subject_id == subject_id)
    ).one_or_none()
    if row is None or stored_day(row[0]) < as_of:
        return False
    marked = conn.execute(
        select(dirty.c.position).where(dirty.c.subject_id == subject_id).limit(1)
    ).first()
    return marked is None


@dataclass(frozen=True)
class Answer:
    """A subject's obligations, from the store of obligations or from its facts."""

    subject_id: str
    profile: Profile
    context: AuthorityContext
    obligations: list[Obligation]
    source: str  # "stored" | "computed"
    #: The subject's facts the answer rests on, corrections applied, valid-time order.
    facts: list[Fact] = field(default_factory=list)


def answer(
    conn: Connection,
    library: PackLibrary,
    subject_id: str,
    *,
    as_of: date,
    known_at: datetime | None = None,
) -> Answer | None:
    """A subject's obligations for ``as_of`` (None: no such subject, as known then)."""
    facts = subject_facts(conn, subject_id, known_at)
    current = known_facts(facts)
    who = profile(current)
    if who is None:
        return None
    context = authority_context(conn, VIEWS, who.authority_code, library, known_at)
    if known_at is None and is_settled(conn, subject_id, as_of):
        stored = stored_obligations(conn, subject_id)
        return Answer(subject_id, who, context, stored, "stored", current)
    horizon = max(horizon_for(facts), as_of)
    related = related_of(supervisors_facts(conn, VIEWS, [who], known_at), who)
    others = {k: known_facts(v) for k, v in related.items()}
    found = (
        obligations(current, context.pack, context.calendar, horizon, others)
        if context.pack is not None
        else []
    )
    return Answer(subject_id, who, context, found, "computed", current)


def evaluate(
    engine: Engine,
    library: PackLibrary,
    subject_id: str,
    *,
    as_of: date,
    known_at: datetime | None = None,
) -> SubjectCompliance | None:
    """A worker's or child's findings on ``as_of``, as known at ``known_at`` (now, if
    None). None if no such subject was recorded (by then)."""
    with engine.connect() as conn:
        found = answer(conn, library, subject_id, as_of=as_of, known_at=known_at)
    if found is None:
        return None
    pack = found.context.pack
    return SubjectCompliance(
        subject_id=subject_id,
        profile=found.profile,
        pack_id=found.context.pack_id,
        as_of=as_of,
        known_at=known_at,
        source=found.source,
        findings=findings(found.obligations, as_of, pack.due_soon) if pack is not None else [],
    )
