"""A tamper-evident event log (issue 20, ADR 0019): hash chains and signed checkpoints.

Adds to every stored event its ``salt``, ``commitment``, ``chain_hash`` and, for a
purge's tombstones, ``purged_by`` (see ``oversight/integrity.py``), and chains the events
already stored, per aggregate in log order, so a store written before verifies after
the upgrade (an event purged before it is chained as its tombstone: there is nothing
else left to commit to). Creates ``log_checkpoints`` (signed checkpoints) and
``log_coverage`` (which checkpoint covers each aggregate's history, with its Merkle
audit path). On PostgreSQL, ``oversight_record_command`` now also takes each event's
salt and commitment and chains the event itself, in the same one statement.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib
from typing import Any
from uuid import UUID

from alembic import op

from oversight.integrity import GENESIS, commitment, link, new_salt

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = [
    "CREATE TABLE log_checkpoints ("
    "number {int} PRIMARY KEY, position {bigint} NOT NULL, "
    "previous_position {bigint} NOT NULL, leaf_count {bigint} NOT NULL, "
    "root {blob} NOT NULL, previous_hash {blob} NOT NULL, created_at {text} NOT NULL, "
    "key_id {text} NOT NULL, signature {blob} NOT NULL)",
    "CREATE TABLE log_coverage ("
    "originator_id {uuid} PRIMARY KEY, checkpoint_number {int} NOT NULL, "
    "originator_version {bigint} NOT NULL, position {bigint} NOT NULL, "
    "leaf_index {bigint} NOT NULL, proof {blob} NOT NULL)",
]
SQLITE_TYPES = {
    "int": "INTEGER",
    "bigint": "INTEGER",
    "blob": "BLOB",
    "text": "TEXT",
    "uuid": "TEXT",
}
POSTGRES_TYPES = {
    "int": "integer",
    "bigint": "bigint",
    "blob": "bytea",
    "text": "text",
    "uuid": "uuid",
}

FUNCTION_SIGNATURE = (
    "text, text, text, text, uuid, bigint, text, uuid[], bigint[], text[], bytea[], "
    "uuid[], bigint[], text"
)
CHAINED_SIGNATURE = (
    "text, text, text, text, uuid, bigint, text, uuid[], bigint[], text[], bytea[], "
    "bytea[], bytea[], uuid[], bigint[], text"
)

FUNCTION = """
CREATE OR REPLACE FUNCTION oversight_record_command(
    p_authority_code text, p_command_id text, p_command_name text, p_fingerprint text,
    p_last_originator_id uuid, p_last_originator_version bigint, p_aggregate_ids text,
    p_originator_ids uuid[], p_originator_versions bigint[], p_topics text[],
    p_states bytea[], p_salts bytea[], p_commitments bytea[],
    p_read_ids uuid[], p_read_versions bigint[], p_lock_timeout text
) RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $body$
DECLARE
    i integer;
    v_previous bytea;
    v_position bigint;
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
    -- Each event chained on its aggregate's previous one (ADR 0019), at the position
    -- it takes, under the insert lock.
    FOR i IN 1 .. coalesce(array_length(p_originator_ids, 1), 0) LOOP
        SELECT e.chain_hash INTO v_previous FROM oversight_events AS e
        WHERE e.originator_id = p_originator_ids[i]
            AND e.originator_version < p_originator_versions[i]
        ORDER BY e.originator_version DESC LIMIT 1;
        IF NOT FOUND THEN
            v_previous := decode(repeat('00', 32), 'hex');
        END IF;
        v_position := nextval('oversight_events_notification_id_seq');
        INSERT INTO oversight_events (
            originator_id, originator_version, topic, state, notification_id,
            salt, commitment, chain_hash
        ) VALUES (
            p_originator_ids[i], p_originator_versions[i], p_topics[i], p_states[i],
            v_position, p_salts[i], p_commitments[i],
            sha256(v_previous || uuid_send(p_originator_ids[i])
                || int8send(p_originator_versions[i]) || int8send(v_position)
                || p_commitments[i])
        );
        RETURN NEXT v_position;
    END LOOP;
END;
$body$
"""


def _chain_existing(sqlite: bool) -> None:
    """Chain the events already stored, in log order (per aggregate, that is version
    order), a page at a time."""
    dbapi: Any = op.get_bind().connection.dbapi_connection
    table, pos, p = (
        ("stored_events", "rowid", "?") if sqlite else ("oversight_events", "notification_id", "%s")
    )
    heads: dict[UUID, bytes] = {}
    after = 0
    cursor = dbapi.cursor()
    while True:
        cursor.execute(
            f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
            f"WHERE {pos} > {p} ORDER BY {pos} LIMIT 5000",
            (after,),
        )
        page = cursor.fetchall()
        if not page:
            break
        updates = []
        for position, originator, version, topic, state in page:
            originator_id = originator if isinstance(originator, UUID) else UUID(str(originator))
            salt = new_salt()
            committed = commitment(salt, topic, bytes(state))
            chained = link(
                heads.get(originator_id, GENESIS),
                originator_id,
                int(version),
                int(position),
                committed,
            )
            heads[originator_id] = chained
            updates.append((salt, committed, chained, int(position)))
        if sqlite:
            cursor.executemany(
                f"UPDATE {table} SET salt = ?, commitment = ?, chain_hash = ? WHERE rowid = ?",
                updates,
            )
        else:
            cursor.execute(
                f"UPDATE {table} AS e SET salt = u.salt, commitment = u.commitment, "
                "chain_hash = u.chain_hash FROM unnest(%s::bytea[], %s::bytea[], %s::bytea[], "
                "%s::bigint[]) AS u (salt, commitment, chain_hash, position) "
                "WHERE e.notification_id = u.position",
                tuple(list(column) for column in zip(*updates, strict=True)),
            )
        after = int(page[-1][0])
    cursor.close()


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    types = SQLITE_TYPES if sqlite else POSTGRES_TYPES
    table = "stored_events" if sqlite else "oversight_events"
    for column, kind in (
        ("salt", "blob"),
        ("commitment", "blob"),
        ("chain_hash", "blob"),
        ("purged_by", "bigint"),
    ):
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {types[kind]}")
    # A purge's tombstones, found from the event that recorded it (few rows: partial).
    op.execute(
        f"CREATE INDEX {table}_purged_by_idx ON {table} (purged_by) WHERE purged_by IS NOT NULL"
    )
    for statement in TABLES:
        op.execute(statement.format(**types))
    _chain_existing(sqlite)
    if not sqlite:
        op.execute(f"DROP FUNCTION oversight_record_command({FUNCTION_SIGNATURE})")
        op.execute(FUNCTION)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    table = "stored_events" if sqlite else "oversight_events"
    if not sqlite:
        op.execute(f"DROP FUNCTION oversight_record_command({CHAINED_SIGNATURE})")
        earlier = importlib.import_module("migrations.versions.0007_record_command_function")
        op.execute(earlier.FUNCTION)
    op.execute(f"DROP INDEX {table}_purged_by_idx")
    op.execute("DROP TABLE log_coverage")
    op.execute("DROP TABLE log_checkpoints")
    for column in ("purged_by", "chain_hash", "commitment", "salt"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
