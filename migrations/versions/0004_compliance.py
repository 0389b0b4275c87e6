"""Generation 1 of the compliance projection (facts, obligations, registers, allocations).

It starts at position 0: the live runner fills it from the whole event log, with no
rebuild needed (ADR 0010).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from domain.policy.packs import PackLibrary
from projections.compliance import Compliance
from projections.engine import drop_generation, install

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PROJECTION = Compliance(library=PackLibrary({}))  # only its tables are needed here


def upgrade() -> None:
    install(op.get_bind(), PROJECTION)


def downgrade() -> None:
    bind = op.get_bind()
    for view in PROJECTION.table_names:
        bind.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
    generations = bind.execute(
        text("SELECT generation FROM projection_state WHERE name = :name"),
        {"name": PROJECTION.name},
    ).scalars()
    for generation in list(generations):
        drop_generation(bind, PROJECTION, int(generation))
