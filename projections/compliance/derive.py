"""One subject's derived rows, from its facts alone: what ``settle`` stores for it.

Its profile (``compliance_subject``), whose facts its rules read (``compliance_link``),
every obligation its authority's pack creates, its register items, its allocations (a
child's ``case_allocation``) and its purge schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.identifiers import worker_id
from domain.policy.compliance import Obligation, known_facts, obligations
from domain.policy.registers import (
    Allocation,
    Profile,
    RegisterItem,
    allocations,
    profile,
    registers,
)
from domain.policy.retention import ScheduleItem, schedule
from domain.policy.timeline import Fact, local_day
from projections.compliance.context import AuthorityContext
from projections.compliance.obligations import obligation_rows
from projections.compliance.quality import quality_rows
from projections.compliance.registers import register_rows
from projections.compliance.retention import retention_row
from projections.compliance.tables import json_text

#: Obligations are computed this far past a subject's latest fact (ADR 0010).
HORIZON = timedelta(days=730)


@dataclass(frozen=True)
class Derived:
    """Everything ``settle`` stores for one subject."""

    subject_id: str
    profile: Profile
    pack_id: str | None
    pack_digest: str | None
    authority_through: int
    valid_until: date
    through_position: int
    obligations: list[Obligation]
    registers: list[RegisterItem]
    allocations: list[Allocation]
    depends_on: list[str]
    retention: list[ScheduleItem]
    #: Its audits and its row as a file that may be audited (ADR 0023).
    quality: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The subject's rows, by table."""
        p = self.profile
        common = {"authority_code": p.authority_code, "team": p.team}
        return {
            "retention_schedule": [
                retention_row(self.subject_id, p.authority_code, p.subject, p.local_id, p.team, i)
                for i in self.retention
            ],
            "compliance_subject": [
                {
                    "subject_id": self.subject_id,
                    "authority_code": p.authority_code,
                    "subject_kind": p.subject,
                    "local_id": p.local_id,
                    "display": p.display[:200],
                    "team": p.team,
                    "manager_id": p.manager_id,
                    "worker_id": p.worker_id,
                    "supervisors": json_text(list(p.supervisors)),
                    "ended_on": p.ended_on,
                    "pack_id": self.pack_id,
                    "pack_digest": self.pack_digest,
                    "authority_through": self.authority_through,
                    "valid_until": self.valid_until,
                    "through_position": self.through_position,
                }
            ],
            "compliance_obligation": obligation_rows(self.subject_id, common, self.obligations),
            "oversight_register": register_rows(self.subject_id, common, self.registers),
            "compliance_link": [
                {"subject_id": self.subject_id, "depends_on": other} for other in self.depends_on
            ],
            "case_allocation": [
                {
                    "child_id": self.subject_id,
                    "seq": seq,
                    "authority_code": p.authority_code,
                    "worker_id": a.worker_id,
                    "team": a.team,
                    "start_on": a.start,
                    "end_on": a.end,
                }
                for seq, a in enumerate(self.allocations)
            ],
            **self.quality,
        }


def horizon_for(facts: Sequence[Fact]) -> date:
    """How far a subject's obligations are computed: ``HORIZON`` past its latest fact."""
    latest = max(max(local_day(f.occurred_at), local_day(f.recorded_at)) for f in facts)
    return latest + HORIZON


def derive(
    subject_id: str,
    facts: Sequence[Fact],
    context: AuthorityContext,
    horizon: date | None = None,
    related: Mapping[str, Sequence[Fact]] | None = None,
) -> Derived | None:
    """A subject's rows from its facts (in recorded order), corrections applied, and
    the facts of others its rules read (``related``, by staff id)."""
    current = known_facts(facts)
    who = profile(current)
    if who is None:
        return None
    others = {k: known_facts(v) for k, v in (related or {}).items()}
    until = horizon or horizon_for(facts)
    found = (
        obligations(current, context.pack, context.calendar, until, others)
        if context.pack is not None
        else []
    )
    depends_on = (
        sorted(str(worker_id(who.authority_code, s)) for s in who.supervisors)
        if who.subject == "worker"
        else []
    )
    return Derived(
        subject_id=subject_id,
        profile=who,
        pack_id=context.pack_id,
        pack_digest=context.pack.digest if context.pack is not None else None,
        authority_through=context.through,
        valid_until=until,
        through_position=max(f.position for f in facts),
        obligations=found,
        registers=registers(current, found),
        allocations=allocations(current) if who.subject == "child" else [],
        depends_on=[d for d in depends_on if d != subject_id],
        retention=schedule(who.subject, who.local_id, facts, context.pack),
        quality=quality_rows(subject_id, who, current),
    )
