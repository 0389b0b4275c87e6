"""Quality-assurance audits and the files they read, as rows (ADR 0023) [SHR-5.8, POR-7,
DUR-7]; and each auditor's quota windows computed from them.

Two of the compliance projection's derived tables, replaced with the subject's other rows
when it settles (``derive``): ``quality_audit``, one row per audit of the subject (from the
timeline's entries: graded, disputed, moderated), and ``quality_file``, the subject as a
file that may be audited (a worker's supervision file, a child's case file, with the
worker who holds it). The quotas are computed on the question (``quota_windows`` of
``domain.policy.quality``), from these rows and the authority's pack: the one computation
the API, the CLI and the tracking sheets share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select

from domain.policy.calendar import Period
from domain.policy.packs import PackLibrary
from domain.policy.quality import (
    AUDIT_EVENTS,
    AuditDone,
    AuditFile,
    AuditRecord,
    QuotaWindow,
    quota_windows,
)
from domain.policy.registers import Profile
from domain.policy.timeline import Fact, local_day, timeline_of
from projections.compliance.context import authority_context
from projections.compliance.tables import VIEWS, json_text, stored_day, view


def quality_rows(
    subject_id: str, who: Profile, facts: Sequence[Fact]
) -> dict[str, list[dict[str, Any]]]:
    """The subject's audits and its row as a file, from its timeline (corrections and
    disputes and moderations applied)."""
    timeline = timeline_of(facts)
    worker = who.subject == "worker"
    record = AuditRecord.SUPERVISION_FILE if worker else AuditRecord.CASE_FILE
    holder = who.local_id if worker else who.worker_id
    role = timeline.current.get("role") if worker else None
    entries, _ = timeline.entries_at(None)
    audited_on = {
        str(f.data["audit_id"]): local_day(f.occurred_at)
        for f in timeline.facts
        if f.kind in AUDIT_EVENTS
    }
    audits = [
        {
            "subject_id": subject_id,
            "audit_id": audit_id,
            "authority_code": who.authority_code,
            "record": str(fields.get("record")),
            "local_id": who.local_id,
            "team": who.team,
            "auditor_id": str(fields.get("auditor_id")),
            # A worker's own file; a child's allocated worker when it was audited.
            "holder_id": who.local_id if worker else fields.get("worker_id"),
            "supervisor_id": fields.get("supervisor_id"),
            "file_role": fields.get("file_role"),
            "audited_on": audited_on[audit_id],
            "period_from": _day(fields.get("period_from")),
            "period_to": _day(fields.get("period_to")),
            "graded": str(fields.get("graded")),
            "judgement": str(fields.get("judgement")),
            "disputed_by": fields.get("disputed_by"),
            "moderated_by": fields.get("moderated_by"),
            "answers": json_text(fields.get("answers") or {}),
            "detail": json_text(
                {
                    k: fields.get(k)
                    for k in ("comment", "dispute_reasons", "moderation_rationale")
                    if fields.get(k)
                }
            ),
        }
        for audit_id, fields in entries.items()
        if fields.get("kind") == "quality_audit" and audit_id in audited_on
    ]
    return {
        "quality_audit": audits,
        "quality_file": [
            {
                "subject_id": subject_id,
                "authority_code": who.authority_code,
                "record": record.value,
                "local_id": who.local_id,
                "team": who.team,
                "holder_id": holder,
                "role": str(role) if role else None,
                "manager_id": who.manager_id if worker else None,
                "ended_on": who.ended_on,
            }
        ],
    }


def _day(value: Any) -> date | None:
    return stored_day(value) if value is not None else None


@dataclass(frozen=True)
class AuditRow:
    """An audit as the read side shows it."""

    subject_kind: str
    local_id: str
    audit_id: str
    record: str
    team: str | None
    auditor_id: str
    holder_id: str | None
    supervisor_id: str | None
    audited_on: date
    period_from: date | None
    period_to: date | None
    graded: str
    judgement: str
    disputed_by: str | None
    moderated_by: str | None
    answers: Mapping[str, bool]
    comment: str | None
    dispute_reasons: str | None
    moderation_rationale: str | None
    #: The clause of the authority's tool, and whether the judgement is one of its concerns.
    rule_id: str | None = None
    concern: bool = False


def audit_rows(
    conn: Connection,
    library: PackLibrary,
    authority_code: str,
    *,
    start: date,
    end: date,
    auditor_id: str | None = None,
    local_id: str | None = None,
) -> list[AuditRow]:
    """The authority's audits done in [start, end] (one auditor's, one file's)."""
    a = view("quality_audit")
    query = select(a).where(
        a.c.authority_code == authority_code, a.c.audited_on >= start, a.c.audited_on <= end
    )
    if auditor_id is not None:
        query = query.where(a.c.auditor_id == auditor_id)
    if local_id is not None:
        query = query.where(a.c.local_id == local_id)
    pack = authority_context(conn, VIEWS, authority_code, library).pack
    rows: list[AuditRow] = []
    for row in conn.execute(query.order_by(a.c.audited_on, a.c.local_id, a.c.audit_id)):
        detail = orjson.loads(row.detail)
        record = AuditRecord(row.record)
        tool = pack.quality.tool(record) if pack is not None else None
        rows.append(
            AuditRow(
                subject_kind="worker" if record is AuditRecord.SUPERVISION_FILE else "child",
                local_id=row.local_id,
                audit_id=row.audit_id,
                record=row.record,
                team=row.team,
                auditor_id=row.auditor_id,
                holder_id=row.holder_id,
                supervisor_id=row.supervisor_id,
                audited_on=stored_day(row.audited_on),
                period_from=_day(row.period_from),
                period_to=_day(row.period_to),
                graded=row.graded,
                judgement=row.judgement,
                disputed_by=row.disputed_by,
                moderated_by=row.moderated_by,
                answers=orjson.loads(row.answers),
                comment=detail.get("comment"),
                dispute_reasons=detail.get("dispute_reasons"),
                moderation_rationale=detail.get("moderation_rationale"),
                rule_id=tool.rule_id if tool is not None else None,
                concern=tool is not None and row.judgement in tool.concerns,
            )
        )
    return rows


