"""Policy packs: one authority's computable rules, as data (ADR 0008).

A pack is a TOML file. Its ``[pack]`` table names it; each ``[[rule]]`` is a rule of a
*kind* the compliance engine knows (``recurring``, ``minimum_count``, ``deadline``) with
the parameters and applicability its policy gives, citing its rule ID. ``[[recorded]]``
and ``[[out_of_scope]]`` list the digest's other rule IDs with the reason nothing is
computed for them (an out-of-scope entry may quote its source: ``says``, ``source``), so
the coverage table (docs/policy-coverage.md) is generated from the packs alone. A pack
may ``extend`` another (the SWRB national minimum): it inherits that pack's rules, and a
rule of its own with the same ID and variant replaces one.

A ``deadline`` rule names a *clock*, which the pack declares as data in a
``[clock.NAME]`` table (``domain/policy/clocks.py``: what starts it, what stops it, the
words for what is due). A pack inherits its parent's clocks and may add or replace one.
Every event a pack names is checked against the event catalogue (``domain/events.py``)
when it loads.

An authority copies a pack file, gives it a new ``id`` and changes parameters: no code
changes (``OVERSIGHT_POLICY_PACKS`` names extra directories to load packs from).
``check_pack_file`` checks one file as ``oversight policy check`` does, naming the line
of each problem; an error at load also ends with its line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from domain.errors import ValidationError
from domain.events import (
    AppraisalHeld,
    CaseSupervisionRecorded,
    DirectObservationRecorded,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionSessionHeld,
    UnknownEvent,
    named,
)
from domain.governance import (
    WRITE_RULE_PARAMETERS,
    Approval,
    AuthorityRules,
    ChainLevel,
    EscalationChain,
    WriteRule,
    WriteRuleKind,
)
from domain.policy.calendar import Period
from domain.policy.citations import CitationError, citation_problem, parse_citations
from domain.policy.clocks import (
    REGISTERS,
    SIGNATURE_FIELDS,
    SPECS,
    STARTS,
    STOPS,
    Clock,
    ClockStart,
    ClockStop,
    placeholders,
)
from domain.policy.key_points import KeyPoint, KeyPointError, parse_key_points
from domain.policy.quality import NO_QUALITY_RULES, QualityPackError, QualityRules, quality_rules
from domain.policy.teams import TeamRule, TeamRuleError, team_rules
from domain.vocabulary import DisagreementSubject, EscalationLevel, Role

BUILT_IN = Path(__file__).resolve().parent / "data"
PACK_ID = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
RULE_ID = re.compile(r"^[A-Z]+-[A-Za-z0-9.]+$")

KINDS = frozenset({"recurring", "minimum_count", "deadline"})
SUBJECTS = frozenset({"worker", "child"})

#: Events that can satisfy a recurring or counted rule, by subject.
COUNTABLE: dict[str, frozenset[EventType]] = {
    "worker": frozenset(
        {
            SupervisionSessionHeld,
            SupervisionAgreementSigned,
            SupervisionAgreementReviewed,
            GroupSupervisionAttended,
            DirectObservationRecorded,
            AppraisalHeld,
        }
    ),
    "child": frozenset({CaseSupervisionRecorded, GroupSupervisionDiscussionRecorded}),
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
    #: The clock's definition in the rule's pack (its own, or inherited).
    clock_definition: Clock | None = None
    within: Period | None = None
    after: Period | None = None  # supervisor_absent: how long before the clock starts
    # applicability
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    window: Window | None = None
    under_age: Period | None = None  # children under this age, unborn included

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.variant}" if self.variant else self.rule_id

    @property
    def event_kinds(self) -> tuple[EventType, ...]:
        """The catalogue classes of ``events`` (checked when the pack loaded)."""
        return tuple(named(e) for e in self.events)


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
    #: The source's sentence that makes the rule non-computable, and where it is.
    says: str = ""
    source: str = ""


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
    #: The clocks its deadline rules may name: its own and its parent's, by name.
    clocks: Mapping[str, Clock] = field(default_factory=dict)
    #: A hash of the pack's content (and its parent's): stored findings made under
    #: another digest are recomputed (ADR 0010).
    digest: str = ""
    #: Its roles, escalation chains and write rules, own and inherited (ADR 0022).
    authority: AuthorityRules = field(default_factory=lambda: AuthorityRules(pack_id=""))
    #: Its rules whose subject is a team, own and inherited (``teams.py``, ADR 0024).
    team_rules: tuple[TeamRule, ...] = ()
    #: Its audit tools, audit quotas and moderation, own or inherited (ADR 0023).
    quality: QualityRules = NO_QUALITY_RULES

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


def _event(raw: Any, where: str, name: str) -> EventType:
    """The catalogue class an event name in a pack denotes."""
    if not isinstance(raw, str):
        raise _err(where, f"{name} must be an event name, not {raw!r}", name)
    try:
        return named(raw)
    except UnknownEvent:
        raise _err(
            where, f"unknown event {raw!r}: not in the event catalogue (domain/events.py)", name
        ) from None


def _events(raw: Any, where: str, name: str) -> tuple[EventType, ...]:
    return tuple(_event(e, where, name) for e in _strings(raw, where, name))


def _rule(raw: Mapping[str, Any], where: str, clocks: Mapping[str, Clock]) -> Rule:
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
    if "events" in raw or kind in ("recurring", "minimum_count"):
        kinds = _events(raw.get("events"), where, "events")
        bad = [e for e in kinds if e not in COUNTABLE[subject]] if kind != "deadline" else []
        if bad:
            allowed = ", ".join(sorted(e.__name__ for e in COUNTABLE[subject]))
            raise _err(
                where, f"{bad[0].__name__} cannot satisfy a {subject} rule; use {allowed}", "events"
            )
        args["events"] = tuple(e.__name__ for e in kinds)
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
        definition = clocks.get(clock) if isinstance(clock, str) else None
        if definition is None:
            raise _unknown_clock(clock, clocks, where)
        if definition.subject not in ("any", subject):
            raise _err(where, f"clock {clock} runs on a {definition.subject}", "clock")
        args["clock"] = clock
        if definition.register is None:
            args["within"] = _period(raw.get("within"), where, "within")
        if _needs_after(definition) or "after" in raw:
            args["after"] = _period(raw.get("after"), where, "after")
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
    rule = Rule(rule_id=rule_id, variant=variant, kind=kind, subject=subject, title=title, **args)
    return _bind(rule, clocks, where) if kind == "deadline" else rule


def _unknown_clock(name: Any, clocks: Mapping[str, Clock], where: str) -> PackError:
    known = (
        f"known: {', '.join(sorted(clocks))}"
        if clocks
        else "the pack has none (declare [clock.NAME], or extend a pack that does)"
    )
    return _err(where, f"unknown clock {name!r}; {known}", "clock")


def _needs_after(clock: Clock) -> bool:
    return clock.start is not None and STARTS[clock.start.match].needs_after


def _bind(rule: Rule, clocks: Mapping[str, Clock], where: str) -> Rule:
    """The deadline rule with its clock's definition, checked against it (again, for a
    rule inherited by a pack that replaces its clock)."""
    definition = clocks.get(str(rule.clock))
    if definition is None:
        raise _unknown_clock(rule.clock, clocks, where)
    if definition.subject not in ("any", rule.subject):
        raise _err(where, f"clock {rule.clock} runs on a {definition.subject}", "clock")
    if definition.register is None and rule.within is None:
        raise _err(where, f"clock {rule.clock} needs within (how long it may run)", "within")
    if _needs_after(definition) and rule.after is None:
        raise _err(where, f"clock {rule.clock} needs after (how long before it starts)", "after")
    if rule.after is not None and not _needs_after(definition):
        starts = sorted(name for name, m in STARTS.items() if m.needs_after)
        raise _err(
            where,
            f"after is a parameter of clocks started by {', '.join(starts)}, not of {rule.clock}",
            "after",
        )
    return replace(rule, clock_definition=definition)


# -- clocks (domain/policy/clocks.py) --------------------------------------------------------

CLOCK_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
CLOCK_KEYS = frozenset({"subject", "item", "start", "stop", "what", "register"})
CLOCK_SUBJECTS = frozenset({*SUBJECTS, "any"})


def _clocks(document: Mapping[str, Any], where: str) -> dict[str, Clock]:
    """The pack's own ``[clock.NAME]`` tables."""
    tables = document.get("clock", {})
    if not isinstance(tables, dict):
        raise _err(where, "clocks are tables, [clock.NAME]", "clock")
    return {name: _clock(str(name), raw, f"{where} clock {name}") for name, raw in tables.items()}


