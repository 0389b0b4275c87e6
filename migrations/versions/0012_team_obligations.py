"""Compliance: team obligations [DEV-7, POR-3.3] (``team_obligation``, ADR 0024).

A team's obligations read all its members' facts, so the compliance projection keeps them
per authority in three tables of its own: ``team_obligation`` (each team's windows),
``team_settled`` (under which pack and to which horizon) and ``team_dirty`` (authorities
whose workers changed since). Every existing generation gets them, with every authority
that has workers marked, so the runner's next settle computes its teams from the facts it
already stores: no rebuild. Until then a question is answered from the facts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData, text

from domain.policy.packs import PackLibrary
from projections.compliance import Compliance
from projections.engine import generation_table_name

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PROJECTION = Compliance(library=PackLibrary({}))  # only its tables are needed here
TEAM_TABLES = ("team_obligation", "team_settled", "team_dirty")


def _generations() -> list[tuple[int, bool]]:
    rows = op.get_bind().execute(
        text("SELECT generation, active FROM projection_state WHERE name = :name"),
        {"name": PROJECTION.name},
    )
    return [(int(g), bool(a)) for g, a in rows]


def upgrade() -> None:
    bind = op.get_bind()
    for generation, active in _generations():
        tables = PROJECTION.define_tables(MetaData(), generation)
        for name in TEAM_TABLES:
            tables[name].create(bind, checkfirst=True)
        subject = generation_table_name("compliance_subject", generation)
        dirty = generation_table_name("team_dirty", generation)
        bind.execute(
            text(
                f'INSERT INTO "{dirty}" (authority_code) SELECT DISTINCT authority_code '
                f"FROM \"{subject}\" WHERE subject_kind = 'worker' AND authority_code NOT IN "
                f'(SELECT authority_code FROM "{dirty}")'
            )
        )
        if active:
            for name in TEAM_TABLES:
                bind.execute(text(f'DROP VIEW IF EXISTS "{name}"'))
                bind.execute(
                    text(
                        f'CREATE VIEW "{name}" AS SELECT * FROM '
                        f'"{generation_table_name(name, generation)}"'
                    )
                )


def downgrade() -> None:
    bind = op.get_bind()
    for name in TEAM_TABLES:
        bind.execute(text(f'DROP VIEW IF EXISTS "{name}"'))
    for generation, _ in _generations():
        for name in TEAM_TABLES:
            bind.execute(text(f'DROP TABLE IF EXISTS "{generation_table_name(name, generation)}"'))
