"""Everything cited, for every demo authority, is a clause of that authority's pack (or
of the national standard it extends) (issue 19 item 3).

Each demo authority (one per pack) is written by the demo generator at a small scale;
refusals of each kind are then provoked in it (the domain's rules through the
application, a role's write acts, and reads and writes over GraphQL), and every rule ID
cited in its findings, triggers, registers, sheets, audit trails and refusals is
collected. Any ID outside the authority's pack fails, naming where it was cited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import Engine, select

from application.app import OversightApplication
from domain import commands as c
from domain.authorization import Principal, authorize_acts
from domain.errors import DomainError
from domain.policy.citations import clauses_in, prefix_of
from domain.policy.packs import PackLibrary, accounted_clauses
from domain.policy.registers import REGISTERS
from domain.vocabulary import Role
from graphql_api.app import create_app
from graphql_api.auth import TokenSettings, TokenVerifier
from graphql_api.limits import Limits
from graphql_api.service import Service
from oversight.generate.authority import Scale
from oversight.generate.demo import DEMO_AUTHORITIES, DemoAuthority, seed
from oversight.settings import DatabaseSettings
from projections.audit_trail import subject_trail, subjects_view
from projections.compliance import audit_rows, quotas_for, register_items
from projections.compliance import summary as compliance_summary
from projections.compliance.sheets import case_tracker_for, supervision_sheet_for
from projections.compliance.teams import team_obligations_of
from tests.graphql_api.conftest import Api
from tests.helpers import actor, common, register_worker

#: Labels code gives what rests on no policy clause (an authority's isolation, a
#: read-only role, the API's own log of reads): shaped like an ID, cited by no pack.
LABELS = frozenset({"READ-ONLY", "ACCESS-LOG", "TRUSTED-DOCUMENTS"})
#: Small enough to run on both backends in well under a minute, with every shape the
#: generator writes (triggers, oversight, disagreements, absences, leavers, the archive).
SWEEP = Scale("sweep", teams=1, practitioners=3, open_cases=6, years=1, archive=True)
TODAY = datetime.now(UTC).date()
WHEN = datetime.now(UTC) - timedelta(days=2)


@dataclass
class Cited:
    """Every citation found for one authority, with where it was found."""

    code: str
    pack: str
    found: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str | None) -> None:
        if text:
            self.found.append((where, text))

    def foreign(self, library: PackLibrary) -> list[tuple[str, str]]:
        """(where, clause) for each clause cited that the authority's pack does not hold."""
        own = accounted_clauses(library.get(self.pack), library)
        councils = {
            prefix_of(c) for p in library.packs.values() for c in accounted_clauses(p, library)
        }
        return [
            (where, clause)
            for where, text in self.found
            for clause in clauses_in(text)
            if clause not in own
            and clause not in LABELS
            # In words (a summary), only what reads as a council's clause: its ids do not.
            and (not where.endswith("summary") or prefix_of(clause) in councils)
        ]

    def clauses(self) -> set[str]:
        return {c for _, text in self.found for c in clauses_in(text)} - LABELS


def _rules_in(value: Any, key: str = "") -> Iterator[str]:
    """Every rule ID a sheet holds: the values (and dict keys) of its fields named for
    a rule."""
    if isinstance(value, dict):
        for k, v in value.items():
            if "rule" in key:
                yield str(k)
            yield from _rules_in(v, str(k) if "rule" not in key else key)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _rules_in(item, key)
    elif isinstance(value, str) and "rule" in key:
        yield value


def _demo(pack: str) -> DemoAuthority:
    template = next(d for d in DEMO_AUTHORITIES if d.pack == pack)
    return DemoAuthority(f"SWEEP-{pack}", template.name, pack, SWEEP)


