"""Quality assurance as each authority's pack states it: its audit tool, its audit quotas
and who moderates (ADR 0023) [SHR-5.8, POR-7, DUR-7].

A pack declares, at its end:

- ``[audit_tool.<record>]`` (``supervision_file``, ``case_file``): the tool's headings and
  yes/no items, and its scale of overall judgements (Shropshire's Outstanding / Good /
  Requires Improvement / Inadequate), with the judgements that are a concern;
- ``[[audit_quota]]``: who audits whom (the auditor's relationship to the holder of the
  file: ``grandparent``, the manager's manager, or ``line_manager``), which files (the
  holder's post), and how many per period (a number, or ``each``);
- ``[audit_moderation]``: who moderates a graded audit (``auditors_line_manager``).

Everything here is pure: the aggregates grade an audit against the subject's own
authority's tool (``AuditIsGradedWithItsAuthoritysTool``), and the read side computes each
auditor's quota windows (``quota_windows``) from the files and audits it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from domain.errors import Forbidden, RuleViolation, ValidationError
from domain.events import CaseFileAudited, EventType, SupervisionFileAudited
from domain.policy.calendar import Period, add_months

#: The events that make an audit (a dispute or moderation follows one).
AUDIT_EVENTS: frozenset[EventType] = frozenset({SupervisionFileAudited, CaseFileAudited})


class AuditRecord(StrEnum):
    """What an audit reads: a worker's supervision file or a child's case file."""

    SUPERVISION_FILE = "supervision_file"
    CASE_FILE = "case_file"


class AuditorRelationship(StrEnum):
    """The auditor's relationship to the holder of the file (a child's: its allocated
    worker), counted up the holder's line-management chain."""

    LINE_MANAGER = "line_manager"  # the holder's line manager
    GRANDPARENT = "grandparent"  # "the manager of the manager" [SHR-5.8]

    @property
    def depth(self) -> int:
        return {AuditorRelationship.LINE_MANAGER: 0, AuditorRelationship.GRANDPARENT: 1}[self]


class ModeratorRelationship(StrEnum):
    """Who moderates an audit, relative to its auditor."""

    AUDITORS_LINE_MANAGER = "auditors_line_manager"


@dataclass(frozen=True)
class ToolItem:
    item_id: str
    heading: str
    text: str


@dataclass(frozen=True)
class AuditTool:
    """One authority's audit tool for one kind of record, citing its clause."""

    rule_id: str
    record: AuditRecord
    title: str
    headings: Mapping[str, str]
    items: tuple[ToolItem, ...]
    judgements: tuple[str, ...]
    #: Judgements that are a concern: shown on the tracking sheets as findings.
    concerns: frozenset[str] = frozenset()

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.item_id for i in self.items)


@dataclass(frozen=True)
class AuditQuota:
    """How many files of a kind an auditor audits per period [SHR-5.8, DUR-7, POR-7]."""

    rule_id: str
    variant: str
    record: AuditRecord
    auditor: AuditorRelationship
    #: The holder's posts the quota covers (empty: every post).
    audited_roles: frozenset[str]
    period: Period
    #: How many files each period; None: each file.
    count: int | None
    title: str

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.variant}" if self.variant else self.rule_id

    def covers(self, record: AuditRecord, role: str | None) -> bool:
        return record is self.record and (
            not self.audited_roles or (role is not None and role in self.audited_roles)
        )


@dataclass(frozen=True)
class Moderation:
    rule_id: str
    moderator: ModeratorRelationship


@dataclass(frozen=True)
class QualityRules:
    """An authority's audit tools, quotas and moderation: what its pack declares."""

    tools: Mapping[AuditRecord, AuditTool] = field(default_factory=dict)
    quotas: tuple[AuditQuota, ...] = ()
    moderation: Moderation | None = None

    def tool(self, record: AuditRecord) -> AuditTool | None:
        return self.tools.get(record)

    def quotas_for(self, record: AuditRecord, role: str | None) -> list[AuditQuota]:
        return [q for q in self.quotas if q.covers(record, role)]

    @property
    def clauses(self) -> frozenset[str]:
        found = {t.rule_id for t in self.tools.values()} | {q.rule_id for q in self.quotas}
        if self.moderation is not None:
            found.add(self.moderation.rule_id)
        return frozenset(found)


