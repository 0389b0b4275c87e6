"""Workforce census XML import (issue 7), on SQLite and PostgreSQL: our own writer's
fixture, hostile documents, and the sector sample where ``../shared`` has it."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from application.app import OversightApplication
from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import (
    Role,
)
from oversight.importers.jobs import JobReport
from oversight.importers.workforce import CensusError, import_workforce

ROOT = Path(__file__).resolve().parents[2]
SHARED = (
    Path(os.environ.get("OVERSIGHT_SHARED", ROOT.parent / "shared"))
    / "data"
    / "workforce"
    / "social_work_workforce_2022.xml"
)
AUTHORITY = "LA-CSWW"
IMPORTER = Actor("IMPORT", Role.IMPORTER, AUTHORITY)


def write_census(path: Path, workers: list[dict[str, str]]) -> Path:
    """A census message in the return's own elements."""
    body = "".join(
        "<CSWWWorker>"
        + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in worker.items())
        + "</CSWWWorker>"
        for worker in workers
    )
    path.write_text(
        "<Message><Header><CollectionDetails><Collection>CSWW</Collection><Year>2022</Year>"
        "<ReferenceDate>2022-09-30</ReferenceDate></CollectionDetails></Header>"
        f"{body}</Message>"
    )
    return path


def _setup(app: OversightApplication) -> None:
    app.execute(
        c.RegisterAuthority(
            command_id="reg-csww", actor=Actor("ADMIN", Role.ADMINISTRATOR, AUTHORITY),
            occurred_at=datetime(2000, 1, 1, tzinfo=UTC), authority_code=AUTHORITY,
            name="Census Council", policy_pack="POR",
        )
    )  # fmt: skip


def _import(app: OversightApplication, path: Path) -> JobReport:
    return import_workforce(
        app, path, authority=AUTHORITY, actor=IMPORTER, team="Census", today=date(2024, 1, 1)
    )


def test_workers_with_fte_agency_role_start_and_leaving(
    app: OversightApplication, tmp_path: Path
) -> None:
    _setup(app)
    census = write_census(
        tmp_path / "csww.xml",
        [
            {"SWENo": "SW100", "AgencyWorker": "0", "FTE": "1", "OrgRole": "5",
             "RoleStartDate": "2015-04-01"},
            {"SWENo": "SW101", "AgencyWorker": "1", "FTE": "0.6", "OrgRole": "3",
             "RoleStartDate": "2018-09-03"},
            {"SWENo": "SW102", "AgencyWorker": "0", "FTE": "0", "FTE30": "0.8",
             "OrgRole": "6", "RoleStartDate": "2016-01-04", "RoleEndDate": "2022-03-31",
             "ReasonLeave": "3"},
            {"SWENo": "SW103", "FTE": "0.5", "Cases30": "12", "RoleStartDate": "2019-02-01"},
            {"SWENo": "SW104", "FTE": "1", "OrgRole": "5"},
            {"SWENo": "SW105", "FTE": "0", "OrgRole": "5", "RoleStartDate": "2019-02-01"},
            {"SWENo": "SW106", "FTE": "1", "OrgRole": "9", "RoleStartDate": "2019-02-01"},
            {"SWENo": "../x", "FTE": "1", "OrgRole": "5", "RoleStartDate": "2019-02-01"},
            {"SWENo": "SW108", "FTE": "1", "OrgRole": "5", "RoleStartDate": "2019-02-01",
             "RoleEndDate": "2018-01-01"},
        ],
    )  # fmt: skip
    report = _import(app, census)
    assert (report.read, report.accepted) == ({"csww.xml": 9}, {"csww.xml": 4})
    assert report.balanced() and report.exit_status == 1
    reasons = {r.subject: (r.row, r.rule, r.message) for r in report.rejected}
    assert reasons["SW104"] == (5, "CSWW-DATE", "RoleStartDate: missing")
    assert reasons["SW105"] == (6, "CSWW-FTE", "FTE: neither FTE nor FTE30 is above 0")
    assert reasons["SW106"] == (7, "CSWW-OrgRole", "OrgRole: '9' is not 1-6")
    assert "SWENo" in reasons["../x"][2]
    assert reasons["SW108"] == (9, "CSWW-DATE", "RoleEndDate: before RoleStartDate")
    assert [n.subject for n in report.notes] == ["SW103"]

    full = app.get_worker(AUTHORITY, "SW100").employment
    assert (full.pattern.value, full.fte, full.engagement.value) == (
        "full_time",
        Decimal(1),
        "permanent",
    )
    assert full.role.value == "social_worker" and full.case_holding
    part = app.get_worker(AUTHORITY, "SW101").employment
    assert (part.pattern.value, part.fte, part.engagement.value, part.role.value) == (
        "part_time",
        Decimal("0.60"),
        "agency",
        "team_manager",
    )
    leaver = app.get_worker(AUTHORITY, "SW102")
    assert leaver.employment.left_on == date(2022, 3, 31)
    assert leaver.employment.fte == Decimal("0.80") and not leaver.employment.case_holding
    inferred = app.get_worker(AUTHORITY, "SW103").employment
    assert inferred.role.value == "social_worker" and inferred.case_holding
    stored = app.command_log.select_subject_notifications(app.get_worker(AUTHORITY, "SW100").id)
    registered = app.mapper.to_domain_event(stored[0])
    assert registered.provenance.imported
    assert registered.provenance.occurred_at.date() == date(2015, 4, 1)

    head = app.recorder.max_notification_id()
    again = _import(app, census)
    assert again.recorded == 0 and again.replayed == report.recorded
    assert app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<Message>&b;</Message>",
            "no DTD",
        ),
        ("<Message><CSWWWorker>", "not well-formed"),
        ("<Other/>", "not a workforce census"),
    ],
)
def test_hostile_or_foreign_documents_are_refused_before_anything_is_written(
    app: OversightApplication, tmp_path: Path, content: str, says: str
) -> None:
    _setup(app)
    path = tmp_path / "bad.xml"
    path.write_text(content)
    head = app.recorder.max_notification_id()
    with pytest.raises(CensusError) as refused:
        _import(app, path)
    assert says in str(refused.value)
    assert app.recorder.max_notification_id() == head


def test_the_sector_sample_imports_where_it_exists(app: OversightApplication) -> None:
    if not SHARED.is_file():
        pytest.skip(f"{SHARED} is not here (CI has it): the sector sample is not imported")
    _setup(app)
    report = _import(app, SHARED)
    [(name, read)] = report.read.items()
    assert read == 30 and report.accepted[name] > 20 and report.balanced()
    elements = ("SWENo", "OrgRole", "RoleStartDate", "RoleEndDate", "FTE", "AgencyWorker")
    assert report.rejected and all(r.message.startswith(elements) for r in report.rejected)
    assert _import(app, SHARED).recorded == 0
