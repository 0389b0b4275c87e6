"""Policy packs: one authority's computable rules, as data (ADR 0008).

A pack is a TOML file. Its ``[pack]`` table names it; each ``[[rule]]`` is a rule of a
*kind* the compliance engine knows (``recurring``, ``minimum_count``, ``deadline``) with
the parameters and applicability its policy gives, citing its rule ID. ``[[recorded]]``
and ``[[out_of_scope]]`` list the digest's other rule IDs with the reason nothing is
computed for them, so the coverage table (docs/policy-coverage.md) is generated from
the packs alone. A pack may ``extend`` another (the SWRB national minimum): it inherits
that pack's rules, and a rule of its own with the same ID and variant replaces one.

An authority copies a pack file, gives it a new ``id`` and changes parameters: no code
changes (``OVERSIGHT_POLICY_PACKS`` names extra directories to load packs from).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.errors import ValidationError
from domain.policy.calendar import Period

BUILT_IN = Path(__file__).resolve().parent / "data"
PACK_ID = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
RULE_ID = re.compile(r"^[A-Z]+-[A-Za-z0-9.]+$")

KINDS = frozenset({"recurring", "minimum_count", "deadline"})
SUBJECTS = frozenset({"worker", "child"})

#: What starts each deadline's clock and what stops it (ADR 0008, ADR 0010).
CLOCKS: dict[str, str] = {
    "return_from_sickness": "worker",  # sickness absence ended -> a session held [DUR-4.4]
    "record_shared": "worker",  # session held -> its personal record written [DUR-4.7a]
    "record_signed": "worker",  # session held -> record signed by both [DUR-4.7a]
    "disagreement_resolved": "any",  # disagreement raised -> resolved [DUR-4.10]
    "case_record_entered": "child",  # case supervision held -> on the record [DEV-5.3]
    "trigger_answered": "child",  # key point -> manager's oversight record [DEV-6]
    "oversight_actions_reviewed": "child",  # oversight actions -> next case supervision
    "action_due": "child",  # an action's own due date -> completed [POR-6.1]
    # the supervisor absent longer than ``after`` -> supervision by someone else
    # [POR-3.1e, DUR-4.5, SHR-3.6b]; the supervisor's absences are another aggregate's
    "supervisor_absent": "worker",
}

#: Events that can satisfy a recurring or counted rule, by subject.
COUNTABLE: dict[str, frozenset[str]] = {
    "worker": frozenset(
        {
            "SupervisionSessionHeld",
            "SupervisionAgreementSigned",
            "SupervisionAgreementReviewed",
            "GroupSupervisionAttended",
            "DirectObservationRecorded",
            "AppraisalHeld",
        }
    ),
    "child": frozenset({"CaseSupervisionRecorded", "GroupSupervisionDiscussionRecorded"}),
}

ANCHORS = frozenset({"start", "asye_start"})

#: Applicability keys, by subject, with the values each may take (None: free text).
CONDITIONS: dict[str, dict[str, frozenset[str] | None]] = {
    "worker": {
        "roles": None,
        "case_holding": frozenset({"true", "false"}),
        "employment_patterns": frozenset({"full_time", "part_time"}),
        "engagements": frozenset({"permanent", "agency", "temporary"}),
    },
    "child": {
        "case_types": frozenset(
            {
                "feh",
                "assessment",
                "cin",
                "cp",
                "cla",
                "care_leaver",
                "yos",
                "disability",
                "foster_carer_household",
            }
        ),
        "risk_levels": frozenset({"low", "medium", "high"}),
        "rags": frozenset({"red", "amber", "green"}),
    },
}


@dataclass(frozen=True)
class Window:
    """Part of a subject's life, measured from an anchor (employment or ASYE start,
    or a child's birth for ``under_age``)."""

    anchor: str
    start: Period | None
    end: Period | None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    variant: str
    kind: str
    subject: str
    title: str
    # what satisfies it
    events: tuple[str, ...] = ()
    min_duration_minutes: int | None = None
    # recurring
    interval: Period | None = None
    interval_from_agreement: bool = False
    # minimum_count
    period: Period | None = None
    count: Mapping[str, int] = field(default_factory=dict)  # by employment pattern, or "*"
    # deadline
    clock: str | None = None
    within: Period | None = None
    after: Period | None = None  # supervisor_absent: how long before the clock starts
    # applicability
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    window: Window | None = None
    under_age: Period | None = None  # children under this age, unborn included

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.variant}" if self.variant else self.rule_id


