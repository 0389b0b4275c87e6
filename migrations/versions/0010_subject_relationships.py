"""The relationship table (issue 20 item 2, ADR 0020 addendum): part of the write model.

Creates ``subject_relationship`` (each worker's and child's team, line manager, allocated
worker, the supervisors their agreements name, whether their own record was purged, and
the version it reflects), which the recorders keep in the same transaction as the events
that change it, and fills it from the events already stored, through the one derivation
(``application.relationships``), so a store written before reads its relationships
after the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from eventsourcing.persistence import StoredEvent

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "subject_relationship"


def _stored(sqlite: bool) -> Iterator[StoredEvent]:
    """The stored events that may change a relationship, in log order, a page at a time."""
    from application.relationships import may_change

    dbapi: Any = op.get_bind().connection.dbapi_connection
    table, pos, p = (
        ("stored_events", "rowid", "?") if sqlite else ("oversight_events", "notification_id", "%s")
    )
    after = 0
    cursor = dbapi.cursor()
    try:
        while True:
            cursor.execute(
                f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE {pos} > {p} ORDER BY {pos} LIMIT 5000",
                (after,),
            )
            page = cursor.fetchall()
            if not page:
                return
            for _, originator, version, topic, state in page:
                if may_change(str(topic)):
                    yield StoredEvent(
                        originator_id=(
                            originator if isinstance(originator, UUID) else UUID(str(originator))
                        ),
                        originator_version=int(version),
                        topic=str(topic),
                        state=bytes(state),
                    )
            after = int(page[-1][0])
    finally:
        cursor.close()


def backfill(sqlite: bool) -> int:
    """Fill the table from the log; the number of rows written."""
    from application.app import OversightApplication
    from application.relationships import rebuilt, subject_relationship

    # The application's own mapper (its transcoder and upcasters), on no store.
    decoder = OversightApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        rows = rebuilt(decoder.mapper.to_domain_event(s) for s in _stored(sqlite))
    finally:
        decoder.close()
    columns = [c.name for c in subject_relationship.columns]
    values = [dict(zip(columns, row.values(), strict=True)) for row in rows.values()]
    if values:
        op.bulk_insert(sa.table(TABLE, *(sa.column(c) for c in columns)), values)
    return len(values)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        TABLE,
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("authority_code", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("line_manager_id", sa.String(64), nullable=True),
        sa.Column("allocated_worker_id", sa.String(64), nullable=True),
        sa.Column("supervisors", sa.Text, nullable=False),
        sa.Column("purged", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        f"{TABLE}_local", TABLE, ["authority_code", "subject_kind", "local_id"], unique=True
    )
    # The line-management chain is walked up by (authority, kind, staff id): the index
    # above; who reports to whom is never asked here.
    backfill(sqlite)


def downgrade() -> None:
    op.drop_index(f"{TABLE}_local", table_name=TABLE)
    op.drop_table(TABLE)
