"""The projections this service runs, by name."""

from __future__ import annotations

from projections.audit_trail import AuditTrail
from projections.compliance import Compliance
from projections.engine import Projection
from projections.history import SubjectHistory


def all_projections() -> list[Projection]:
    return [AuditTrail(), SubjectHistory(), Compliance()]


def by_name(name: str) -> Projection:
    for projection in all_projections():
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in all_projections())
    raise KeyError(f"no projection {name!r}; known: {known}")
