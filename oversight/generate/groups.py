"""A generated authority's group sessions, where its pack has team rules (ADR 0024).

Devon's teams hold group supervision about once a month [DEV-7]; Portsmouth's run their
fortnightly programme of a team meeting, group supervision and a practice development
session in turn [POR-3.3]. The kinds and the cadence come from the pack's team rules (the
shortest interval, and the kinds of the rule that names most), never from its id. Each
team has its own reliability, so some teams miss some sessions, and a few miss whole
months. The team's manager facilitates (the head of service for the leadership team);
each member present records their own attendance, so the session is deduplicated by
its id across them.

Its random numbers are its own (seeded from the authority's), so adding group sessions
changed nothing else the generator draws.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from domain import commands as c
from domain.errors import ValidationError
from domain.policy.packs import PackLibrary
from domain.team_sessions import TeamSessionKind
from domain.vocabulary import Role

if TYPE_CHECKING:
    from oversight.generate.authority import AuthorityGenerator, _Member

#: Roles that record their attendance as themselves.
_ROLES = {
    "team_manager": Role.TEAM_MANAGER,
    "service_manager": Role.SERVICE_MANAGER,
    "head_of_service": Role.HEAD_OF_SERVICE,
}


class GroupSessions:
    """One generated authority's team sessions, month by month."""

    def __init__(self, generator: AuthorityGenerator) -> None:
        self.generator = generator
        self.rng = random.Random(
            f"{generator.seed}/{generator.scale.name}/{generator.code}/group-sessions"
        )
        try:
            rules = PackLibrary.load().get(generator.pack).team_rules
        except ValidationError:  # an unknown pack is refused when the authority adopts it
            rules = ()
        self.kinds: tuple[TeamSessionKind, ...] = (
            max(rules, key=lambda r: len(r.sessions)).sessions if rules else ()
        )
        #: Days between sessions: the shortest interval's, monthly if a month or more.
        shortest = min(rules, key=lambda r: r.interval.after(date(2026, 1, 1))) if rules else None
        self.every = (
            (shortest.interval.after(date(2026, 1, 1)) - date(2026, 1, 1)).days
            if shortest is not None
            else 0
        )
        self.reliability: dict[str, float] = {}
        self.turn: dict[str, int] = {}
        self.next_on: dict[str, date] = {}

    def month(self, first: date, following: date) -> None:
        """The sessions each team holds in ``[first, following)``."""
        if not self.kinds:
            return
        for team in sorted({m.team for m in self._present(first)}):
            if team not in self.reliability:
                # Most teams hold nearly every session; a few slip often.
                self.reliability[team] = self.rng.choice((0.97, 0.93, 0.9, 0.8, 0.6))
                self.turn[team] = 0
                self.next_on[team] = first + timedelta(days=self.rng.randint(2, 12))
            if self.every >= 28:
                self._monthly(team, first, following)
            else:
                while self.next_on[team] < following:
                    day = self.next_on[team]
                    self.next_on[team] = day + timedelta(days=self.every)
                    self._hold(team, day)

    def _monthly(self, team: str, first: date, following: date) -> None:
        if self.rng.random() > self.reliability[team]:
            return  # a month without one
        day = first + timedelta(days=self.rng.randint(1, max(1, (following - first).days - 4)))
        self._hold(team, day)

    def _hold(self, team: str, day: date) -> None:
        kind = self.kinds[self.turn[team] % len(self.kinds)]
        self.turn[team] += 1  # the programme moves on, held or not
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        if self.rng.random() > self.reliability[team]:
            return
        present = [m for m in self._present(day) if m.team == team]
        facilitator = self._facilitator(present)
        if facilitator is None:
            return
        generator = self.generator
        number = "".join(ch for ch in team if ch.isalnum())
        session = f"GS-{number}-{day:%Y%m%d}"
        for member in present:
            if member is not facilitator and self.rng.random() < 0.2:
                continue  # on leave, in court, on a visit
            generator._add(
                _at(day),
                c.AttendGroupSupervision,
                f"group-{session}-{member.staff_id}",
                actor=generator._actor(member.staff_id, _ROLES.get(member.role, Role.PRACTITIONER)),
                staff_id=member.staff_id,
                group_session_id=session,
                facilitator_id=facilitator.staff_id,
                topic=f"{kind.words.capitalize()}: reflective case discussion",
                session_kind=kind.value,
            )

    def _present(self, day: date) -> list[_Member]:
        return [
            m
            for m in self.generator.staff.values()
            if m.joined <= day
            and (m.left_on is None or day <= m.left_on)
            and not (m.left and m.left_on is None)
        ]

    @staticmethod
    def _facilitator(present: list[_Member]) -> _Member | None:
        """The team's manager: the most senior member present."""
        for role in ("team_manager", "service_manager", "head_of_service"):
            found = [m for m in present if m.role == role]
            if found:
                return sorted(found, key=lambda m: m.staff_id)[0]
        return None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(13, 30), tzinfo=UTC)