def _params(raw: Mapping[str, Any], allowed: Iterable[str], where: str, at: str) -> None:
    unknown = sorted(set(raw) - {"match", *allowed})
    if unknown:
        raise _err(where, f"unknown parameter(s): {', '.join(unknown)}", f"{at}.{unknown[0]}")


def _required(raw: Mapping[str, Any], required: Iterable[str], where: str, at: str) -> None:
    missing = sorted(set(required) - set(raw))
    if missing:
        match = raw.get("match")
        raise _err(where, f"{match} needs {', '.join(missing)}", f"{at}.{missing[0]}")


def fields_of(event: EventType) -> frozenset[str]:
    """The typed fields a catalogue event records."""
    return frozenset(
        name
        for cls in event.__mro__
        if cls.__module__ == event.__module__
        for name in vars(cls).get("__annotations__", {})
    )


def _field(events: Iterable[EventType | None], raw: Any, where: str, at: str) -> str:
    """A field name that each of ``events`` (None: none) records."""
    if not isinstance(raw, str):
        raise _err(where, f"{at} must be a field name, not {raw!r}", at)
    for event in events:
        if event is not None and raw not in fields_of(event):
            raise _err(where, f"{event.__name__} has no field {raw!r}", at)
    return raw


def _clock(name: str, raw: Any, where: str) -> Clock:
    at = f"clock.{name}"
    if not CLOCK_NAME.match(name):
        raise _err(where, "a clock's name is lower-case letters, digits and '_'", at)
    if not isinstance(raw, dict):
        raise _err(where, "a clock is a table", at)
    unknown = sorted(set(raw) - CLOCK_KEYS)
    if unknown:
        raise _err(where, f"unknown parameter(s): {', '.join(unknown)}", f"{at}.{unknown[0]}")
    subject = raw.get("subject")
    if subject not in CLOCK_SUBJECTS:
        raise _err(where, "subject must be worker, child or any", f"{at}.subject")
    register = raw.get("register")
    if register is not None:
        if register not in REGISTERS:
            known = ", ".join(sorted(REGISTERS))
            raise _err(where, f"unknown register {register!r}; known: {known}", f"{at}.register")
        extra = sorted(set(raw) - {"subject", "register"})
        if extra:
            raise _err(where, f"a register keeps the clock: no {extra[0]}", f"{at}.{extra[0]}")
        return Clock(name, subject, register=register)
    start = _clock_start(raw.get("start"), where, f"{at}.start")
    matcher = STARTS[start.match]
    item: str | None = None
    if matcher.needs_item:
        if "item" not in raw:
            message = "item (the field naming what the clock is about) is required"
            raise _err(where, message, f"{at}.item")
        item = _field((start.event, start.opened_by), raw["item"], where, f"{at}.item")
    elif "item" in raw:
        raise _err(where, f"start {start.match} gives the item itself: no item", f"{at}.item")
    stop = _clock_stop(raw.get("stop"), where, f"{at}.stop")
    what = raw.get("what")
    if not isinstance(what, str) or not what.strip():
        raise _err(where, "what (what is due, in words) is required", f"{at}.what")
    try:
        named_in_what = placeholders(what)
    except ValueError as error:
        raise _err(where, f"what is not a template: {error}", f"{at}.what") from None
    nameable = {"item", *matcher.provides, *(fields_of(start.event) if start.event else ())}
    for placeholder, spec in named_in_what:
        if placeholder not in nameable:
            raise _err(
                where,
                f"what names {{{placeholder}}}: use item or a field of the starting event "
                f"({', '.join(sorted(nameable))})",
                f"{at}.what",
            )
        if spec not in SPECS:
            message = f"what's {{{placeholder}:{spec}}}: the only spec is words"
            raise _err(where, message, f"{at}.what")
    return Clock(name, subject, item=item, start=start, stop=stop, what=what)


