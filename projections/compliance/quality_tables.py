"""The quality-assurance tables of the compliance projection (ADR 0023): their names
and indexes are migration 0011's, so change one only with a migration."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Date, Index, MetaData, String, Table, Text

#: Its tables, by stable name (created with the projection's others).
QUALITY_TABLES = ("quality_audit", "quality_file")


def define_quality_tables(metadata: MetaData, named: Callable[[str], str]) -> dict[str, Table]:
    """A generation's quality tables, keyed by stable name."""
    audit = Table(
        named("quality_audit"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("audit_id", String(200), primary_key=True),
        Column("authority_code", String(32), nullable=False),
        Column("record", String(20), nullable=False),
        Column("local_id", String(64), nullable=False),
        Column("team", String(200), nullable=True),
        Column("auditor_id", String(64), nullable=False),
        Column("holder_id", String(64), nullable=True),
        Column("supervisor_id", String(64), nullable=True),
        Column("file_role", String(40), nullable=True),
        Column("audited_on", Date, nullable=False),
        Column("period_from", Date, nullable=True),
        Column("period_to", Date, nullable=True),
        Column("graded", String(100), nullable=False),
        Column("judgement", String(100), nullable=False),
        Column("disputed_by", String(64), nullable=True),
        Column("moderated_by", String(64), nullable=True),
        Column("answers", Text, nullable=False),
        Column("detail", Text, nullable=False),
        Index(f"{named('quality_audit')}_authority", "authority_code", "audited_on"),
    )
    file = Table(
        named("quality_file"),
        metadata,
        Column("subject_id", String(36), primary_key=True),
        Column("authority_code", String(32), nullable=False),
        Column("record", String(20), nullable=False),
        Column("local_id", String(64), nullable=False),
        Column("team", String(200), nullable=True),
        Column("holder_id", String(64), nullable=True),
        Column("role", String(40), nullable=True),
        Column("manager_id", String(64), nullable=True),
        Column("ended_on", Date, nullable=True),
        Index(f"{named('quality_file')}_authority", "authority_code", "record"),
    )
    return {"quality_audit": audit, "quality_file": file}


__all__ = ["QUALITY_TABLES", "define_quality_tables"]
