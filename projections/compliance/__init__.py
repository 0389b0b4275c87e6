"""Compliance, registers and allocations, kept up to date incrementally (ADR 0010).

The handler stores each worker, child and authority event as a *fact* and marks its
subject dirty, in the batch's transaction (``facts``). ``settle`` then recomputes each
dirty subject from its facts alone (``domain.policy``): its profile, every obligation its
authority's pack creates, its register items and (for a child) its allocations
(``derive``), and replaces the subject's rows, clearing its mark in the same transaction.
An authority's event (a new pack, a closure day) marks the authority, and settling it
recomputes all its subjects (``context``).

So a query never rescans history: findings on any as-of day are the stored obligations
with a status worked out for that day. Two cases compute from the stored facts instead,
for one subject at a time (``answers``): a *known-at* question (only the facts recorded
by then), and a subject not yet settled or asked about beyond the horizon its
obligations were computed to (``valid_until``: two years past its latest fact).

Tables (``tables``): ``compliance_fact``, ``compliance_link``, ``compliance_dirty``,
``compliance_subject``, ``compliance_obligation``, ``oversight_register``,
``case_allocation``, ``retention_schedule`` (the purge schedule: every record of the
subject with the rule it falls due under, its due date and what holds it, ADR 0012),
and ``quality_audit`` and ``quality_file`` (ADR 0023); and per authority
``team_obligation``, ``team_settled`` and ``team_dirty`` (each team's windows under its
team rules [DEV-7, POR-3.3], settled once no subject is left, ADR 0024).

Modules: ``projection`` (the ``Compliance`` class), ``tables``, ``facts``, ``context``,
``derive``, ``settle``; one per table read (``obligations``, ``registers``,
``retention``, ``caseload``, ``teams``); ``answers``, ``summary``, ``sheets`` and
``quality`` (audits and quota windows, ADR 0023) for the read functions the API and CLI
call. This package exports what its users import.
"""

from __future__ import annotations

from projections.compliance.answers import (
    Answer,
    SubjectCompliance,
    answer,
    end_of_day,
    evaluate,
    is_settled,
)
from projections.compliance.caseload import CaseRow, case_list, team_positions
from projections.compliance.context import AuthorityContext, authority_context, context_from
from projections.compliance.derive import HORIZON, Derived, derive, horizon_for
from projections.compliance.facts import subject_facts
from projections.compliance.obligations import OpenWork, open_work, stored_obligations
from projections.compliance.projection import Compliance
from projections.compliance.quality import AuditRow, audit_rows, due_soon_of, quotas_for
from projections.compliance.registers import RegisterRow, register_items
from projections.compliance.sheets import case_tracker_for, supervision_sheet_for, team_sheet_for
from projections.compliance.summary import CATEGORIES, Summary, Tally, category, summary
from projections.compliance.tables import TABLES, view
from projections.compliance.teams import TeamCompliance, team_compliance

__all__ = [
    "CATEGORIES",
    "HORIZON",
    "TABLES",
    "Answer",
    "AuditRow",
    "AuthorityContext",
    "CaseRow",
    "Compliance",
    "Derived",
    "OpenWork",
    "RegisterRow",
    "SubjectCompliance",
    "Summary",
    "Tally",
    "TeamCompliance",
    "answer",
    "audit_rows",
    "authority_context",
    "case_list",
    "case_tracker_for",
    "category",
    "context_from",
    "derive",
    "due_soon_of",
    "end_of_day",
    "evaluate",
    "horizon_for",
    "is_settled",
    "open_work",
    "quotas_for",
    "register_items",
    "stored_obligations",
    "subject_facts",
    "summary",
    "supervision_sheet_for",
    "team_compliance",
    "team_positions",
    "team_sheet_for",
    "view",
]