def _clock_start(raw: Any, where: str, at: str) -> ClockStart:
    if not isinstance(raw, dict):
        raise _err(where, "start (what starts the clock) is a table", at)
    match = raw.get("match")
    matcher = STARTS.get(match) if isinstance(match, str) else None
    if matcher is None:
        known = ", ".join(sorted(STARTS))
        raise _err(where, f"unknown start matcher {match!r}; known: {known}", f"{at}.match")
    _params(raw, matcher.required | matcher.optional, where, at)
    _required(raw, matcher.required, where, at)
    event = _event(raw["event"], where, f"{at}.event") if "event" in raw else None
    opened_by = _event(raw["opened_by"], where, f"{at}.opened_by") if "opened_by" in raw else None
    # The filters read the event that opened the item, for a closing event.
    filtered = (opened_by or event,)
    conditions = raw.get("where", {})
    if not isinstance(conditions, dict):
        raise _err(where, "where is a table of fields and values", f"{at}.where")
    for name, value in conditions.items():
        _field(filtered, name, where, f"{at}.where.{name}")
        if not isinstance(value, str | int | bool):
            message = f"where.{name} compares with a string, number or boolean"
            raise _err(where, message, f"{at}.where.{name}")
    present = _strings(raw["present"], where, f"{at}.present") if "present" in raw else ()
    for name in present:
        _field(filtered, name, where, f"{at}.present")
    on = _field((event,), raw["on"], where, f"{at}.on") if "on" in raw else None
    return ClockStart(str(match), event, opened_by, dict(conditions), present, on)


def _clock_stop(raw: Any, where: str, at: str) -> ClockStop:
    if not isinstance(raw, dict):
        raise _err(where, "stop (what stops the clock) is a table", at)
    match = raw.get("match")
    matcher = STOPS.get(match) if isinstance(match, str) else None
    if matcher is None:
        known = ", ".join(sorted(STOPS))
        raise _err(where, f"unknown stop matcher {match!r}; known: {known}", f"{at}.match")
    _params(raw, matcher.required | matcher.optional, where, at)
    _required(raw, matcher.required, where, at)
    one: dict[str, EventType] = {
        name: _event(raw[name], where, f"{at}.{name}")
        for name in ("event", "record", "signed", "voided")
        if name in raw
    }
    events = _events(raw["events"], where, f"{at}.events") if "events" in raw else ()
    for name, fields in SIGNATURE_FIELDS.items():
        for needed in fields if name in one else ():
            _field([one[name]], needed, where, f"{at}.{name}")
    keyed = (one.get("event") or one.get("record"),)
    key = _field(keyed, raw["key"], where, f"{at}.key") if "key" in raw else None
    other_than = (
        _field(events, raw["other_than"], where, f"{at}.other_than")
        if "other_than" in raw
        else None
    )
    parties = _strings(raw["parties"], where, f"{at}.parties") if "parties" in raw else ()
    return ClockStop(
        str(match),
        event=one.get("event"),
        events=events,
        key=key,
        other_than=other_than,
        record=one.get("record"),
        signed=one.get("signed"),
        voided=one.get("voided"),
        parties=parties,
    )


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
    own_clocks = _clocks(document, where)
    clocks = {**(parent.clocks if parent else {}), **own_clocks}
    rules = [_rule(r, where, clocks) for r in document.get("rule", [])]
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            raise _err(where, f"duplicate rule {rule.key} (give each a distinct variant)", "id")
        seen.add(rule.key)
    # A clock the pack replaces applies to the rules it inherits too.
    inherited = [
        _bind(r, clocks, f"{where} rule {r.key} (from {parent.pack_id})")
        if r.kind == "deadline" and r.clock in own_clocks and parent is not None
        else r
        for r in (parent.rules if parent else ())
        if r.key not in seen
    ]
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
            says, source = item.get("says", ""), item.get("source", "")
            if not isinstance(says, str) or not isinstance(source, str):
                raise _err(where, f"[[{table}]] {rule_id}: says and source are text", "says")
            uncomputed.append(Uncomputed(rule_id, status, reason, says, source))
    return Pack(
        pack_id=pack_id,
        name=str(head.get("name", pack_id)),
        source=str(head.get("source", "")),
        due_soon=_period(head.get("due_soon", "P7D"), where, "pack.due_soon"),
        rules=tuple(inherited + rules),
        uncomputed=tuple(uncomputed),
        extends=parent.pack_id if parent else None,
        retention=tuple(inherited_retention + retention),
        clocks=clocks,
        digest=_digest(document, parent),
        authority=authority_rules(document, where, pack_id, parent),
        team_rules=_team_rules(document, where, parent),
        quality=_quality(document, where, pack_id, parent),
    )


