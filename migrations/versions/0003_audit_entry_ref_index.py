"""Audit trail: index each subject's entries by their own ref.

An entry's own ref now lives only on its trail row (``entry_ref``); ``audit_refs`` keeps
the entries it points at (ADR 0006: a third fewer rows to write in a rebuild). Links
are found through both, so every existing generation gets the index the lookup needs.
Rows written before this change keep their extra ``audit_refs`` rows, which the lookup
reads as the same links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Index, MetaData, text

from projections.audit_trail import AuditTrail

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _generations() -> list[int]:
    return [
        int(g)
        for g in op.get_bind()
        .execute(
            text("SELECT generation FROM projection_state WHERE name = :name"),
            {"name": AuditTrail.name},
        )
        .scalars()
    ]


def _index(generation: int) -> Index:
    table = AuditTrail().define_tables(MetaData(), generation)["audit_trail"]
    return next(i for i in table.indexes if i.name == f"{table.name}_subject_ref")


def upgrade() -> None:
    for generation in _generations():
        _index(generation).create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for generation in _generations():
        _index(generation).drop(op.get_bind(), checkfirst=True)
