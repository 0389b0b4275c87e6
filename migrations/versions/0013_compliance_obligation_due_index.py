"""Compliance: index each obligation by its authority and due day.

The compliance summary counts the obligations of one authority that fell due in a
period (the year to a day, by default). Without an index it scanned every obligation of
every year: 477,000 rows, 120 MB, to count 87,000 at the medium authority, read past
PostgreSQL's cache on each request (a sequential scan of a large table uses a small ring
of buffers), so the summary's p95 grew 4 x for 2 x the subjects (issue 18). The index
carries the columns the count reads (PostgreSQL's INCLUDE), so the count reads the
period's entries of the index alone. Every existing generation gets it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Index, MetaData, text

from domain.policy.packs import PackLibrary
from projections.compliance import Compliance

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PROJECTION = Compliance(library=PackLibrary({}))  # only its tables are needed here


def _generations() -> list[int]:
    rows = op.get_bind().execute(
        text("SELECT generation FROM projection_state WHERE name = :name"),
        {"name": PROJECTION.name},
    )
    return [int(g) for g in rows.scalars()]


def _index(generation: int) -> Index:
    table = PROJECTION.define_tables(MetaData(), generation)["compliance_obligation"]
    return next(i for i in table.indexes if i.name == f"{table.name}_due")


def upgrade() -> None:
    for generation in _generations():
        _index(generation).create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for generation in _generations():
        _index(generation).drop(op.get_bind(), checkfirst=True)
