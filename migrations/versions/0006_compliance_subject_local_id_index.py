"""Compliance: index each subject by its local id.

Every API request authorises its read from the subject's row and its line managers'
(``graphql_api/service.py``), looked up by (authority, kind, local id); the only index
was on (authority, kind), so each lookup scanned the authority's children: 2.4 ms with
19,000 of them (issue 7, benchmark 4). Every existing generation gets the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Index, MetaData, text

from domain.policy.packs import PackLibrary
from projections.compliance import Compliance

revision = "0006"
down_revision = "0005"
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
    table = PROJECTION.define_tables(MetaData(), generation)["compliance_subject"]
    return next(i for i in table.indexes if i.name == f"{table.name}_local_id")


def upgrade() -> None:
    for generation in _generations():
        _index(generation).create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for generation in _generations():
        _index(generation).drop(op.get_bind(), checkfirst=True)