def _team_rules(
    document: Mapping[str, Any], where: str, parent: Pack | None
) -> tuple[TeamRule, ...]:
    """The pack's ``[[team_rule]]`` tables (``teams.py``), refused as a PackError."""
    try:
        return team_rules(document, where, parent.team_rules if parent else (), RULE_ID)
    except TeamRuleError as error:
        raise PackError(error.message, field=error.field) from None


def _quality(
    document: Mapping[str, Any], where: str, pack_id: str, parent: Pack | None
) -> QualityRules:
    """The pack's ``[audit_tool.*]``, ``[[audit_quota]]``, ``[audit_moderation]`` (ADR 0023)."""
    known = (_known_clauses(document, parent), pack_id.split("-")[0])
    try:
        return quality_rules(document, where, known, parent.quality if parent else None)
    except QualityPackError as error:
        raise PackError(error.message, field=error.field) from None


# -- roles, escalation chains and write rules (domain/governance.py, ADR 0022) ---------------

CHAIN_KEYS = frozenset({"id", "about", "level"})
LEVEL_KEYS = frozenset({"level", "name", "roles", "id", "within"})
WRITE_RULE_KEYS = frozenset({"id", "kind", "title", "source"})


def _known_clauses(document: Mapping[str, Any], parent: Pack | None) -> frozenset[str]:
    """The rule IDs a pack accounts for (its rules, recorded, out-of-scope and retention
    entries, and its parent's): the only clauses its chains and write rules may cite."""
    own = {
        str(item.get("id"))
        for table in ("rule", "recorded", "out_of_scope", "retention", "team_rule")
        for item in document.get(table, [])
        if isinstance(item, dict)
    }
    if parent is not None:
        own |= {r.rule_id for r in parent.rules}
        own |= {u.rule_id for u in parent.uncomputed}
        own |= {r.rule_id for r in parent.retention}
        own |= {r.rule_id for r in parent.team_rules}
        own |= parent.quality.clauses
        own |= parent.authority.clauses
    return frozenset(own)


def _audit_clauses(document: Mapping[str, Any], pack_id: str) -> frozenset[str]:
    """The clauses of the pack's own audit tables (ADR 0023) that are its authority's own
    (``quality.py`` refuses any other at load): what its citations may also cite."""
    tools = document.get("audit_tool", {})
    tables = [
        *(tools.values() if isinstance(tools, dict) else ()),
        *(document.get("audit_quota", []) if isinstance(document.get("audit_quota"), list) else ()),
        document.get("audit_moderation"),
    ]
    prefix = pack_id.split("-")[0]
    return frozenset(
        str(table.get("id"))
        for table in tables
        if isinstance(table, dict) and str(table.get("id")).split("-")[0] == prefix
    )


def accounted_clauses(pack: Pack, library: PackLibrary) -> frozenset[str]:
    """Every clause ``pack`` accounts for, with those of the packs it extends (found in
    ``library``): the only IDs anything of its authority may cite (issue 19 item 3)."""
    parent = library.packs.get(pack.extends) if pack.extends else None
    return frozenset(
        {r.rule_id for r in pack.rules}
        | {u.rule_id for u in pack.uncomputed}
        | {r.rule_id for r in pack.retention}
        | {t.rule_id for t in pack.team_rules}
        | pack.quality.clauses
        | pack.authority.clauses
        | {c for clauses in pack.authority.citations.values() for c in clauses}
    ) | (accounted_clauses(parent, library) if parent is not None else frozenset())


