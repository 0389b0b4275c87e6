"""Team rules: obligations whose subject is a team, as a pack declares them (ADR 0024).

A ``[[team_rule]]`` says how often a team holds which kinds of group session, citing its
rule ID: Devon's "at least one Group Supervision a month" per team (DEV-7), Portsmouth's
"fortnightly programme of a team meeting, ... group supervision, ... practice development
session" (POR-3.3). It is a recurring rule (the windows and BREACHED semantics of
``domain.policy.compliance``, ADR 0009 and its addendum) over a team's life instead of a
worker's: the days it has members (``domain.policy.team_obligations``).

A pack inherits its parent's team rules; one of its own with the same id and variant
replaces one. Parsed here so that ``packs.py`` only hooks it in; this module imports
nothing of the compliance engine (which imports the packs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationError
from domain.policy.calendar import Period
from domain.team_sessions import TeamSessionKind

TEAM_RULE = "team_rule"
TEAM_RULE_KEYS = frozenset({"id", "variant", "kind", "title", "sessions", "interval"})
#: The kinds a team rule may be (the interval's: each window closes on its due day).
TEAM_RULE_KINDS = frozenset({"recurring"})


class TeamRuleError(ValidationError):
    """A ``[[team_rule]]`` that cannot be used; names the pack file, the rule and the key."""

    code = "POLICY_PACK"


@dataclass(frozen=True)
class TeamRule:
    """A team holds one of ``sessions`` at least once every ``interval``."""

    rule_id: str
    variant: str
    title: str
    sessions: tuple[TeamSessionKind, ...]
    interval: Period
    kind: str = "recurring"

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.variant}" if self.variant else self.rule_id

    @property
    def noun(self) -> str:
        """What it counts, in the policy's words ("group supervision", or "team meeting,
        group supervision or practice development session")."""
        words = [s.words for s in self.sessions]
        return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _err(where: str, message: str, key: str) -> TeamRuleError:
    return TeamRuleError(f"{where}: {message}", field=key)


def team_rule(raw: Any, where: str, rule_id_pattern: Any) -> TeamRule:
    """One ``[[team_rule]]`` table, validated; ``where`` is the pack file."""
    if not isinstance(raw, Mapping):
        raise _err(where, "[[team_rule]] must be a table", "id")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id_pattern.match(rule_id):
        raise _err(where, f"every team rule needs an id like DEV-7, not {rule_id!r}", "id")
    variant = raw.get("variant", "")
    if not isinstance(variant, str):
        raise _err(where, f"team_rule {rule_id}: variant must be text", "variant")
    where = f"{where} team_rule {rule_id}{'/' + variant if variant else ''}"
    unknown = sorted(set(raw) - TEAM_RULE_KEYS)
    if unknown:
        raise _err(
            where,
            f"unknown key(s) {', '.join(unknown)}; a team rule has "
            f"{', '.join(sorted(TEAM_RULE_KEYS))}",
            unknown[0],
        )
    kind = raw.get("kind", "recurring")
    if kind not in TEAM_RULE_KINDS:
        raise _err(where, f"a team rule is recurring, not {kind!r}", "kind")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _err(where, "title (the rule in words) is required", "title")
    sessions = raw.get("sessions")
    if not isinstance(sessions, list) or not sessions:
        raise _err(where, "sessions must name at least one kind of group session", "sessions")
    kinds: list[TeamSessionKind] = []
    for value in sessions:
        try:
            kinds.append(TeamSessionKind(value))
        except ValueError:
            known = ", ".join(k.value for k in TeamSessionKind)
            raise _err(
                where, f"unknown group session kind {value!r}; known: {known}", "sessions"
            ) from None
    if len(set(kinds)) != len(kinds):
        raise _err(where, "sessions names a kind twice", "sessions")
    code = raw.get("interval")
    if not isinstance(code, str):
        raise _err(where, f"interval must be a period code like P1M, not {code!r}", "interval")
    try:
        interval = Period.parse(code, field="interval")
    except ValidationError as error:
        raise _err(where, f"interval: {error.message}", "interval") from None
    if interval.code.endswith("WD"):
        raise _err(where, "interval is a calendar period (P1M, P2W), not working days", "interval")
    return TeamRule(str(rule_id), variant, title.strip(), tuple(kinds), interval)


def team_rules(
    document: Mapping[str, Any],
    where: str,
    inherited: Sequence[TeamRule],
    rule_id_pattern: Any,
) -> tuple[TeamRule, ...]:
    """A pack's team rules: its own (validated, each key once) and those it inherits
    that it does not replace."""
    raw = document.get(TEAM_RULE, [])
    if not isinstance(raw, list):
        raise _err(where, "team rules are an array of tables: [[team_rule]]", TEAM_RULE)
    own = [team_rule(r, where, rule_id_pattern) for r in raw]
    seen: set[str] = set()
    for rule in own:
        if rule.key in seen:
            raise _err(
                f"{where} team_rule {rule.key}",
                f"duplicate team rule {rule.key} (give each a distinct variant)",
                "variant",
            )
        seen.add(rule.key)
    return (*[r for r in inherited if r.key not in seen], *own)