#: What starts a retention period (ADR 0012).
RETENTION_TRIGGERS = frozenset(
    {"record_date", "left_employment", "date_of_birth", "case_closed", "adoption_order"}
)
#: Which child records a retention rule applies to.
RETENTION_CONDITIONS = frozenset({"always", "looked_after", "child_protection", "adopted"})
RETENTION_RECORDS = frozenset(
    {"personal_supervision", "direct_observation", "worker_file", "child_record", "access_log"}
)


@dataclass(frozen=True)
class RetentionRule:
    """How long one class of record is kept, from what, citing the rule (ADR 0012)."""

    rule_id: str
    variant: str
    record_class: str
    title: str
    trigger: str
    keep: Period
    applies_to: str = "always"
    #: Applies only when no other rule for the class does ("children in need only").
    fallback: bool = False
    #: A child who dies younger than this: kept ``keep_after_death`` from the death.
    after_death_under: Period | None = None
    keep_after_death: Period | None = None

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.variant}" if self.variant else self.rule_id


@dataclass(frozen=True)
class Uncomputed:
    rule_id: str
    status: str  # recorded-only | out of scope
    reason: str


@dataclass(frozen=True)
class Pack:
    pack_id: str
    name: str
    source: str
    due_soon: Period
    rules: tuple[Rule, ...]
    uncomputed: tuple[Uncomputed, ...] = ()
    extends: str | None = None
    retention: tuple[RetentionRule, ...] = ()
    #: A hash of the pack's content (and its parent's): stored findings made under
    #: another digest are recomputed (ADR 0010).
    digest: str = ""

    def rules_for(self, subject: str) -> list[Rule]:
        return [r for r in self.rules if r.subject == subject]


class PackError(ValidationError):
    """A pack file that cannot be used; names the file and the rule."""

    code = "POLICY_PACK"


def check_pack_id(value: str) -> str:
    """A pack id's form (whether such a pack is loaded is the library's question)."""
    if not isinstance(value, str) or not PACK_ID.match(value):
        raise ValidationError(
            "a policy pack id is 2-32 capital letters, digits, '_' or '-', e.g. DUR",
            field="policy_pack",
        )
    return value


def _err(where: str, message: str, field_name: str) -> PackError:
    return PackError(f"{where}: {message}", field=field_name)


def _period(raw: Any, where: str, name: str) -> Period:
    try:
        return Period.parse(raw, field=name)
    except ValidationError as error:
        raise _err(where, str(error), name) from None