def _refuse(cited: Cited, where: str, run: Any) -> None:
    """Run ``run``, which must be refused, and keep what the refusal cites."""
    try:
        run()
    except DomainError as error:
        cited.add(where, error.rule)
        return
    except TransportQueryError as error:
        first = (error.errors or [{}])[0]
        cited.add(where, str(first.get("extensions", {}).get("rule") or ""))
        assert first.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", first
        return
    raise AssertionError(f"{where} was not refused")


def _provoke(app: OversightApplication, api: Api, cited: Cited) -> None:
    """Refusals of each kind in the authority: the domain's rules through the
    application, a role's write acts, and a report and a write over GraphQL."""
    code = cited.code
    admin = actor(authority=code)
    tm = actor("SWEEP-TM", Role.TEAM_MANAGER, authority=code)
    sw = actor("SWEEP-SW", Role.PRACTITIONER, authority=code)
    register_worker(app, "SWEEP-TM", who=admin, case_holding=False, line_manager_id=None)
    register_worker(app, "SWEEP-SW", who=admin, line_manager_id="SWEEP-TM", team="Team S")
    app.execute(
        c.RegisterChild(
            **common(WHEN - timedelta(days=1), admin),
            child_id="SWEEP-C",
            date_of_birth=TODAY - timedelta(days=3000),
            case_type="cin",
            risk_level="medium",
            rag="amber",
            name=None,
        )
    )
    app.execute(
        c.AllocateWorker(
            **common(WHEN, tm),
            child_id="SWEEP-C",
            worker_id="SWEEP-SW",
            reason="NEW",
            team="Team S",
        )
    )
    app.execute(
        c.ScheduleSupervisionSession(
            **common(WHEN, tm),
            staff_id="SWEEP-SW",
            session_id="S1",
            supervisor_id="SWEEP-TM",
            scheduled_for=WHEN + timedelta(days=1),
        )
    )
    app.execute(
        c.RaiseDisagreement(
            **common(WHEN, sw),
            child_id="SWEEP-C",
            disagreement_id="D1",
            subject="decision_on_child",
            about="Visits",
        )
    )
    trigger = app.get_child(code, "SWEEP-C").open_triggers[0].trigger_id

    def oversight(who: Any, reason: str) -> c.RecordManagementOversight:
        return c.RecordManagementOversight(
            **common(WHEN, who),
            child_id="SWEEP-C",
            entry_id=f"MO-{reason or 'x'}",
            answers_trigger_ids=[trigger],
            reason=reason,
            current_situation="Safe",
            decision="Visit",
            rationale="Risk",
            actions=[
                {
                    "action_id": "A1",
                    "description": "Visit",
                    "owner": "SWEEP-SW",
                    "due_on": TODAY + timedelta(days=7),
                }
            ],
        )

    def escalate_past_the_top() -> None:
        for attempt in range(6):
            app.execute(
                c.EscalateDisagreement(
                    **common(WHEN, sw),
                    child_id="SWEEP-C",
                    disagreement_id="D1",
                    reason=f"Unresolved {attempt}",
                )
            )

    reschedule = c.RescheduleSupervisionSession(
        **common(WHEN, tm),
        staff_id="SWEEP-SW",
        session_id="S1",
        new_scheduled_for=None,
        reason="clash",
    )
    cancel = c.CancelSupervisionSession(
        **common(WHEN, actor("NOT-A-PARTY", Role.TEAM_MANAGER, authority=code)),
        staff_id="SWEEP-SW",
        session_id="S1",
        reason="x",
    )
    practitioner = Principal("SWEEP-SW", Role.PRACTITIONER, code)
    by_practitioner = oversight(sw, "Allocation")
    _refuse(cited, "refusal: oversight heading", lambda: app.execute(oversight(tm, "")))
    _refuse(cited, "refusal: reschedule", lambda: app.execute(reschedule))
    _refuse(cited, "refusal: cancel", lambda: app.execute(cancel))
    _refuse(cited, "refusal: escalation", escalate_past_the_top)
    _refuse(
        cited,
        "refusal: write act",
        lambda: app.execute(
            by_practitioner,
            authorize=lambda a: authorize_acts(a, practitioner, by_practitioner),
        ),
    )
    api.catch_up()
    practitioner_token = api.token("SWEEP-SW", Role.PRACTITIONER, authority=code)
    _refuse(
        cited,
        "GraphQL: report read",
        lambda: api.query(
            f'query {{ complianceSummary(asOf: "{TODAY}") {{ pack }} }}', practitioner_token
        ),
    )
    mutation = """mutation ($input: RecordManagementOversightInput!) {
      recordManagementOversight(input: $input, idempotencyKey: "sweep") {
        __typename ... on ForbiddenProblem { rule } } }"""
    variables = {
        "input": {
            "childId": "SWEEP-C",
            "entryId": "MO-API",
            "answersTriggerIds": [trigger],
            "reason": "r",
            "currentSituation": "s",
            "decision": "d",
            "rationale": "r",
            "actions": [
                {
                    "actionId": "A9",
                    "description": "Visit",
                    "owner": "SWEEP-SW",
                    "dueOn": str(TODAY + timedelta(days=7)),
                }
            ],
        }
    }
    answer = api.query(mutation, practitioner_token, variables)["recordManagementOversight"]
    assert answer["__typename"] == "ForbiddenProblem", answer  # a typed refusal
    cited.add("GraphQL: write act", answer["rule"])


