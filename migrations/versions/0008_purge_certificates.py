"""Purge certificates (issue 20, ADR 0018): one row per destroyed record, no personal data.

The same certificates are appended to the ledger outside the database
(``OVERSIGHT_PURGE_LEDGER``); this table is what the API and the CLI query.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purge_certificates",
        sa.Column("certificate_id", sa.String(36), primary_key=True),
        sa.Column("authority_code", sa.String(100), nullable=False),
        sa.Column("subject_kind", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("local_id", sa.String(200), nullable=False),
        sa.Column("record_class", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(50), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("legal_hold_check", sa.String(200), nullable=False),
        sa.Column("events_rewritten", sa.Integer, nullable=False),
        sa.Column("read_model_rows_redacted", sa.Integer, nullable=False),
        sa.Column("ran_by", sa.String(200), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "purge_certificates_issued",
        "purge_certificates",
        ["authority_code", "purged_at", "certificate_id"],
    )


def downgrade() -> None:
    op.drop_index("purge_certificates_issued", table_name="purge_certificates")
    op.drop_table("purge_certificates")
