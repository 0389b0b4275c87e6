"""Key points a pack declares on census events (``[[key_point]]``, ADR 0026).

A key point needing a manager's oversight record [DEV-6] is raised by the event that is
that point. Most are events every authority records (allocation, coming into care); the
child-in-need and child protection events raise one only where the authority's own pack
says so, citing its own clause: Devon's DEV-6 (11), "when considering recommending that a
child's CP Plan ends at the first review conference", is a plan ended at its first review
conference. No other council's text names a child protection event as a key point, so no
other pack declares one, and none binds another council.

```toml
[[key_point]]
id = "DEV-6"                      # the pack's own clause
point = "11"                      # its numbering, for the reader
kind = "ending_cp_plan_at_first_review"
event = "ChildProtectionPlanEnded"
when = { at_review = 1 }          # the event's own fields, all equal
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.events import (
    ChildInNeedEpisodeClosed,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    EventType,
    InitialChildProtectionConferenceHeld,
    ReferralReceived,
    Section47EnquiryStarted,
    UnknownEvent,
    named,
)
from domain.vocabulary import OversightTriggerKind

#: The events a pack may declare a key point on, with the fields its ``when`` may test.
DECLARABLE: Mapping[EventType, frozenset[str]] = {
    ReferralReceived: frozenset({"referral_source", "primary_need", "no_further_action"}),
    Section47EnquiryStarted: frozenset({"conference_required"}),
    InitialChildProtectionConferenceHeld: frozenset(),
    ChildProtectionPlanStarted: frozenset({"category_of_abuse"}),
    ChildProtectionPlanReviewed: frozenset({"review_number"}),
    ChildProtectionPlanEnded: frozenset({"at_review"}),
    ChildInNeedEpisodeClosed: frozenset({"reason_for_closure"}),
}
KEYS = frozenset({"id", "point", "kind", "event", "when", "title"})


class KeyPointError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class KeyPoint:
    """One pack's key point: ``event`` (where its fields equal ``when``) raises ``kind``."""

    rule_id: str
    point: str
    kind: OversightTriggerKind
    event: EventType
    when: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, event: EventType, fields: Mapping[str, Any]) -> bool:
        return event is self.event and all(fields.get(k) == v for k, v in self.when.items())

    @property
    def detail(self) -> str:
        return f"{self.rule_id} ({self.point})" if self.point else self.rule_id


def parse_key_points(
    raw: Any, known_clauses: frozenset[str], inherited: tuple[KeyPoint, ...]
) -> tuple[KeyPoint, ...]:
    """The pack's ``[[key_point]]`` tables; a pack that declares none inherits its
    parent's (the base pack declares none)."""
    if raw is None:
        return inherited
    if not isinstance(raw, list):
        raise KeyPointError("key points are [[key_point]] tables", "key_point")
    found: list[KeyPoint] = []
    for index, item in enumerate(raw):
        at = f"key_point[{index}]"
        if not isinstance(item, dict):
            raise KeyPointError("a key point is a table", at)
        unknown = sorted(set(item) - KEYS)
        if unknown:
            raise KeyPointError(f"unknown parameter(s): {', '.join(unknown)}", f"{at}.{unknown[0]}")
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or rule_id not in known_clauses:
            raise KeyPointError(
                f"key point id {rule_id!r} is not one of this pack's own rules", f"{at}.id"
            )
        try:
            kind = OversightTriggerKind(str(item.get("kind")))
        except ValueError:
            allowed = ", ".join(k.value for k in OversightTriggerKind)
            raise KeyPointError(
                f"unknown key point kind {item.get('kind')!r}; known: {allowed}", f"{at}.kind"
            ) from None
        try:
            event = named(str(item.get("event")))
        except UnknownEvent as error:
            raise KeyPointError(str(error), f"{at}.event") from None
        if event not in DECLARABLE:
            allowed = ", ".join(sorted(e.__name__ for e in DECLARABLE))
            raise KeyPointError(
                f"{event.__name__} raises no declared key point; use {allowed}", f"{at}.event"
            )
        when = item.get("when", {})
        if not isinstance(when, dict):
            raise KeyPointError("when is a table of the event's fields", f"{at}.when")
        bad = sorted(set(when) - DECLARABLE[event])
        if bad:
            raise KeyPointError(
                f"{event.__name__} has no field {bad[0]!r} a key point may test", f"{at}.when"
            )
        found.append(KeyPoint(rule_id, str(item.get("point", "")), kind, event, dict(when)))
    return tuple(found)


__all__ = ["DECLARABLE", "KeyPoint", "KeyPointError", "parse_key_points"]
