"""The compliance projection gains the quality-assurance tables (``quality_audit``,
``quality_file``, ADR 0023).

As 0005 did: its rows come from the facts it already stores, but an older generation has
no such tables, so every compliance generation is replaced with a new one at position 0,
which the live runner fills from the whole event log. Readers see the new, empty
generation until it catches up: run ``oversight projections rebuild compliance`` before
the upgrade instead if that gap matters.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
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

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PROJECTION = Compliance(library=PackLibrary({}))  # only its tables are needed here
NEW_TABLES = ("quality_audit", "quality_file")


def _generations() -> list[int]:
    rows = op.get_bind().execute(
        text("SELECT generation FROM projection_state WHERE name = :name"),
        {"name": PROJECTION.name},
    )
    return [int(g) for g in rows.scalars()]


def upgrade() -> None:
    bind = op.get_bind()
    generations = _generations()
    existing = set(inspect(bind).get_table_names())
    if all(
        generation_table_name(table, g) in existing for g in generations for table in NEW_TABLES
    ):
        return  # made by 0004 from the current definition (a new database)
    for view in PROJECTION.table_names:
        bind.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
    for generation in generations:
        drop_generation(bind, PROJECTION, generation)
    new = max(generations, default=0) + 1
    create_generation(bind, PROJECTION, new)
    activate_generation(bind, PROJECTION, new)


def downgrade() -> None:
    # The 0009 tables are these less two; the generation stays, its extra tables unused.
    bind = op.get_bind()
    for view in NEW_TABLES:
        bind.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