def _clause(raw: Any, where: str, at: str, known: frozenset[str]) -> str:
    """A rule ID the pack accounts for: a chain or write rule cites no unknown clause."""
    if not isinstance(raw, str) or not RULE_ID.match(raw):
        raise _err(where, f"{at} must be a rule ID like DUR-4.10, not {raw!r}", at)
    if raw not in known:
        raise _err(
            where,
            f"{at} cites {raw}, a rule ID this pack does not account for (declare it as a "
            "[[rule]], [[recorded]] or [[out_of_scope]] entry, or in the pack it extends)",
            at,
        )
    return raw


def _role(raw: Any, declared: Mapping[Role, str], where: str, at: str) -> Role:
    """A role the pack (or one it extends) declares in ``[roles]``."""
    role = next((r for r in declared if r.value == raw), None)
    if role is None:
        declared_names = ", ".join(sorted(r.value for r in declared)) or "none"
        message = f"unknown role {raw!r}: declare it in [roles] (declared: {declared_names})"
        raise _err(where, message, at)
    return role


def _roles_of(raw: Any, declared: Mapping[Role, str], where: str, at: str) -> frozenset[Role]:
    return frozenset(_role(r, declared, where, at) for r in _strings(raw, where, at))


def _declared_roles(document: Mapping[str, Any], where: str) -> dict[Role, str]:
    """``[roles]``: each role the policy names (a value of the one role vocabulary, as
    stored), with what the policy calls it."""
    table = document.get("roles", {})
    if not isinstance(table, dict):
        raise _err(where, "roles is a table: role = what the policy calls it", "roles")
    roles: dict[Role, str] = {}
    for name, words in table.items():
        try:
            role = Role(name)
        except ValueError:
            every = ", ".join(r.value for r in Role)
            raise _err(where, f"unknown role {name!r}; known: {every}", f"roles.{name}") from None
        if not isinstance(words, str) or not words.strip():
            raise _err(where, "a role's value is what the policy calls it", f"roles.{name}")
        roles[role] = words
    return roles


def _chain(
    raw: Any, where: str, at: str, roles: Mapping[Role, str], known: frozenset[str]
) -> EscalationChain:
    """One ``[[chain]]``: its clause, what it is about, and its levels numbered from 1
    with no gap, each held by declared roles."""
    if not isinstance(raw, dict):
        raise _err(where, "a chain is a table, [[chain]]", at)
    unknown = sorted(set(raw) - CHAIN_KEYS)
    if unknown:
        raise _err(where, f"unknown parameter(s): {', '.join(unknown)}", f"{at}.{unknown[0]}")
    rule_id = _clause(raw.get("id"), where, f"{at}.id", known)
    about: set[DisagreementSubject] = set()
    for value in _strings(raw.get("about"), where, f"{at}.about"):
        try:
            about.add(DisagreementSubject(value))
        except ValueError:
            allowed = ", ".join(s.value for s in DisagreementSubject)
            message = f"a chain is about {allowed}, not {value!r}"
            raise _err(where, message, f"{at}.about") from None
    levels_raw = raw.get("level")
    if not isinstance(levels_raw, list) or not levels_raw:
        raise _err(where, "a chain has at least one [[chain.level]]", f"{at}.level")
    levels: list[ChainLevel] = []
    for index, level in enumerate(levels_raw):
        levels.append(_chain_level(level, where, f"{at}.level[{index}]", roles, known))
    numbers = [lvl.number for lvl in levels]
    for expected, number in enumerate(numbers, start=1):
        if number != expected:
            message = (
                f"the chain has a gap: its levels are {numbers}, no level {expected}"
                if number > expected
                else f"the chain's levels are {numbers}: level {number} twice, or out of order"
            )
            raise _err(where, message, f"{at}.level[{expected - 1}].level")
    names = [lvl.level for lvl in levels]
    if len(set(names)) != len(names):
        raise _err(where, "a chain names each level once", f"{at}.level")
    return EscalationChain(rule_id=rule_id, about=frozenset(about), levels=tuple(levels))


def _chain_level(
    raw: Any, where: str, at: str, roles: Mapping[Role, str], known: frozenset[str]
) -> ChainLevel:
    if not isinstance(raw, dict):
        raise _err(where, "a chain level is a table, [[chain.level]]", at)
    unknown = sorted(set(raw) - LEVEL_KEYS)
    if unknown:
        raise _err(where, f"unknown parameter(s): {', '.join(unknown)}", f"{at}.{unknown[0]}")
    number = raw.get("level")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise _err(where, "level is the level's place in the chain: 1, 2, ...", f"{at}.level")
    name = raw.get("name")
    try:
        level = EscalationLevel(str(name))
    except ValueError:
        allowed = ", ".join(lvl.value for lvl in EscalationLevel)
        raise _err(where, f"unknown level name {name!r}; known: {allowed}", f"{at}.name") from None
    within = _period(raw["within"], where, f"{at}.within") if "within" in raw else None
    return ChainLevel(
        number=number,
        level=level,
        roles=_roles_of(raw.get("roles"), roles, where, f"{at}.roles"),
        rule_id=_clause(raw.get("id"), where, f"{at}.id", known),
        within=within,
    )