def _collect(engine: Engine, library: PackLibrary, cited: Cited) -> None:
    """Every rule ID the read side cites for the authority."""
    code = cited.code
    with engine.connect() as conn:
        subjects = conn.execute(
            select(subjects_view.c.subject_kind, subjects_view.c.local_id).where(
                subjects_view.c.authority_code == code
            )
        ).all()
    workers = [local for kind, local in subjects if kind == "worker"]
    for kind, local in subjects:
        after = None
        while True:
            page = subject_trail(
                engine,
                authority_code=code,
                subject_kind=kind,
                local_id=local,
                first=500,
                after=after,
                library=library,
            )
            for entry in page.entries:
                cited.add(f"trail {kind} {local} {entry.event_type}", entry.rule_ids)
                cited.add(f"trail {kind} {local} summary", entry.summary)
            if page.next_cursor is None:
                break
            after = page.next_cursor
    for register in REGISTERS:
        for row in register_items(engine, code, register, as_of=TODAY, open_only=False):
            cited.add(f"register {register}", row.rule_id)
    found = compliance_summary(engine, library, code, as_of=TODAY)
    for key in found.by_rule():
        cited.add("finding", key.split("/")[0])
    # Quality assurance (ADR 0023) and team rules (ADR 0024): their findings and audits.
    year = TODAY - timedelta(days=365)
    for window in quotas_for(engine, library, code, start=year, end=TODAY):
        cited.add("finding: audit quota", window.rule_id)
    with engine.connect() as conn:
        for audit in audit_rows(conn, library, code, start=year, end=TODAY):
            cited.add("audit", audit.rule_id)
        for team in team_obligations_of(conn, library, code, as_of=TODAY)[1]:
            cited.add("finding: team rule", team.obligation.rule_id)
    for staff_id in workers:
        sheet = supervision_sheet_for(engine, library, code, staff_id, as_of=TODAY)
        tracker = case_tracker_for(
            engine, library, code, staff_id, start=TODAY - timedelta(days=365), end=TODAY
        )
        for name, made in (("sheet", sheet), ("tracker", tracker)):
            for rule in _rules_in(asdict(made) if made is not None else {}):
                cited.add(f"{name} {staff_id}", rule)


