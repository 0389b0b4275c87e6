"""Event store and command receipts.

The event tables are exactly those the eventsourcing 9.5 recorders expect (a contract
test compares them with the library's own DDL), written out here so that a library
upgrade can never change a production schema behind a migration's back.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE TABLE stored_events ("
    "originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
    "PRIMARY KEY (originator_id, originator_version))",
    "CREATE TABLE command_receipts ("
    "authority_code TEXT NOT NULL, command_id TEXT NOT NULL, "
    "command_name TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "last_originator_id TEXT, last_originator_version INTEGER, "
    "aggregate_ids TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
    "PRIMARY KEY (authority_code, command_id))",
]

POSTGRESQL = [
    "CREATE TABLE oversight_events ("
    "originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
    "topic text, state bytea, notification_id bigserial, "
    "PRIMARY KEY (originator_id, originator_version)) "
    "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)",
    "CREATE UNIQUE INDEX oversight_events_notification_id_idx "
    "ON oversight_events (notification_id ASC)",
    "CREATE TYPE stored_event_uuid AS "
    "(originator_id uuid, originator_version bigint, topic text, state bytea)",
    "CREATE TABLE command_receipts ("
    "authority_code text NOT NULL, command_id text NOT NULL, "
    "command_name text NOT NULL, fingerprint text NOT NULL, "
    "last_originator_id uuid, last_originator_version bigint, "
    "aggregate_ids text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (authority_code, command_id))",
]


def upgrade() -> None:
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE command_receipts")
        op.execute("DROP TABLE stored_events")
    else:
        op.execute("DROP TABLE command_receipts")
        op.execute("DROP TABLE oversight_events")
        op.execute("DROP TYPE stored_event_uuid")