def _strings(raw: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
        raise _err(where, f"{name} must be a non-empty list of strings", name)
    return tuple(raw)


def _rule(raw: Mapping[str, Any], where: str) -> Rule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise _err(where, f"every rule needs an id like DUR-4.7a, not {rule_id!r}", "id")
    variant = raw.get("variant", "")
    where = f"{where} rule {rule_id}{'/' + variant if variant else ''}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _err(where, f"unknown rule kind {kind!r}; known: {', '.join(sorted(KINDS))}", "kind")
    subject = raw.get("subject")
    if subject not in SUBJECTS:
        raise _err(where, "subject must be worker or child", "subject")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _err(where, "title (the rule in words) is required", "title")
    known = {
        "id", "variant", "kind", "subject", "title", "events", "min_duration_minutes",
        "interval", "interval_from_agreement", "period", "count", "clock", "within", "after",
        "when", "window", "under_age", "source",
    }  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise _err(where, f"unknown parameter(s): {', '.join(unknown)}", unknown[0])
    args: dict[str, Any] = {}
    if kind in ("recurring", "minimum_count"):
        events = _strings(raw.get("events"), where, "events")
        bad = [e for e in events if e not in COUNTABLE[subject]]
        if bad:
            allowed = ", ".join(sorted(COUNTABLE[subject]))
            raise _err(where, f"{bad[0]} cannot satisfy a {subject} rule; use {allowed}", "events")
        args["events"] = events
        minutes = raw.get("min_duration_minutes")
        if minutes is not None:
            if not isinstance(minutes, int) or not 1 <= minutes <= 480:
                raise _err(where, "min_duration_minutes must be 1..480", "min_duration_minutes")
            args["min_duration_minutes"] = minutes
    if kind == "recurring":
        args["interval"] = _period(raw.get("interval"), where, "interval")
        if args["interval"].working_days:
            raise _err(where, "a recurring interval is a calendar period", "interval")
        args["interval_from_agreement"] = bool(raw.get("interval_from_agreement", False))
    elif kind == "minimum_count":
        args["period"] = _period(raw.get("period"), where, "period")
        count = raw.get("count")
        if isinstance(count, int):
            count = {"*": count}
        if (
            not isinstance(count, dict)
            or not count
            or not all(isinstance(v, int) and v >= 1 for v in count.values())
        ):
            raise _err(where, "count must be a positive integer or one per pattern", "count")
        args["count"] = dict(count)
    elif kind == "deadline":
        clock = raw.get("clock")
        if clock not in CLOCKS:
            raise _err(
                where, f"unknown clock {clock!r}; known: {', '.join(sorted(CLOCKS))}", "clock"
            )
        if CLOCKS[clock] not in ("any", subject):
            raise _err(where, f"clock {clock} runs on a {CLOCKS[clock]}", "clock")
        args["clock"] = clock
        if clock != "action_due":
            args["within"] = _period(raw.get("within"), where, "within")
        if clock == "supervisor_absent":
            args["after"] = _period(raw.get("after"), where, "after")
        elif "after" in raw:
            raise _err(where, "after is a parameter of the supervisor_absent clock", "after")
    when = raw.get("when", {})
    if not isinstance(when, dict):
        raise _err(where, "when must be a table", "when")
    conditions: dict[str, frozenset[str]] = {}
    for key, values in when.items():
        if key not in CONDITIONS[subject]:
            allowed = ", ".join(sorted(CONDITIONS[subject]))
            raise _err(where, f"unknown condition {key!r} for a {subject}; use {allowed}", "when")
        if isinstance(values, bool):
            values = [str(values).lower()]
        strings = _strings(values, where, f"when.{key}")
        permitted = CONDITIONS[subject][key]
        if permitted is not None and not set(strings) <= permitted:
            raise _err(where, f"when.{key} takes {', '.join(sorted(permitted))}", f"when.{key}")
        conditions[key] = frozenset(strings)
    args["when"] = conditions
    window = raw.get("window")
    if window is not None:
        if subject != "worker" or not isinstance(window, dict):
            raise _err(where, "window is a table, on worker rules", "window")
        anchor = window.get("anchor", "start")
        if anchor not in ANCHORS:
            raise _err(where, f"window.anchor must be one of {sorted(ANCHORS)}", "window.anchor")
        start = _period(window["from"], where, "window.from") if "from" in window else None
        end = _period(window["until"], where, "window.until") if "until" in window else None
        args["window"] = Window(anchor, start, end)
    if raw.get("under_age") is not None:
        if subject != "child":
            raise _err(where, "under_age is a child condition", "under_age")
        args["under_age"] = _period(raw["under_age"], where, "under_age")
    return Rule(rule_id=rule_id, variant=variant, kind=kind, subject=subject, title=title, **args)


def _retention(raw: Mapping[str, Any], where: str) -> RetentionRule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise _err(where, f"every retention rule needs an id like DUR-4.9, not {rule_id!r}", "id")
    variant = str(raw.get("variant", ""))
    where = f"{where} retention {rule_id}{'/' + variant if variant else ''}"
    record_class = raw.get("record")
    if record_class not in RETENTION_RECORDS:
        raise _err(where, f"record must be one of {sorted(RETENTION_RECORDS)}", "record")
    trigger = raw.get("from")
    if trigger not in RETENTION_TRIGGERS:
        raise _err(where, f"from must be one of {sorted(RETENTION_TRIGGERS)}", "from")
    applies_to = raw.get("applies_to", "always")
    if applies_to not in RETENTION_CONDITIONS:
        raise _err(where, f"applies_to must be one of {sorted(RETENTION_CONDITIONS)}", "applies_to")
    worker_classes = {"personal_supervision", "direct_observation", "worker_file"}
    if record_class in worker_classes and trigger not in {"record_date", "left_employment"}:
        raise _err(
            where, f"a {record_class} period runs from record_date or left_employment", "from"
        )
    if record_class == "access_log" and trigger != "record_date":
        raise _err(where, "an access log's period runs from record_date (its last read)", "from")
    if record_class == "child_record" and trigger == "left_employment":
        raise _err(where, "a child's record does not run from left_employment", "from")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _err(where, "every retention rule needs a title", "title")
    fallback = raw.get("fallback", False)
    if not isinstance(fallback, bool):
        raise _err(where, "fallback is true or false", "fallback")
    under = raw.get("after_death_under")
    after_death = raw.get("keep_after_death")
    if (under is None) != (after_death is None):
        raise _err(where, "after_death_under and keep_after_death go together", "keep_after_death")
    return RetentionRule(
        rule_id=rule_id,
        variant=variant,
        record_class=str(record_class),
        title=title,
        trigger=str(trigger),
        keep=_period(raw.get("keep"), where, "keep"),
        applies_to=str(applies_to),
        fallback=fallback,
        after_death_under=_period(under, where, "after_death_under") if under else None,
        keep_after_death=_period(after_death, where, "keep_after_death") if after_death else None,
    )


def parse_pack(document: Mapping[str, Any], where: str, parent: Pack | None = None) -> Pack:
    head = document.get("pack")
    if not isinstance(head, dict):
        raise _err(where, "a pack starts with a [pack] table", "pack")
    pack_id = head.get("id")
    if not isinstance(pack_id, str) or not PACK_ID.match(pack_id):
        raise _err(where, f"pack id must look like DUR or DUR-2025, not {pack_id!r}", "pack.id")
    rules = [_rule(r, where) for r in document.get("rule", [])]
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            raise _err(where, f"duplicate rule {rule.key} (give each a distinct variant)", "id")
        seen.add(rule.key)
    inherited = [r for r in (parent.rules if parent else ()) if r.key not in seen]
    retention = [_retention(r, where) for r in document.get("retention", [])]
    own_retention = {r.key for r in retention}
    if len(own_retention) != len(retention):
        raise _err(where, "duplicate retention rule (give each a distinct variant)", "id")
    # As with rules: one of the pack's own with the same id and variant replaces its parent's.
    inherited_retention = [
        r for r in (parent.retention if parent else ()) if r.key not in own_retention
    ]
    uncomputed: list[Uncomputed] = []
    for status, table in (("recorded-only", "recorded"), ("out of scope", "out_of_scope")):
        for item in document.get(table, []):
            rule_id, reason = item.get("id"), item.get("reason")
            if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
                raise _err(where, f"[[{table}]] needs an id, not {rule_id!r}", "id")
            if not isinstance(reason, str) or not reason.strip():
                raise _err(where, f"[[{table}]] {rule_id} needs a reason", "reason")
            uncomputed.append(Uncomputed(rule_id, status, reason))
    return Pack(
        pack_id=pack_id,
        name=str(head.get("name", pack_id)),
        source=str(head.get("source", "")),
        due_soon=_period(head.get("due_soon", "P7D"), where, "pack.due_soon"),
        rules=tuple(inherited + rules),
        uncomputed=tuple(uncomputed),
        extends=parent.pack_id if parent else None,
        retention=tuple(inherited_retention + retention),
        digest=_digest(document, parent),
    )


def _digest(document: Mapping[str, Any], parent: Pack | None) -> str:
    """What the pack says, as a hash: a change to it or to the pack it extends shows."""
    canonical = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(f"{parent.digest if parent else ''}|{canonical}".encode()).hexdigest()


def pack_directories() -> list[Path]:
    extra = os.environ.get("OVERSIGHT_POLICY_PACKS", "")
    return [BUILT_IN, *[Path(p) for p in extra.split(os.pathsep) if p]]


@dataclass
class PackLibrary:
    """Every pack found in the given directories, loaded and validated."""

    packs: dict[str, Pack]

    @classmethod
    def load(cls, directories: Iterable[Path] | None = None) -> PackLibrary:
        documents: dict[str, tuple[str, dict[str, Any]]] = {}
        for directory in directories if directories is not None else pack_directories():
            for path in sorted(Path(directory).glob("*.toml")):
                try:
                    document = tomllib.loads(path.read_text(encoding="utf-8"))
                except tomllib.TOMLDecodeError as error:
                    raise _err(path.name, f"not valid TOML: {error}", "pack") from None
                pack_id = document.get("pack", {}).get("id")
                if pack_id in documents:
                    raise _err(path.name, f"pack id {pack_id!r} is defined twice", "pack.id")
                documents[str(pack_id)] = (path.name, document)
        packs: dict[str, Pack] = {}

        def build(pack_id: str, chain: tuple[str, ...]) -> Pack:
            if pack_id in packs:
                return packs[pack_id]
            if pack_id in chain:
                raise _err(pack_id, f"packs extend each other in a loop: {chain}", "extends")
            where, document = documents[pack_id]
            parent_id = document["pack"].get("extends")
            parent = None
            if parent_id is not None:
                if parent_id not in documents:
                    raise _err(where, f"extends unknown pack {parent_id!r}", "pack.extends")
                parent = build(parent_id, (*chain, pack_id))
            packs[pack_id] = parse_pack(document, where, parent)
            return packs[pack_id]

        for pack_id in documents:
            build(pack_id, ())
        return cls(packs)

    def get(self, pack_id: str) -> Pack:
        try:
            return self.packs[pack_id]
        except KeyError:
            known = ", ".join(sorted(self.packs))
            raise ValidationError(
                f"no policy pack {pack_id!r}; known: {known}", field="policy_pack"
            ) from None
