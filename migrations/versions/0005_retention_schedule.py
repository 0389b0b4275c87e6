"""The compliance projection gains the purge schedule (``retention_schedule``, ADR 0012).

Its derived rows come from the facts it already stores, but a generation made by 0004
has no such table: this replaces every compliance generation with a new one at position
0, which the live runner fills from the whole event log (as 0004 did). Readers see the
new, empty generation until it catches up: run ``oversight projections rebuild
compliance`` before the upgrade instead if that gap matters.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect, text

from domain.policy.packs import PackLibrary
from projections.compliance import Compliance
from projections.engine import (
    activate_generation,
    create_generation,
    drop_generation,
    generation_table_name,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PROJECTION = Compliance(library=PackLibrary({}))  # only its tables are needed here


def _generations() -> list[int]:
    rows = op.get_bind().execute(
        text("SELECT generation FROM projection_state WHERE name = :name"),
        {"name": PROJECTION.name},
    )
    return [int(g) for g in rows.scalars()]


def _drop_views() -> None:
    for view in PROJECTION.table_names:
        op.get_bind().execute(text(f'DROP VIEW IF EXISTS "{view}"'))


def upgrade() -> None:
    bind = op.get_bind()
    generations = _generations()
    existing = set(inspect(bind).get_table_names())
    if all(generation_table_name("retention_schedule", g) in existing for g in generations):
        return  # made by 0004 from the current definition (a new database)
    _drop_views()
    for generation in generations:
        drop_generation(bind, PROJECTION, generation)

    new = max(generations, default=0) + 1
    create_generation(bind, PROJECTION, new)
    activate_generation(bind, PROJECTION, new)


def downgrade() -> None:
    # The 0004 tables are these less one; the generation stays, its extra table unused.
    bind = op.get_bind()
    bind.execute(text('DROP VIEW IF EXISTS "retention_schedule"'))
