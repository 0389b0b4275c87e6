"""PostgreSQL: write a command's receipt and events in one statement.

``oversight_record_command`` does in the database what the library's pipelined insert
does over several round trips: take the events table's insert lock (so positions are
issued in commit order, as the library requires), check that every aggregate the
command read but does not change is still at the version it read (else
``serialization_failure``), notify the channel the projection runners listen on,
insert the command's idempotency receipt (its primary key refuses a retried command id)
and insert the events, returning their positions. Called alone on an autocommit
connection, the statement is its own transaction: one round trip, one commit (issue 7,
benchmark 1; ADR 0016). SQLite needs nothing here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION oversight_record_command(
    p_authority_code text, p_command_id text, p_command_name text, p_fingerprint text,
    p_last_originator_id uuid, p_last_originator_version bigint, p_aggregate_ids text,
    p_originator_ids uuid[], p_originator_versions bigint[], p_topics text[],
    p_states bytea[], p_read_ids uuid[], p_read_versions bigint[], p_lock_timeout text
) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $body$
BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);
    LOCK TABLE oversight_events IN EXCLUSIVE MODE;
    -- What the command read but does not change must be as it read it (ADR 0016).
    IF EXISTS (
        SELECT 1
        FROM unnest(p_read_ids, p_read_versions) AS r (originator_id, originator_version)
        WHERE (
            SELECT max(e.originator_version) FROM oversight_events AS e
            WHERE e.originator_id = r.originator_id
        ) IS DISTINCT FROM r.originator_version
    ) THEN
        RAISE EXCEPTION 'a record this command read has changed since'
            USING ERRCODE = 'serialization_failure';
    END IF;
    NOTIFY oversight_events;
    INSERT INTO command_receipts (
        authority_code, command_id, command_name, fingerprint,
        last_originator_id, last_originator_version, aggregate_ids
    ) VALUES (
        p_authority_code, p_command_id, p_command_name, p_fingerprint,
        p_last_originator_id, p_last_originator_version, p_aggregate_ids
    );
    RETURN QUERY
    INSERT INTO oversight_events (originator_id, originator_version, topic, state)
    SELECT e.originator_id, e.originator_version, e.topic, e.state
    FROM unnest(p_originator_ids, p_originator_versions, p_topics, p_states)
        AS e (originator_id, originator_version, topic, state)
    RETURNING notification_id;
END;
$body$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION oversight_record_command("
            "text, text, text, text, uuid, bigint, text, uuid[], bigint[], text[], bytea[], "
            "uuid[], bigint[], text)"
        )
