"""The compliance projection's tables, their stable views, and how values are stored.

The names and indexes are the migrations' (0004 to 0006, and 0012 for the team tables,
create them from here): change one only with a migration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from projections.compliance.quality_tables import define_quality_tables
from projections.engine import generation_table_name

TABLES = (
    "compliance_fact",
    "compliance_link",
    "compliance_dirty",
    "compliance_subject",
    "compliance_obligation",
    "oversight_register",
    "case_allocation",
    "retention_schedule",
    "team_obligation",
    "team_settled",
    "team_dirty",
    "quality_audit",
    "quality_file",
)


def define_tables(metadata: MetaData, generation: int) -> dict[str, Table]:
    """A generation's tables, keyed by stable name."""

    def named(stable: str) -> str:
        return generation_table_name(stable, generation)

    fact = Table(
        named("compliance_fact"),
        metadata,
        Column("position", BigInteger, primary_key=True, autoincrement=False),
        Column("subject_id", String(36), nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("data", Text, nullable=False),
        Index(f"{named('compliance_fact')}_subject", "subject_id", "position"),
    )
    dirty = Table(
        named("compliance_dirty"),
        metadata,
        # Position 0: marked because the subject's pack changed, not by an event.
        Column("position", BigInteger, nullable=False, autoincrement=False),
        Column("subject_id", String(36), nullable=False),
        # Keyed by subject first: settling groups, reads and deletes by subject
        # (measured: keyed by position, each delete scanned every mark; ADR 0010).
        PrimaryKeyConstraint("subject_id", "position"),
    )
    link = Table(
        named("compliance_link"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("depends_on", String(36), primary_key=True),
        Index(f"{named('compliance_link')}_depends_on", "depends_on"),
    )
    subject = Table(
        named("compliance_subject"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("authority_code", String(32), nullable=False),
        Column("subject_kind", String(10), nullable=False),
        Column("local_id", String(64), nullable=False),
        Column("display", String(200), nullable=False),
        Column("team", String(200), nullable=True),
        Column("manager_id", String(64), nullable=True),
        Column("worker_id", String(64), nullable=True),
        Column("supervisors", Text, nullable=False),
        Column("ended_on", Date, nullable=True),
        Column("pack_id", String(32), nullable=True),
        Column("pack_digest", String(64), nullable=True),
        # The authority's last fact its pack and calendar were read from.
        Column("authority_through", BigInteger, nullable=False),
        Column("valid_until", Date, nullable=False),
        Column("through_position", BigInteger, nullable=False),
        Index(f"{named('compliance_subject')}_authority", "authority_code", "subject_kind"),
        # The API's authorization reads one subject (and its managers) by local id on
        # every request (migration 0006; measured: 2.4 ms a lookup without it, with
        # 19,000 children in one authority).
        Index(
            f"{named('compliance_subject')}_local_id",
            "authority_code",
            "subject_kind",
            "local_id",
        ),
    )
    obligation = Table(
        named("compliance_obligation"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("authority_code", String(32), nullable=False),
        Column("team", String(200), nullable=True),
        Column("rule_key", String(100), nullable=False),
        Column("rule_id", String(40), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("arises_on", Date, nullable=False),
        Column("due_on", Date, nullable=True),
        Column("satisfied_on", Date, nullable=True),
        Column("evidence", Text, nullable=False),
        Column("detail", Text, nullable=False),
        Index(f"{named('compliance_obligation')}_authority", "authority_code", "team"),
        # The summary counts one period's obligations of an authority: read from this
        # index alone on PostgreSQL, not by scanning every year's (migration 0013).
        Index(
            f"{named('compliance_obligation')}_due",
            "authority_code",
            "due_on",
            postgresql_include=[
                "arises_on",
                "satisfied_on",
                "kind",
                "team",
                "rule_id",
                "subject_id",
            ],
        ),
    )
    register = Table(
        named("oversight_register"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("register", String(20), primary_key=True),
        Column("item_id", String(200), primary_key=True),
        Column("authority_code", String(32), nullable=False),
        Column("team", String(200), nullable=True),
        Column("owner", String(64), nullable=True),
        Column("opened_on", Date, nullable=False),
        Column("due_on", Date, nullable=True),
        Column("closed_on", Date, nullable=True),
        Column("rule_id", String(40), nullable=True),
        Column("evidence", Text, nullable=False),
        Column("detail", Text, nullable=False),
        Index(f"{named('oversight_register')}_open", "authority_code", "register", "closed_on"),
    )
    allocation = Table(
        named("case_allocation"),
        metadata,
        Column("child_id", String(36), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("authority_code", String(32), nullable=False),
        Column("worker_id", String(64), nullable=False),
        Column("team", String(200), nullable=True),
        Column("start_on", Date, nullable=False),
        Column("end_on", Date, nullable=True),
        Index(f"{named('case_allocation')}_worker", "authority_code", "worker_id"),
    )
    retention = Table(
        named("retention_schedule"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("record_class", String(40), primary_key=True),
        Column("record_id", String(200), primary_key=True),
        Column("authority_code", String(32), nullable=False),
        Column("subject_kind", String(10), nullable=False),
        Column("local_id", String(64), nullable=False),
        Column("team", String(200), nullable=True),
        Column("rule_id", String(40), nullable=True),
        Column("trigger", String(40), nullable=True),
        Column("trigger_date", Date, nullable=True),
        Column("due_on", Date, nullable=True),
        Column("held_by", Text, nullable=True),
        Column("events", Integer, nullable=False),
        Column("purged_on", Date, nullable=True),
        Column("authorised_by", String(300), nullable=True),
        # The schedule's own order: a page of it is a top-N scan of this index.
        Index(
            f"{named('retention_schedule')}_due",
            "authority_code",
            "due_on",
            "subject_kind",
            "local_id",
            "record_class",
            "record_id",
        ),
    )
    # A team's obligations [DEV-7, POR-3.3] read every member's facts: kept per
    # authority, recomputed when none of its subjects is left to settle (``teams``,
    # migration 0012, ADR 0024).
    team_obligation = Table(
        named("team_obligation"),
        metadata,
        Column("authority_code", String(32), primary_key=True),
        Column("team", String(200), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("rule_key", String(100), nullable=False),
        Column("rule_id", String(40), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("arises_on", Date, nullable=False),
        Column("due_on", Date, nullable=True),
        Column("satisfied_on", Date, nullable=True),
        Column("evidence", Text, nullable=False),
        Column("detail", Text, nullable=False),
    )
    team_settled = Table(
        named("team_settled"),
        metadata,
        Column("authority_code", String(32), primary_key=True),
        Column("pack_id", String(32), nullable=True),
        Column("pack_digest", String(64), nullable=True),
        Column("valid_until", Date, nullable=False),
    )
    team_dirty = Table(
        named("team_dirty"),
        metadata,
        Column("authority_code", String(32), primary_key=True),
    )
    return {
        "team_obligation": team_obligation,
        "team_settled": team_settled,
        "team_dirty": team_dirty,
        "retention_schedule": retention,
        "compliance_fact": fact,
        "compliance_link": link,
        "compliance_dirty": dirty,
        "compliance_subject": subject,
        "compliance_obligation": obligation,
        "oversight_register": register,
        "case_allocation": allocation,
        **define_quality_tables(metadata, named),
    }


#: The stable views readers query (each over the active generation's table).
VIEWS: dict[str, Table] = {
    name: Table(name, MetaData(), *[Column(c.name, c.type) for c in table.columns])
    for name, table in define_tables(MetaData(), 0).items()
}


def view(name: str) -> Table:
    """The stable view over the active generation's table."""
    return VIEWS[name]


def json_text(value: Any) -> str:
    """A JSON column's text, keys sorted so equal values store equal text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def stored_day(value: Any) -> date:
    """A date column's value (drivers hand back dates, datetimes or ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` sorted, in lists short enough for one ``IN`` clause."""
    items = sorted(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]