def quotas_for(
    engine_or_conn: Engine | Connection,
    library: PackLibrary,
    authority_code: str,
    *,
    start: date,
    end: date,
    auditor_id: str | None = None,
) -> list[QuotaWindow]:
    """Every auditor's quota windows in the periods overlapping [start, end] under the
    authority's pack (one auditor's, if given)."""
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return quotas_for(
                conn, library, authority_code, start=start, end=end, auditor_id=auditor_id
            )
    conn = engine_or_conn
    pack = authority_context(conn, VIEWS, authority_code, library).pack
    if pack is None or not pack.quality.quotas:
        return []
    f, a = view("quality_file"), view("quality_audit")
    files: list[AuditFile] = []
    managers: dict[str, str | None] = {}
    for row in conn.execute(select(f).where(f.c.authority_code == authority_code)):
        record = AuditRecord(row.record)
        if record is AuditRecord.SUPERVISION_FILE:
            managers[row.local_id] = row.manager_id
        files.append(AuditFile(record, row.local_id, row.holder_id, row.role, _day(row.ended_on)))
    done = [
        AuditDone(
            row.audit_id,
            AuditRecord(row.record),
            row.local_id,
            row.auditor_id,
            stored_day(row.audited_on),
            row.file_role,
        )
        for row in conn.execute(
            select(a).where(a.c.authority_code == authority_code, a.c.audited_on <= end)
        )
    ]
    windows = quota_windows(pack.quality, files, managers, done, start, end)
    return [w for w in windows if auditor_id is None or w.auditor_id == auditor_id]


def due_soon_of(engine: Engine, library: PackLibrary, authority_code: str) -> Period:
    """How near its end a quota window shows as due soon: the authority's pack's."""
    with engine.connect() as conn:
        pack = authority_context(conn, VIEWS, authority_code, library).pack
    return pack.due_soon if pack is not None else Period.parse("P7D")


__all__ = [
    "AuditRow",
    "audit_rows",
    "due_soon_of",
    "quality_rows",
    "quotas_for",
]
