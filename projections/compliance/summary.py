"""Compliance rates by rule and team, for an authority over a period [POR-7, SHR-5.8];
the team rules' windows [DEV-7, POR-3.3] count under their team (``teams``).

Settled subjects are counted in the database from their stored obligations; the few that
are not settled (or are asked about past their horizon) are computed from their facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, and_, case, func, literal, select

from domain.identifiers import authority_id
from domain.policy.compliance import Obligation, closed_without_act, closes
from domain.policy.packs import PackLibrary
from projections.compliance.answers import answer
from projections.compliance.context import authority_context
from projections.compliance.tables import VIEWS, view
from projections.compliance.teams import team_obligations_of

#: How each obligation counts in a summary (``category``).
ON_TIME, LATE, MISSED, BREACHED, DUE_SOON = "on_time", "late", "missed", "breached", "due_soon"
CATEGORIES = (ON_TIME, LATE, MISSED, BREACHED, DUE_SOON)
#: The kinds whose windows close on their due day (``domain.policy.compliance.closes``).
CLOSING_KINDS = tuple(k for k in ("recurring", "minimum_count", "deadline") if closes(k))


def category(o: Obligation, as_of: date, since: date, soon: date) -> str | None:
    """An obligation's place in a summary for the period ``[since, as_of]``: fell due in
    it and was met on time, late, not at all by ``as_of`` (still open: missed), or is a
    window that closed without the act (breached); or is open and due by ``soon``. None:
    it does not count (not yet due, not applicable, outside)."""
    due = o.due_on
    if due is None or o.arises_on > as_of:
        return None
    done = o.satisfied_on if o.satisfied_on is not None and o.satisfied_on <= as_of else None
    # A window of a closing kind due today is still open: it counts as due soon.
    still_open = done is None and closes(o.kind) and due == as_of
    if since <= due <= as_of and not still_open:
        if done is None:
            return BREACHED if closed_without_act(o, as_of) else MISSED
        return ON_TIME if done <= due else LATE
    if as_of <= due <= soon and done is None:
        return DUE_SOON
    return None


@dataclass
class Tally:
    on_time: int = 0
    late: int = 0
    missed: int = 0
    due_soon: int = 0
    #: Windows that closed without the act (each missed window of a recurring or
    #: annual rule counts once).
    breached: int = 0

    @property
    def fell_due(self) -> int:
        return self.on_time + self.late + self.missed + self.breached

    @property
    def rate(self) -> float | None:
        """Share of what fell due that was done on time (None: nothing fell due)."""
        return self.on_time / self.fell_due if self.fell_due else None

    def add(self, name: str, count: int = 1) -> None:
        setattr(self, name, getattr(self, name) + count)


@dataclass
class Summary:
    authority_code: str
    pack_id: str | None
    as_of: date
    since: date
    #: (team, rule id) -> tally; team None for subjects with no team.
    cells: dict[tuple[str | None, str], Tally]
    #: Subjects answered from their facts (not settled, or past their horizon).
    computed_subjects: int

    def by_rule(self) -> dict[str, Tally]:
        return {str(k): v for k, v in self._fold(1).items()}

    def by_team(self) -> dict[str | None, Tally]:
        return {(None if k is None else str(k)): v for k, v in self._fold(0).items()}

    def overall(self) -> Tally:
        total = Tally()
        for tally in self.cells.values():
            for name in CATEGORIES:
                total.add(name, getattr(tally, name))
        return total

    def _fold(self, index: int) -> dict[str | None, Tally]:
        folded: dict[str | None, Tally] = {}
        for key, tally in self.cells.items():
            into = folded.setdefault(key[index], Tally())
            for name in CATEGORIES:
                into.add(name, getattr(tally, name))
        return dict(sorted(folded.items(), key=lambda item: str(item[0])))


def summary(
    engine: Engine,
    library: PackLibrary,
    authority_code: str,
    *,
    as_of: date,
    since: date | None = None,
    team: str | None = None,
) -> Summary:
    """Compliance rates by rule and team for what fell due in ``[since, as_of]`` (the
    year to ``as_of`` by default), and what falls due soon after it. Settled subjects are
    counted in the database; the few that are not are computed from their facts."""
    since = since or as_of - timedelta(days=365)
    o = view("compliance_obligation")
    s = view("compliance_subject")
    d = view("compliance_dirty")
    with engine.connect() as conn:
        context = authority_context(conn, VIEWS, authority_code, library)
        soon = context.pack.due_soon.after(as_of, context.calendar) if context.pack else as_of
        settled = and_(
            s.c.authority_code == authority_code,
            s.c.valid_until >= as_of,
            ~s.c.subject_id.in_(select(d.c.subject_id)),
            *([s.c.team == team] if team is not None else []),
        )
        done = and_(o.c.satisfied_on.is_not(None), o.c.satisfied_on <= as_of)
        closing = o.c.kind.in_(CLOSING_KINDS)
        still_open = and_(~done, closing, o.c.due_on == as_of)
        category_sql = case(
            (
                and_(o.c.due_on >= since, o.c.due_on <= as_of, ~still_open),
                case(
                    (and_(~done, closing), literal(BREACHED)),
                    (~done, literal(MISSED)),
                    (o.c.satisfied_on <= o.c.due_on, literal(ON_TIME)),
                    else_=literal(LATE),
                ),
            ),
            (and_(o.c.due_on >= as_of, o.c.due_on <= soon, ~done), literal(DUE_SOON)),
            else_=literal(None),
        ).label("category")
        counted = (
            select(o.c.team, o.c.rule_id, category_sql, func.count().label("n"))
            .join(s, s.c.subject_id == o.c.subject_id)
            .where(
                settled,
                # The subject's authority, said again of the obligation: its index
                # (authority, due day) then reads only the period's obligations.
                o.c.authority_code == authority_code,
                o.c.arises_on <= as_of,
                o.c.due_on >= since,
            )
            .group_by(o.c.team, o.c.rule_id, category_sql)
        )
        cells: dict[tuple[str | None, str], Tally] = {}
        for row in conn.execute(counted):
            if row.category is not None:
                cells.setdefault((row.team, row.rule_id), Tally()).add(row.category, int(row.n))
        unsettled = conn.execute(
            select(s.c.subject_id, s.c.team).where(
                s.c.authority_code == authority_code,
                ~settled,
                *([s.c.team == team] if team is not None else []),
            )
        ).all()
        never = conn.execute(
            select(d.c.subject_id).distinct().where(~d.c.subject_id.in_(select(s.c.subject_id)))
        ).scalars()
        candidates = {str(r.subject_id) for r in unsettled} | {str(i) for i in never}
        candidates -= {str(authority_id(authority_code))}
        computed = 0
        for subject_id in sorted(candidates):
            found = answer(conn, library, subject_id, as_of=as_of)
            if found is None or found.profile.authority_code != authority_code:
                continue
            if team is not None and found.profile.team != team:
                continue
            computed += 1
            for obligation in found.obligations:
                name = category(obligation, as_of, since, soon)
                if name is not None:
                    cells.setdefault((found.profile.team, obligation.rule_id), Tally()).add(name)
        # Team rules [DEV-7, POR-3.3]: each team's windows count under its own name.
        _, teams = team_obligations_of(
            conn, library, authority_code, as_of=as_of, team=team, context=context
        )
        for found_team in teams:
            name = category(found_team.obligation, as_of, since, soon)
            if name is not None:
                key = (found_team.team, found_team.obligation.rule_id)
                cells.setdefault(key, Tally()).add(name)
    return Summary(authority_code, context.pack_id, as_of, since, cells, computed)
