"""The kinds of group session a team holds [DEV-7, POR-3.3, DUR-5] (ADR 0024).

Devon: "Every team and service are expected to facilitate at least one Group Supervision
a month" (DEV-7). Portsmouth: "each team has a fortnightly programme of a team meeting, a
fortnight later having group supervision, and then two weeks later having a practice
development session" (POR-3.3). A session's kind is recorded on each attendee's
``GroupSupervisionAttended`` (version 2; older events are group supervision).
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import ValidationError


class TeamSessionKind(StrEnum):
    GROUP_SUPERVISION = "group_supervision"
    TEAM_MEETING = "team_meeting"
    PRACTICE_DEVELOPMENT = "practice_development"

    @property
    def words(self) -> str:
        """The policies' own words for it."""
        return _WORDS[self]


_WORDS = {
    TeamSessionKind.GROUP_SUPERVISION: "group supervision",
    TeamSessionKind.TEAM_MEETING: "team meeting",
    TeamSessionKind.PRACTICE_DEVELOPMENT: "practice development session",
}


def team_session_kind(value: str, *, field: str = "session_kind") -> TeamSessionKind:
    """A session kind as written, or a ValidationError naming the field and the kinds."""
    try:
        return TeamSessionKind(value)
    except ValueError:
        known = ", ".join(k.value for k in TeamSessionKind)
        raise ValidationError(
            f"unknown group session kind {value!r}; known: {known} (DEV-7, POR-3.3)",
            field=field,
            rule="DEV-7",
        ) from None
