"""The relationship table (issue 20 item 2, ADR 0020 addendum): part of the write model.

Creates ``subject_relationship`` (each worker's and child's team, line manager, allocated
worker, the supervisors their agreements name, whether their own record was purged, and
the version it reflects), which the recorders keep in the same transaction as the events
that change it, and fills it from the events already stored, through the one derivation
(``application.relationships``), so a store written before reads its relationships
after the upgrade. On PostgreSQL, ``oversight_record_command_relationships`` records a
command that changes a relationship, with its rows, in one statement.

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

#: ``oversight_record_command``'s parameters (migration 0009), then the rows.
SIGNATURE = (
    "text, text, text, text, uuid, bigint, text, uuid[], bigint[], text[], bytea[], "
    "bytea[], bytea[], uuid[], bigint[], text, "
    "text[], integer[], text[], text[], text[], text[], text[], text[], text[], boolean[], "
    "integer[]"
)

#: PostgreSQL: a command that changes a relationship, still in one statement. The command
#: is recorded as ``oversight_record_command`` records it (the insert lock taken, the
#: events chained); then, under that lock, each row it changes must still be at the
#: version it was read at (else ``serialization_failure``: the command is decided again),
#: and the rows are written. The rows are folded by the caller from the rows it read and
#: the command's events (``application.relationships``, the one derivation).
FUNCTION = """
CREATE OR REPLACE FUNCTION oversight_record_command_relationships(
    p_authority_code text, p_command_id text, p_command_name text, p_fingerprint text,
    p_last_originator_id uuid, p_last_originator_version bigint, p_aggregate_ids text,
    p_originator_ids uuid[], p_originator_versions bigint[], p_topics text[],
    p_states bytea[], p_salts bytea[], p_commitments bytea[],
    p_read_ids uuid[], p_read_versions bigint[], p_lock_timeout text,
    p_subject_ids text[], p_read_at integer[], p_authority_codes text[], p_kinds text[],
    p_local_ids text[], p_teams text[], p_line_managers text[], p_allocated text[],
    p_supervisors text[], p_purged boolean[], p_versions integer[]
) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $body$
BEGIN
    RETURN QUERY SELECT oversight_record_command(
        p_authority_code, p_command_id, p_command_name, p_fingerprint,
        p_last_originator_id, p_last_originator_version, p_aggregate_ids,
        p_originator_ids, p_originator_versions, p_topics, p_states, p_salts,
        p_commitments, p_read_ids, p_read_versions, p_lock_timeout
    );
    IF EXISTS (
        SELECT 1 FROM unnest(p_subject_ids, p_read_at) AS r (subject_id, read_at)
        LEFT JOIN subject_relationship AS s ON s.subject_id = r.subject_id
        WHERE s.version IS DISTINCT FROM r.read_at
    ) THEN
        RAISE EXCEPTION 'a relationship this command read has changed since'
            USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO subject_relationship (
        subject_id, authority_code, subject_kind, local_id, team, line_manager_id,
        allocated_worker_id, supervisors, purged, version
    )
    SELECT * FROM unnest(
        p_subject_ids, p_authority_codes, p_kinds, p_local_ids, p_teams, p_line_managers,
        p_allocated, p_supervisors, p_purged, p_versions
    )
    ON CONFLICT (subject_id) DO UPDATE SET
        authority_code = excluded.authority_code, subject_kind = excluded.subject_kind,
        local_id = excluded.local_id, team = excluded.team,
        line_manager_id = excluded.line_manager_id,
        allocated_worker_id = excluded.allocated_worker_id,
        supervisors = excluded.supervisors, purged = excluded.purged,
        version = excluded.version;
END;
$body$
"""


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
    if not sqlite:
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION oversight_record_command_relationships({SIGNATURE})")
    op.drop_index(f"{TABLE}_local", table_name=TABLE)
    op.drop_table(TABLE)