@pytest.fixture
def swept(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    token_settings: tuple[TokenSettings, Path],
) -> tuple[PackLibrary, list[Cited]]:
    """Every demo authority written, refused at and read, with all it cites."""
    demos = [_demo(d.pack) for d in DEMO_AUTHORITIES]
    report = seed(app, authorities=demos, until=TODAY, batch_size=500)
    library = app.policy_packs
    tokens, private_key = token_settings
    service = Service(app, engine, library)
    asgi = create_app(service, TokenVerifier(tokens), Limits(max_depth=8, max_aliases=10))
    api = Api(asgi, app, engine, database, tokens, private_key, service)
    everything: list[Cited] = []
    for demo in demos:
        cited = Cited(demo.code, demo.pack)
        for refusal in report.refusals:  # "Command: rule" as the generator counts them
            if refusal.split(": ", 1)[-1]:
                cited.add(f"generator refusal {refusal}", refusal.split(": ", 1)[-1])
        _provoke(app, api, cited)
        everything.append(cited)
    api.catch_up()
    for cited in everything:
        _collect(engine, library, cited)
    return library, everything


def _first(cited: Cited, where: str) -> str:
    return next(text for found, text in cited.found if found == where)


def test_everything_cited_for_each_authority_is_its_own_packs(
    swept: tuple[PackLibrary, list[Cited]],
) -> None:
    library, everything = swept
    assert {c.pack for c in everything} == {"DUR", "POR", "DEV", "SHR", "BUR"}
    for cited in everything:
        assert cited.foreign(library) == [], cited.code
    by_pack = {c.pack: c for c in everything}
    # Not vacuous: each authority cites its own clauses, in findings and refusals too.
    for pack, cited in by_pack.items():
        own = {clause for clause in cited.clauses() if clause.startswith(f"{pack}-")}
        assert own, pack
        refused = [t for w, t in cited.found if w.startswith(("refusal", "GraphQL"))]
        assert len(refused) >= 6, (pack, refused)
        sources = {w.split(" ")[0] for w, t in cited.found if clauses_in(t)}
        assert {"finding", "trail", "sheet", "refusal:"} <= sources, (pack, sources)
    assert any(w.startswith("register") and clauses_in(t) for c in everything for w, t in c.found)
    # The packs with audit quotas and team rules have findings under them, their own.
    for pack, where in (
        ("SHR", "finding: audit quota"),
        ("POR", "finding: audit quota"),
        ("DUR", "finding: audit quota"),
        ("DEV", "finding: team rule"),
        ("POR", "finding: team rule"),
    ):
        found = {t for w, t in by_pack[pack].found if w == where}
        assert found and all(t.startswith(f"{pack}-") for t in found), (pack, where, found)
    reads = {p: _first(c, "GraphQL: report read") for p, c in by_pack.items()}
    assert reads["POR"] == "ReportsAreForQualityAssurance POR-7"
    assert reads["SHR"] == "ReportsAreForQualityAssurance SHR-5.8"
    assert reads["DUR"] == "ReportsAreForQualityAssurance"  # Durham's policy names none
    for where in ("refusal: write act", "GraphQL: write act"):
        acts = {p: _first(c, where) for p, c in by_pack.items()}
        assert acts["DEV"] == "ManagementOversightIsAManagersDecision DEV-6g", where
        assert acts["POR"] == "ManagementOversightIsAManagersDecision POR-3.3", where
        assert acts["DUR"] == "ManagementOversightIsAManagersDecision", where


def test_the_sweep_catches_a_foreign_citation() -> None:
    """The check can fail: Shropshire's clause cited for a Durham authority is caught,
    and so is Devon's on a trail entry; Durham's own and the labels pass."""
    library = PackLibrary.load()
    planted = Cited("SWEEP-DUR", "DUR")
    planted.add("planted refusal", "PersonalFileIsPrivate SHR-5.5")
    planted.add("planted trail", "DUR-4.8a DEV-6")
    planted.add("planted label", "READ-ONLY")
    assert planted.foreign(library) == [("planted refusal", "SHR-5.5"), ("planted trail", "DEV-6")]
