"""Projection bookkeeping, and generation 1 of the audit trail and subject history.

Read-model tables are disposable: they are rebuilt from the event log. Their definitions
live with their projection module (ADR 0006); this migration installs generation 1 of
each behind its stable views. A later change to a projection's tables is a migration that
installs the new generation and leaves it to ``oversight projections rebuild``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from projections.audit_trail import AuditTrail
from projections.engine import drop_generation, install, metadata, projection_state
from projections.history import SubjectHistory

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PROJECTIONS = (AuditTrail(), SubjectHistory())


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[projection_state])
    for projection in PROJECTIONS:
        install(bind, projection)


def downgrade() -> None:
    bind = op.get_bind()
    for projection in PROJECTIONS:
        for view in projection.table_names:
            bind.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
        generations = (
            bind.execute(
                text("SELECT generation FROM projection_state WHERE name = :name"),
                {"name": projection.name},
            )
            .scalars()
            .all()
        )
        for generation in generations:
            drop_generation(bind, projection, generation)
    projection_state.drop(bind)