NO_QUALITY_RULES = QualityRules()

# -- parsing a pack's tables ---------------------------------------------------------------

TOOL_KEYS = frozenset({"id", "title", "judgements", "concerns", "headings", "items"})
QUOTA_KEYS = frozenset(
    {"id", "variant", "record", "auditor", "audited_roles", "period", "count", "title"}
)
MODERATION_KEYS = frozenset({"id", "moderator"})
#: Quota periods tile the year from 1 January: whole months dividing twelve.
QUOTA_MONTHS = frozenset({1, 2, 3, 4, 6, 12})


#: The clauses a pack accounts for, and its own rule-ID prefix.
Known = tuple[frozenset[str], str]


class QualityPackError(ValidationError):
    """A pack's audit tool, quota or moderation that cannot be used."""

    code = "POLICY_PACK"


def _err(where: str, message: str, field_name: str) -> QualityPackError:
    return QualityPackError(f"{where}: {message}", field=field_name)


def _text(raw: Any, where: str, at: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _err(where, f"{at} must be text", at)
    return raw


def _keys(raw: Any, allowed: frozenset[str], where: str, at: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise _err(where, f"{at} must be a table", at)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _err(where, f"{at} has unknown keys {unknown}; allowed: {sorted(allowed)}", at)
    return raw


def _rule_id(raw: Any, where: str, at: str, known: Known) -> str:
    """A clause of this pack's own authority: one it accounts for, or one of its own
    prefix (``SHR-5.8`` in Shropshire's pack)."""
    text = _text(raw, where, at)
    clauses, prefix = known
    if text not in clauses and text.split("-")[0] != prefix:
        raise _err(
            where,
            f"{at} cites {text}, a rule ID this pack does not account for "
            "(its own clauses only: no council's rule binds another)",
            at,
        )
    return text


def _tool(record: str, raw: Any, where: str, known: Known) -> AuditTool:
    at = f"audit_tool.{record}"
    try:
        kind = AuditRecord(record)
    except ValueError:
        allowed = ", ".join(r.value for r in AuditRecord)
        raise _err(where, f"{at}: no such record; one of {allowed}", at) from None
    table = _keys(raw, TOOL_KEYS, where, at)
    rule_id = _rule_id(table.get("id"), where, f"{at}.id", known)
    judgements = table.get("judgements")
    if (
        not isinstance(judgements, list)
        or not judgements
        or not all(isinstance(j, str) and j.strip() for j in judgements)
        or len(set(judgements)) != len(judgements)
    ):
        raise _err(where, f"{at}.judgements must list distinct judgements", f"{at}.judgements")
    concerns = table.get("concerns", [])
    if not isinstance(concerns, list):
        raise _err(where, f"{at}.concerns must be a list", f"{at}.concerns")
    for concern in concerns:
        if concern not in judgements:
            raise _err(
                where,
                f"{at}.concerns: {concern!r} is outside the scale {judgements}",
                f"{at}.concerns",
            )
    headings = table.get("headings")
    if not isinstance(headings, dict) or not headings:
        raise _err(where, f"{at}.headings must name the tool's headings", f"{at}.headings")
    for heading_id, title in headings.items():
        _text(title, where, f"{at}.headings.{heading_id}")
    raw_items = table.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise _err(where, f"{at}.items must list the tool's yes/no items", f"{at}.items")
    items: list[ToolItem] = []
    for index, item in enumerate(raw_items):
        item_at = f"{at}.items[{index}]"
        entry = _keys(item, frozenset({"id", "heading", "text"}), where, item_at)
        item_id = _text(entry.get("id"), where, f"{item_at}.id")
        heading = entry.get("heading")
        if heading not in headings:
            raise _err(
                where,
                f"{item_at}: unknown heading {heading!r}; the tool's: {sorted(headings)}",
                f"{at}.items",
            )
        items.append(ToolItem(item_id, str(heading), _text(entry.get("text"), where, item_at)))
    ids = [i.item_id for i in items]
    if len(set(ids)) != len(ids):
        raise _err(where, f"{at}.items: each item id once", f"{at}.items")
    return AuditTool(
        rule_id=rule_id,
        record=kind,
        title=_text(table.get("title"), where, f"{at}.title"),
        headings=dict(headings),
        items=tuple(items),
        judgements=tuple(judgements),
        concerns=frozenset(concerns),
    )


def _quota(
    raw: Any, where: str, known: Known, tools: Mapping[AuditRecord, AuditTool], index: int
) -> AuditQuota:
    field = f"audit_quota[{index}]"
    table = _keys(raw, QUOTA_KEYS, where, field)
    rule_id = _rule_id(table.get("id"), where, f"{field}.id", known)
    variant = str(table.get("variant", ""))
    at = f"audit_quota {rule_id}{'/' + variant if variant else ''}"
    try:
        record = AuditRecord(str(table.get("record")))
    except ValueError:
        raise _err(
            where, f"{at}: record is supervision_file or case_file", f"{field}.record"
        ) from None
    if record not in tools:
        raise _err(where, f"{at}: the pack has no [audit_tool.{record.value}]", f"{field}.record")
    try:
        auditor = AuditorRelationship(str(table.get("auditor")))
    except ValueError:
        allowed = ", ".join(r.value for r in AuditorRelationship)
        raise _err(where, f"{at}: auditor is one of {allowed}", f"{field}.auditor") from None
    roles = table.get("audited_roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _err(where, f"{at}: audited_roles is a list of posts", f"{field}.audited_roles")
    from domain.vocabulary import POSTS

    posts = {p.value for p in POSTS}
    for role in roles:
        if role not in posts:
            raise _err(where, f"{at}: {role!r} is not a post", f"{field}.audited_roles")
    try:
        period = Period.parse(str(table.get("period")), field="audit_quota.period")
    except ValidationError:
        period = None
    if period is None or not (
        (period.unit == "M" and period.count in QUOTA_MONTHS)
        or (period.unit == "Y" and period.count == 1)
    ):
        raise _err(
            where,
            f"{at}: bad period {table.get('period')!r}; quota periods tile the year: "
            "P1M, P2M, P3M, P4M, P6M or P1Y",
            f"{field}.period",
        )
    count = table.get("count")
    if count == "each":
        how_many: int | None = None
    elif isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        how_many = count
    else:
        raise _err(where, f'{at}: count is a positive number or "each"', f"{field}.count")
    return AuditQuota(
        rule_id=rule_id,
        variant=variant,
        record=record,
        auditor=auditor,
        audited_roles=frozenset(roles),
        period=period,
        count=how_many,
        title=_text(table.get("title"), where, f"{field}.title"),
    )


def quality_rules(
    document: Mapping[str, Any],
    where: str,
    known: Known,
    parent: QualityRules | None = None,
) -> QualityRules:
    """A pack's ``[audit_tool.*]``, ``[[audit_quota]]`` and ``[audit_moderation]``; a
    pack that declares none inherits its parent's (a pack extending Durham's)."""
    raw_tools = document.get("audit_tool")
    raw_quotas = document.get("audit_quota")
    raw_moderation = document.get("audit_moderation")
    inherited = parent or NO_QUALITY_RULES
    if raw_tools is None and raw_quotas is None and raw_moderation is None:
        return inherited
    if raw_tools is not None and not isinstance(raw_tools, dict):
        raise _err(where, "audit_tool must be tables [audit_tool.<record>]", "audit_tool")
    tools = dict(inherited.tools)
    for record, raw in (raw_tools or {}).items():
        tool = _tool(record, raw, where, known)
        tools[tool.record] = tool
    quotas = inherited.quotas
    if raw_quotas is not None:
        if not isinstance(raw_quotas, list):
            raise _err(where, "audit_quota must be [[audit_quota]] tables", "audit_quota")
        quotas = tuple(
            _quota(raw, where, known, tools, index) for index, raw in enumerate(raw_quotas)
        )
        keys = [q.key for q in quotas]
        if len(set(keys)) != len(keys):
            raise _err(where, "duplicate [[audit_quota]] (give each a variant)", "audit_quota")
    moderation = inherited.moderation
    if raw_moderation is not None:
        table = _keys(raw_moderation, MODERATION_KEYS, where, "audit_moderation")
        try:
            moderator = ModeratorRelationship(str(table.get("moderator")))
        except ValueError:
            allowed = ", ".join(m.value for m in ModeratorRelationship)
            raise _err(
                where, f"audit_moderation.moderator is one of {allowed}", "audit_moderation"
            ) from None
        moderation = Moderation(
            _rule_id(table.get("id"), where, "audit_moderation.id", known), moderator
        )
    return QualityRules(tools=tools, quotas=quotas, moderation=moderation)


# -- the named rules an audit obeys ----------------------------------------------------------


class _QualityRule:
    name: ClassVar[str]

    @classmethod
    def violation(cls, message: str, *, field: str, cite: str) -> RuleViolation:
        return RuleViolation(message, field=field, rule=f"{cls.name} {cite}")

    @classmethod
    def forbidden(cls, message: str, *, field: str, cite: str) -> Forbidden:
        return Forbidden(message, field=field, rule=f"{cls.name} {cite}")


class AuditIsGradedWithItsAuthoritysTool(_QualityRule):
    """Every item of the subject's own authority's tool answered yes or no, no other
    item, and an overall judgement on its scale [SHR-5.8]."""

    name = "AuditIsGradedWithItsAuthoritysTool"

    @classmethod
    def tool(cls, rules: QualityRules, record: AuditRecord) -> AuditTool:
        tool = rules.tool(record)
        if tool is None:
            raise RuleViolation(
                f"this authority's pack has no audit tool for a {record.value.replace('_', ' ')}",
                field="answers",
                rule=cls.name,
            )
        return tool

    @classmethod
    def check(cls, tool: AuditTool, answers: Any, judgement: Any) -> None:
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in answers.items()
        ):
            raise cls.violation(
                "answers map each item of the tool to yes (true) or no (false)",
                field="answers",
                cite=tool.rule_id,
            )
        unknown = sorted(set(answers) - set(tool.item_ids))
        if unknown:
            raise cls.violation(
                f"item {unknown[0]!r} is not on this authority's audit tool ({tool.title})",
                field=f"answers.{unknown[0]}",
                cite=tool.rule_id,
            )
        missing = [i for i in tool.item_ids if i not in answers]
        if missing:
            raise cls.violation(
                f"item {missing[0]!r} of the tool is not answered",
                field=f"answers.{missing[0]}",
                cite=tool.rule_id,
            )
        cls.check_judgement(tool, judgement)

    @classmethod
    def check_judgement(cls, tool: AuditTool, judgement: Any) -> None:
        if judgement not in tool.judgements:
            raise cls.violation(
                f"the overall judgement is one of {', '.join(tool.judgements)}",
                field="judgement",
                cite=tool.rule_id,
            )


class AuditedByTheRelationshipItsPackNames(_QualityRule):
    """The auditor is the one the authority's quota names for a file of this post (the
    holder's manager's manager: "grandparent" audits) [SHR-5.8, DUR-7, POR-7]."""

    name = "AuditedByTheRelationshipItsPackNames"

    @classmethod
    def check(
        cls,
        rules: QualityRules,
        record: AuditRecord,
        role: str | None,
        auditor_id: str,
        chain: Sequence[str],
    ) -> None:
        quotas = rules.quotas_for(record, role)
        if not quotas:
            cite = " ".join(sorted({q.rule_id for q in rules.quotas})) or "QA"
            raise cls.forbidden(
                f"this authority's pack names no auditor of a {record.value.replace('_', ' ')}"
                + (f" held by a {role.replace('_', ' ')}" if role else ""),
                field="actor.id",
                cite=cite,
            )
        for quota in quotas:
            depth = quota.auditor.depth
            if len(chain) > depth and chain[depth] == auditor_id:
                return
        words = " or ".join(sorted({q.auditor.value.replace("_", " ") for q in quotas}))
        raise cls.forbidden(
            f"only the file holder's {words} audits this file",
            field="actor.id",
            cite=" ".join(sorted({q.rule_id for q in quotas})),
        )


@dataclass(frozen=True)
class Audit:
    """An audit as its aggregate holds it."""

    audit_id: str
    record: AuditRecord
    auditor_id: str
    #: Who may dispute it: the audited worker and their supervisor.
    audited: frozenset[str]
    judgement: str
    disputed_by: str | None = None
    moderated_by: str | None = None


class AuditIsDisputedByTheAudited(_QualityRule):
    """Only the audited worker or supervisor disputes an audit, once, with reasons,
    before it is moderated [SHR-5.8]."""

    name = "AuditIsDisputedByTheAudited"

    @classmethod
    def check(cls, audit: Audit, actor_id: str, reasons: Any, cite: str) -> None:
        if actor_id not in audit.audited:
            raise cls.forbidden(
                "only the audited worker or their supervisor disputes an audit",
                field="actor.id",
                cite=cite,
            )
        if audit.disputed_by is not None:
            raise cls.violation("this audit is already disputed", field="audit_id", cite=cite)
        if audit.moderated_by is not None:
            raise cls.violation(
                "a moderated audit is no longer disputed", field="audit_id", cite=cite
            )
        if not isinstance(reasons, str) or not reasons.strip():
            raise cls.violation("a dispute gives its reasons", field="reasons", cite=cite)


class AuditIsModeratedByTheModeratorItsPackNames(_QualityRule):
    """An audit is moderated once, by the moderator the authority's pack names (never the
    auditor or the audited), confirming or changing the judgement on the tool's scale."""

    name = "AuditIsModeratedByTheModeratorItsPackNames"

    @classmethod
    def check(
        cls,
        rules: QualityRules,
        audit: Audit,
        actor_id: str,
        auditors_line_manager_id: str | None,
        judgement: Any,
        rationale: Any,
    ) -> None:
        moderation = rules.moderation
        if moderation is None:
            raise cls.forbidden(
                "this authority's pack names no moderator of audits",
                field="actor.id",
                cite="QA",
            )
        cite = moderation.rule_id
        if audit.moderated_by is not None:
            raise cls.violation("this audit is already moderated", field="audit_id", cite=cite)
        if (
            actor_id in audit.audited
            or actor_id == audit.auditor_id
            or actor_id != auditors_line_manager_id
        ):
            raise cls.forbidden(
                "only the auditor's line manager moderates an audit", field="actor.id", cite=cite
            )
        tool = rules.tool(audit.record)
        if tool is None:  # the pack changed since: no scale to moderate on
            raise cls.violation(
                "this authority's pack has no audit tool for it", field="judgement", cite=cite
            )
        AuditIsGradedWithItsAuthoritysTool.check_judgement(tool, judgement)
        if not isinstance(rationale, str) or not rationale.strip():
            raise cls.violation("a moderation gives its rationale", field="rationale", cite=cite)


def audit_named(audits: Mapping[str, Audit], audit_id: str) -> Audit:
    """The subject's audit ``audit_id`` (NOT_FOUND naming the field)."""
    found = audits.get(audit_id)
    if found is None:
        from domain.errors import NotFound

        raise NotFound(f"no audit {audit_id!r} on this subject", field="audit_id")
    return found


def tool_clause(rules: QualityRules, record: AuditRecord) -> str:
    """The clause the authority's tool for ``record`` cites."""
    tool = rules.tool(record)
    return tool.rule_id if tool is not None else "QA"


def check_period(period_from: Any, period_to: Any, audited_on: date) -> None:
    """The period audited: dates, in order, not after the audit."""
    if not isinstance(period_from, date):
        raise ValidationError("period_from must be a date", field="period_from")
    if not isinstance(period_to, date):
        raise ValidationError("period_to must be a date", field="period_to")
    if period_from > period_to:
        raise ValidationError("the period audited ends before it starts", field="period_to")
    if period_to > audited_on:
        raise ValidationError("the period audited ends after the audit", field="period_to")


# -- quota windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFile:
    """A file that may be audited: a worker's supervision file or a child's case file."""

    record: AuditRecord
    local_id: str
    #: The worker whose file it is (a child's: the allocated worker).
    holder_id: str | None
    #: The holder's post.
    role: str | None
    ended_on: date | None = None


@dataclass(frozen=True)
class AuditDone:
    """An audit done (its file, auditor and day)."""

    audit_id: str
    record: AuditRecord
    local_id: str
    auditor_id: str
    on: date
    role: str | None


@dataclass(frozen=True)
class QuotaWindow:
    """One auditor's quota in one period: how many audits were due and done."""

    rule_key: str
    rule_id: str
    title: str
    auditor_id: str
    record: AuditRecord
    starts_on: date
    ends_on: date
    due: int
    done: int
    files: tuple[str, ...]
    audits: tuple[str, ...]

    @property
    def missed(self) -> int:
        return max(self.due - self.done, 0)

    def status(self, as_of: date, due_soon: Period) -> str:
        """Like an annual minimum's window (ADR 0009, addendum): met when enough were
        done; breached once the period ended short; due soon near its end."""
        from domain.policy.compliance import Status

        if self.done >= self.due:
            return Status.MET.value
        if as_of > self.ends_on:
            return Status.BREACHED.value
        if due_soon.after(as_of) >= self.ends_on:
            return Status.DUE_SOON.value
        return Status.MET.value

    def finding(self) -> str:
        what = self.record.value.replace("_", " ")
        return (
            f"[{self.rule_id}] {self.auditor_id} audited {self.done} of {self.due} "
            f"{what}s due from {self.starts_on} to {self.ends_on}"
        )


def periods(period: Period, start: date, end: date) -> list[tuple[date, date]]:
    """The quota periods (tiling the year from 1 January) that overlap [start, end]."""
    months = period.count * (12 if period.unit == "Y" else 1)
    first = date(start.year, ((start.month - 1) // months) * months + 1, 1)
    found: list[tuple[date, date]] = []
    current = first
    while current <= end:
        following = add_months(current, months)
        found.append((current, following - timedelta(days=1)))
        current = following
    return found


def chain_from(holder_id: str | None, managers: Mapping[str, str | None]) -> tuple[str, ...]:
    """The holder's line-management chain, nearest first (cycles bounded)."""
    chain: list[str] = []
    current = managers.get(holder_id) if holder_id else None
    while current and current not in chain and current != holder_id and len(chain) < 10:
        chain.append(current)
        current = managers.get(current)
    return tuple(chain)


def quota_windows(
    rules: QualityRules,
    files: Iterable[AuditFile],
    managers: Mapping[str, str | None],
    audits: Iterable[AuditDone],
    start: date,
    end: date,
) -> list[QuotaWindow]:
    """Every auditor's window of every quota in the periods overlapping [start, end]:
    the files due (``each``, or as many as the quota names, at most those there are)
    and the distinct files audited by them in the period. An auditor with no file to
    audit in a period owes nothing in it. Line management is as it is now."""
    every_file = list(files)
    done = list(audits)
    windows: list[QuotaWindow] = []
    for quota in rules.quotas:
        by_auditor: dict[str, list[AuditFile]] = {}
        for audit_file in every_file:
            if not quota.covers(audit_file.record, audit_file.role):
                continue
            chain = chain_from(audit_file.holder_id, managers)
            if len(chain) > quota.auditor.depth:
                by_auditor.setdefault(chain[quota.auditor.depth], []).append(audit_file)
        for auditor_id in sorted(by_auditor):
            for starts_on, ends_on in periods(quota.period, start, end):
                open_files = sorted(
                    f.local_id
                    for f in by_auditor[auditor_id]
                    if f.ended_on is None or f.ended_on >= starts_on
                )
                if not open_files:
                    continue
                due = len(open_files) if quota.count is None else min(quota.count, len(open_files))
                in_period = [
                    a
                    for a in done
                    if a.auditor_id == auditor_id
                    and quota.covers(a.record, a.role)
                    and starts_on <= a.on <= ends_on
                ]
                audited = {a.local_id for a in in_period}
                counted = audited & set(open_files) if quota.count is None else audited
                windows.append(
                    QuotaWindow(
                        rule_key=quota.key,
                        rule_id=quota.rule_id,
                        title=quota.title,
                        auditor_id=auditor_id,
                        record=quota.record,
                        starts_on=starts_on,
                        ends_on=ends_on,
                        due=due,
                        done=len(counted),
                        files=tuple(open_files),
                        audits=tuple(sorted(a.audit_id for a in in_period)),
                    )
                )
    return windows


__all__ = [
    "AUDIT_EVENTS",
    "NO_QUALITY_RULES",
    "Audit",
    "AuditDone",
    "AuditFile",
    "AuditIsDisputedByTheAudited",
    "AuditIsGradedWithItsAuthoritysTool",
    "AuditIsModeratedByTheModeratorItsPackNames",
    "AuditQuota",
    "AuditRecord",
    "AuditTool",
    "AuditedByTheRelationshipItsPackNames",
    "AuditorRelationship",
    "Moderation",
    "ModeratorRelationship",
    "QualityPackError",
    "QualityRules",
    "QuotaWindow",
    "ToolItem",
    "audit_named",
    "chain_from",
    "check_period",
    "periods",
    "quality_rules",
    "quota_windows",
    "tool_clause",
]