def _write_rule(
    raw: Any, where: str, at: str, roles: Mapping[Role, str], known: frozenset[str]
) -> WriteRule:
    """One ``[[write_rule]]``: a kind the code interprets, with that kind's parameters."""
    if not isinstance(raw, dict):
        raise _err(where, "a write rule is a table, [[write_rule]]", at)
    rule_id = _clause(raw.get("id"), where, f"{at}.id", known)
    try:
        kind = WriteRuleKind(str(raw.get("kind")))
    except ValueError:
        allowed = ", ".join(k.value for k in WriteRuleKind)
        raise _err(
            where, f"unknown write rule kind {raw.get('kind')!r}; known: {allowed}", f"{at}.kind"
        ) from None
    unknown = sorted(set(raw) - WRITE_RULE_KEYS - WRITE_RULE_PARAMETERS[kind])
    if unknown:
        raise _err(where, f"{kind.value} takes no {', '.join(unknown)}", f"{at}.{unknown[0]}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _err(where, "title (the rule in words) is required", f"{at}.title")
    approves: Approval | None = None
    granted: frozenset[Role] = frozenset()
    if kind is WriteRuleKind.APPROVED_BY:
        try:
            approves = Approval(str(raw.get("approves")))
        except ValueError:
            allowed = ", ".join(a.value for a in Approval)
            raise _err(where, f"approves is one of {allowed}", f"{at}.approves") from None
        granted = _roles_of(raw.get("roles"), roles, where, f"{at}.roles")
    return WriteRule(rule_id=rule_id, kind=kind, title=title, approves=approves, roles=granted)


def authority_rules(
    document: Mapping[str, Any], where: str, pack_id: str, parent: Pack | None
) -> AuthorityRules:
    """The pack's ``[roles]``, ``[[chain]]`` and ``[[write_rule]]``, over its parent's: a
    chain of its own replaces the parent's for what it is about; a write rule of its own
    replaces the parent's of the same kind (and act)."""
    inherited = parent.authority if parent is not None else AuthorityRules(pack_id="")
    roles = {**inherited.roles, **_declared_roles(document, where)}
    known = _known_clauses(document, parent) | _audit_clauses(document, pack_id)
    raw_chains = document.get("chain", [])
    if not isinstance(raw_chains, list):
        raise _err(where, "chains are [[chain]] tables", "chain")
    chains = [_chain(raw, where, f"chain[{i}]", roles, known) for i, raw in enumerate(raw_chains)]
    covered: set[DisagreementSubject] = set()
    for index, chain in enumerate(chains):
        twice = sorted(s.value for s in chain.about & covered)
        if twice:
            raise _err(where, f"two chains are about {twice[0]}", f"chain[{index}].about")
        covered |= chain.about
    kept = [replace(c, about=c.about - covered) for c in inherited.chains if c.about - covered]
    raw_rules = document.get("write_rule", [])
    if not isinstance(raw_rules, list):
        raise _err(where, "write rules are [[write_rule]] tables", "write_rule")
    own = [
        _write_rule(raw, where, f"write_rule[{i}]", roles, known) for i, raw in enumerate(raw_rules)
    ]
    keys = [(r.kind, r.approves) for r in own]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            what = key[0].value + (f" ({key[1].value})" if key[1] else "")
            raise _err(where, f"two write rules of kind {what}", f"write_rule[{index}].kind")
    kept_rules = [r for r in inherited.write_rules if (r.kind, r.approves) not in keys]
    return AuthorityRules(
        pack_id=pack_id,
        clauses=frozenset(
            [*(c.rule_id for c in chains), *(lvl.rule_id for c in chains for lvl in c.levels)]
            + [r.rule_id for r in own]
        )
        | inherited.clauses,
        roles=roles,
        chains=(*kept, *chains),
        write_rules=(*kept_rules, *own),
        citations=_citations(document, where, known, inherited),
        key_points=_key_points(document, where, known, inherited),
    )


def _key_points(
    document: Mapping[str, Any], where: str, known: frozenset[str], inherited: AuthorityRules
) -> tuple[KeyPoint, ...]:
    """The pack's ``[[key_point]]`` tables (``domain.policy.key_points``, ADR 0026)."""
    try:
        return parse_key_points(document.get("key_point"), known, inherited.key_points)
    except KeyPointError as error:
        raise _err(where, error.message, error.field) from None


def _citations(
    document: Mapping[str, Any], where: str, known: frozenset[str], inherited: AuthorityRules
) -> dict[str, tuple[str, ...]]:
    """The pack's ``[citations]`` over its parent's (``domain.policy.citations``)."""
    try:
        return parse_citations(document.get("citations"), known, inherited.citations)
    except CitationError as error:
        raise _err(where, error.message, error.field or "citations") from None


def _digest(document: Mapping[str, Any], parent: Pack | None) -> str:
    """What the pack says, as a hash: a change to it or to the pack it extends shows."""
    # Its citations are left out: they are read as an entry is shown, and change no
    # finding, so a change to them leaves every computed row current.
    computed = {k: v for k, v in document.items() if k != "citations"}
    canonical = json.dumps(computed, sort_keys=True, default=str)
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
        paths: dict[str, Path] = {}
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
                paths[str(pack_id)] = path
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
            try:
                packs[pack_id] = parse_pack(document, where, parent)
            except PackError as error:  # refused at load with the file, line and reason
                raise with_line(paths[pack_id], error) from None
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


def _built_in_clocks() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(BUILT_IN.glob("*.toml")):
        tables = tomllib.loads(path.read_text(encoding="utf-8")).get("clock", {})
        found.update({str(name): str(table.get("subject")) for name, table in tables.items()})
    return found


#: Every clock the built-in packs define (the national minimum's, which they all inherit),
#: with the subject it runs on: for listing them. What a rule's clock does is its pack's
#: (``Pack.clocks``, ``Rule.clock_definition``).
CLOCKS: Mapping[str, str] = _built_in_clocks()


# -- checking one pack file: what is wrong, and on which line (`oversight policy check`) ------
#
# Kept apart from the parsing above: the parser says what is wrong and where in the
# pack's structure (``where`` and the error's ``field``); these functions find the line of
# the file that says it, and run the checks a loader does not need (every problem, not
# only the first). tomllib keeps no line numbers for values, so the line is found in the
# text: the n-th ``[[rule]]`` header is the document's n-th rule, and so on.

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")
_AT_LINE = re.compile(r"at line (\d+)")
_IN_RULE = re.compile(r" (team_rule|rule|retention) ([A-Z]+-[A-Za-z0-9.]+)(?:/(\S+))?")
_IN_LIST = re.compile(r"\[\[(recorded|out_of_scope)\]\] ([A-Z]+-[A-Za-z0-9.]+)")


@dataclass(frozen=True)
class PackProblem:
    """One reason a pack file is refused, with the line that gives it (None: the file)."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.reason}"


@dataclass(frozen=True)
class _Table:
    name: str  # "rule", "clock.record_signed.stop", "pack"
    array: bool  # [[name]]
    line: int  # 1-based line of its header
    keys: Mapping[str, int]  # key -> line, for the keys written in the table


_INDEXED = re.compile(r"^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?")


@dataclass(frozen=True)
class PackText:
    """A pack file's text, parsed document and tables, for the checks and line lookups."""

    path: str
    text: str
    document: Mapping[str, Any]
    tables: tuple[_Table, ...]

    @classmethod
    def read(cls, path: Path) -> PackText:
        """The file parsed; a TOML syntax error is a PackError naming its line."""
        text = path.read_text(encoding="utf-8")
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            found = _AT_LINE.search(str(error))
            line = int(found.group(1)) if found else None
            raise PackFileError(
                [PackProblem(str(path), line, f"not valid TOML: {error}")]
            ) from None
        return cls(str(path), text, document, _tables(text))

    def table(self, name: str, index: int = 0) -> _Table | None:
        """The ``index``-th table of that name (for an array of tables), if written so."""
        found = [t for t in self.tables if t.name == name]
        return found[index] if index < len(found) else None

    def line_of(self, name: str, index: int = 0, key: str | None = None) -> int | None:
        """The line of a key in a table (the table's header when the key is not there)."""
        table = self.table(name, index)
        if table is None:
            return None
        if key is not None and key in table.keys:
            return table.keys[key]
        return table.line

    def locate(self, error: PackError) -> int | None:
        """The line a parser error is about, from where it says it is and its field."""
        message = error.message
        field_name = error.field or ""
        inside = _IN_RULE.search(message)
        if inside:
            array = inside.group(1)
            rule_id, variant = inside.group(2), inside.group(3) or ""
            for index, raw in enumerate(self.document.get(array, [])):
                if not isinstance(raw, dict):
                    continue
                if raw.get("id") == rule_id and str(raw.get("variant", "")) == variant:
                    return self.line_of(array, index, field_name.split(".")[0])
        if field_name.startswith("clock."):
            parts = field_name.split(".")
            # The deepest table written for the field ([clock.x.stop]), then its key.
            for depth in range(len(parts), 1, -1):
                name = ".".join(parts[:depth])
                if self.table(name) is not None:
                    key = parts[depth] if depth < len(parts) else None
                    return self.line_of(name, 0, key)
        if field_name.startswith("pack."):
            return self.line_of("pack", 0, field_name.split(".", 1)[1])
        listed = _IN_LIST.search(message)
        if listed:  # [[recorded]] INV-2.2 needs a reason
            for index, raw in enumerate(self.document.get(listed.group(1), [])):
                if isinstance(raw, dict) and raw.get("id") == listed.group(2):
                    return self.line_of(listed.group(1), index, field_name or None)
        if field_name == "id":  # an entry without a proper id: the first such
            for array in ("rule", "retention", "recorded", "out_of_scope"):
                for index, raw in enumerate(self.document.get(array, [])):
                    rule_id = raw.get("id") if isinstance(raw, dict) else None
                    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
                        return self.line_of(array, index, "id")
        if field_name.startswith("citations."):  # the name's own line in [citations]
            return self.line_of("citations", 0, field_name.split(".", 1)[1])
        # A table of an array by index, or the deepest table written for a dotted field
        # (``audit_quota[1].period``, ``audit_tool.case_file.items``), then its key.
        indexed = _INDEXED.match(field_name)
        if indexed:
            key = indexed.group(3)
            return self.line_of(indexed.group(1), int(indexed.group(2)), key)
        parts = field_name.split(".")
        for depth in range(len(parts), 1, -1):
            name = ".".join(parts[:depth])
            if self.table(name) is not None:
                return self.line_of(name, 0, parts[depth] if depth < len(parts) else None)
        first = field_name.split(".")[0]
        return self.line_of(first) if first else None


def _tables(text: str) -> tuple[_Table, ...]:
    tables: list[_Table] = []
    name, array, start = "", False, 1
    keys: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            if name:
                tables.append(_Table(name, array, start, keys))
            name = header.group(2).replace('"', "").replace(" ", "")
            array, start, keys = header.group(1) == "[[", number, {}
            continue
        key = _KEY.match(line)
        if key and name:
            keys.setdefault(key.group(1).strip("\"'"), number)
    if name:
        tables.append(_Table(name, array, start, keys))
    return tuple(tables)


class PackFileError(PackError):
    """A pack file refused, with every problem found in it (file, line, reason)."""

    def __init__(self, problems: list[PackProblem], field: str | None = "pack") -> None:
        super().__init__("; ".join(str(p) for p in problems), field=field)
        self.problems = problems


def check_unique_rule_ids(pack: PackText) -> list[PackProblem]:
    """Each rule (id and variant), retention rule and recorded/out-of-scope entry once."""
    problems: list[PackProblem] = []
    for array in ("rule", "retention", "team_rule", "recorded", "out_of_scope"):
        seen: dict[str, int] = {}
        for index, raw in enumerate(pack.document.get(array, [])):
            if not isinstance(raw, dict):
                continue
            variant = str(raw.get("variant", ""))
            key = f"{raw.get('id')}{'/' + variant if variant else ''}"
            line = pack.line_of(array, index, "id")
            if key in seen:
                problems.append(
                    PackProblem(
                        pack.path,
                        line,
                        f"duplicate [[{array}]] {key} (first at line {seen[key]}): "
                        "give each a distinct id or variant",
                    )
                )
            else:
                seen[key] = line or 0
    accounted = {
        raw.get("id")
        for array in ("recorded", "out_of_scope")
        for raw in pack.document.get(array, [])
        if isinstance(raw, dict)
    }
    computed = [("rule", i, r) for i, r in enumerate(pack.document.get("rule", []))] + [
        ("team_rule", i, r) for i, r in enumerate(pack.document.get("team_rule", []))
    ]
    for array, index, raw in computed:
        if isinstance(raw, dict) and raw.get("id") in accounted:
            problems.append(
                PackProblem(
                    pack.path,
                    pack.line_of(array, index, "id"),
                    f"{raw.get('id')} is computed here and also listed as not computed",
                )
            )
    return problems


def check_citations(pack: PackText) -> list[PackProblem]:
    """Each ``[citations]`` entry names something code cites and lists clause IDs; whether
    each clause is the pack's own (or its parent's) is checked as it loads."""
    raw = pack.document.get("citations")
    if raw is None:
        return []
    if not isinstance(raw, dict):
        reason = "[citations] is a table of name = [clauses]"
        return [PackProblem(pack.path, pack.line_of("citations"), reason)]
    return [
        PackProblem(pack.path, pack.line_of("citations", 0, name), f"citations.{name} {problem}")
        for name, clauses in raw.items()
        if (problem := citation_problem(name, clauses, None)) is not None
    ]


#: The checks `oversight policy check` runs on a pack's text before parsing it, each
#: returning every problem it finds. Checks of escalation chains (closed, no gap) and
#: roles (every role referenced) plug in here as the packs gain them.
PACK_CHECKS: list[Callable[[PackText], list[PackProblem]]] = [
    check_unique_rule_ids,
    check_citations,
]


def check_pack_file(path: Path, library: PackLibrary | None = None) -> Pack:
    """The pack a file defines, checked as `oversight policy check` checks it: the
    PACK_CHECKS, then the loader's own validation (schema, clocks' events in the
    catalogue, the pack it extends) against ``library`` (default: the packs loaded from
    the configured directories). Raises PackFileError listing each problem's line."""
    pack_text = PackText.read(path)
    problems = [problem for check in PACK_CHECKS for problem in check(pack_text)]
    if problems:
        raise PackFileError(problems)
    head = pack_text.document.get("pack")
    parent: Pack | None = None
    if isinstance(head, dict) and head.get("extends") is not None:
        known = library if library is not None else PackLibrary.load()
        parent = known.packs.get(str(head["extends"]))
        if parent is None:
            message = f"extends unknown pack {head['extends']!r}; known: {', '.join(known.packs)}"
            line = pack_text.line_of("pack", 0, "extends")
            raise PackFileError([PackProblem(str(path), line, message)])
    try:
        return parse_pack(pack_text.document, str(path), parent)
    except PackError as error:
        raise located(pack_text, error) from None


def with_line(path: Path, error: PackError) -> PackError:
    """A loader's error, its message ending with the line of the file that gives it."""
    line = PackText.read(path).locate(error)
    at = f"line {line} of {path}" if line else str(path)
    return PackError(f"{error.message} (at {at})", field=error.field, rule=error.rule)


def located(pack_text: PackText, error: PackError) -> PackFileError:
    """A parser's error as a problem on the line of the file that gives it."""
    reason = error.message.removeprefix(pack_text.path).lstrip(" :")
    problem = PackProblem(pack_text.path, pack_text.locate(error), reason)
    return PackFileError([problem], field=error.field)
