"""Team compliance as types: each team's findings under its pack's team rules and the
group sessions they rest on [DEV-7, POR-3.3] (ADR 0024)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from graphql_api.types.compliance import Finding
from graphql_api.types.enums import FindingStatus, TeamSessionKind_, member
from projections.compliance.teams import TeamCompliance as TeamComplianceModel


@strawberry.type(description="A team rule's window and its status on the day asked about.")
class TeamFinding:
    team: str = strawberry.field(description="The team whose window this is, by its name.")
    finding: Finding = strawberry.field(description="The window, its status and its words.")
    satisfied_on: date | None = strawberry.field(
        description="The day of the session that met the window, if any."
    )


@strawberry.type(
    description="A team's group session: group supervision, a team meeting or a practice "
    "development session, however many of the team attended it [DEV-7, POR-3.3]."
)
class TeamSession:
    team: str = strawberry.field(
        description="The team whose rule the session counted towards, by its name."
    )
    session_id: str = strawberry.field(
        description="The group session's id, shared by every attendee's record of it."
    )
    kind: TeamSessionKind_ = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of group session it was, as the team rules count them."
    )
    held_on: date = strawberry.field(description="The day the group session took place.")
    facilitator_id: str = strawberry.field(description="Its facilitator's staff id.")
    attendees: list[str] = strawberry.field(description="Staff ids of the team who attended.")
    evidence: strawberry.ID = strawberry.field(description="Log position of its first record.")


@strawberry.type(
    description="Which team rule, and how many of its windows closed without a session."
)
class TeamBreaches:
    team: str = strawberry.field(description="The team whose windows were missed, by its name.")
    rule_key: str = strawberry.field(
        description="The team rule with the variant its pack keys it by (e.g. DEV-7)."
    )
    breached: int = strawberry.field(description="Windows closed without a session by asOf.")


@strawberry.type(
    description="Teams' compliance with their authority's team rules on a day "
    "(Devon's monthly group supervision DEV-7, Portsmouth's fortnightly programme POR-3.3)."
)
class TeamCompliance:
    pack: str | None = strawberry.field(description="The authority's pack.")
    as_of: date = strawberry.field(description="The valid day asked about.")
    since: date = strawberry.field(description="The first day of the period.")
    known_at: datetime | None = strawberry.field(description="The system time asked about.")
    findings: list[TeamFinding] = strawberry.field(
        description="Every team window open in [since, asOf], by team and rule."
    )
    breaches: list[TeamBreaches] = strawberry.field(
        description="Windows closed without a session, counted by team and rule."
    )
    sessions: list[TeamSession] = strawberry.field(
        description="The teams' group sessions held in [since, asOf]."
    )


def team_compliance_of(result: TeamComplianceModel) -> TeamCompliance:
    """The read model's team findings and sessions as the API's types."""
    return TeamCompliance(
        pack=result.pack_id,
        as_of=result.as_of,
        since=result.since,
        known_at=result.known_at,
        findings=[
            TeamFinding(
                team=t.team,
                finding=Finding(
                    rule_id=t.finding.rule_id,
                    rule_key=t.finding.rule_key,
                    status=member(FindingStatus, t.finding.status),
                    due_on=t.finding.due_on,
                    evidence=[strawberry.ID(str(p)) for p in t.finding.evidence],
                    sentence=t.finding.sentence,
                    window_start=t.finding.window_start,
                    window_end=t.finding.window_end,
                ),
                satisfied_on=t.satisfied_on,
            )
            for t in result.findings
        ],
        breaches=[
            TeamBreaches(team=team, rule_key=key, breached=n)
            for (team, key), n in sorted(result.breached().items())
        ],
        sessions=[
            TeamSession(
                team=s.team,
                session_id=s.session_id,
                kind=member(TeamSessionKind_, s.kind),
                held_on=s.day,
                facilitator_id=s.facilitator_id,
                attendees=list(s.attendees),
                evidence=strawberry.ID(str(s.fact.position)),
            )
            for s in result.sessions
        ],
    )
