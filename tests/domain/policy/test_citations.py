"""Each pack cites only its own clauses (issue 19 item 3): ``[citations]`` parsed,
inherited and checked, and refusals citing the subject's authority's pack."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from application.app import OversightApplication
from application.policy import cite_refusal
from domain import commands as c
from domain.errors import RuleViolation
from domain.events import OversightTriggered, SupervisionAgreementSigned
from domain.policy.citations import citable_names, clauses_in
from domain.policy.packs import BUILT_IN, PackError, PackLibrary, accounted_clauses
from oversight.cli import main
from oversight.policy_cli import REFUSED
from tests.helpers import NOW, actor, common, register_worker, setup_authority

INV = Path(__file__).resolve().parents[2] / "fixtures" / "packs" / "inv.toml"
LIBRARY = PackLibrary.load([BUILT_IN, INV.parent])


def _check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["policy", "check", str(path)], catch_exceptions=False)
    return result.exit_code, result.output


def _with_citation(tmp_path: Path, entry: str) -> tuple[Path, int]:
    """Invershire's pack with one more ``[citations]`` entry, and that entry's line."""
    text = INV.read_text(encoding="utf-8").replace("[citations]\n", f"[citations]\n{entry}\n")
    path = tmp_path / "inv-bad.toml"
    path.write_text(text.replace('id = "INV"', 'id = "INV-BAD"'), encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == entry)
    return path, line


@pytest.mark.parametrize("pack_id", sorted(LIBRARY.packs))
def test_every_pack_cites_only_its_own_or_the_national_standards_clauses(pack_id: str) -> None:
    pack = LIBRARY.packs[pack_id]
    own = accounted_clauses(pack, LIBRARY)
    for name, clauses in pack.authority.citations.items():
        assert name in citable_names(), name
        assert set(clauses) <= own, (pack_id, name, clauses)
        prefixes = {pack_id.split("-")[0], "SWRB"}
        assert {clause.split("-")[0] for clause in clauses} <= prefixes, (pack_id, name)


def test_a_pack_inherits_its_parents_citations_and_replaces_a_name_it_cites(
    tmp_path: Path,
) -> None:
    dur = (BUILT_IN / "dur.toml").read_text(encoding="utf-8")
    child = (
        '[pack]\nid = "DUR-2027"\nname = "Durham 2027"\nextends = "DUR"\n\n'
        '[citations]\nPersonalFileIsPrivate = ["DUR-4.8c"]\n'
    )
    (tmp_path / "dur.toml").write_text(dur, encoding="utf-8")
    (tmp_path / "swrb.toml").write_text((BUILT_IN / "swrb.toml").read_text(), encoding="utf-8")
    (tmp_path / "dur2027.toml").write_text(child, encoding="utf-8")
    packs = PackLibrary.load([tmp_path]).packs
    rules = packs["DUR-2027"].authority
    assert rules.cited("PersonalFileIsPrivate") == "PersonalFileIsPrivate DUR-4.8c"
    assert rules.cites(SupervisionAgreementSigned.__name__) == ("DUR-4.1",)  # inherited
    triggered = OversightTriggered.__name__
    assert rules.cited(triggered) == triggered  # Durham's policy cites none for it


def test_a_foreign_clause_is_refused_at_its_line(tmp_path: Path) -> None:
    """Another council's clause (Shropshire's SHR-5.5 in Invershire's pack) is refused
    with the file and line, by `oversight policy check` and at load."""
    path, line = _with_citation(tmp_path, 'ChildRecordIsOnTheChildsFile = ["SHR-5.5"]')
    code, output = _check(path)
    assert code == REFUSED
    assert output.startswith(
        f"{path}:{line}: citations.ChildRecordIsOnTheChildsFile cites SHR-5.5, a clause this "
        "pack does not account for"
    ), output
    with pytest.raises(PackError, match=f"SHR-5.5.*at line {line} of"):
        PackLibrary.load([BUILT_IN, path.parent])


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('NoSuchRule = ["INV-5.1"]', "citations.NoSuchRule names nothing code cites"),
        ('PersonalFileIsPrivate = "INV-5.1"', "must be a list of clause IDs"),
        ('PersonalFileIsPrivate = ["5.1"]', "cites '5.1': not a clause ID"),
    ],
)
def test_an_unknown_name_or_a_malformed_clause_is_refused_at_its_line(
    tmp_path: Path, entry: str, reason: str
) -> None:
    text = INV.read_text(encoding="utf-8").replace('PersonalFileIsPrivate = ["INV-5.1"]\n', "")
    source = tmp_path / "src.toml"
    source.write_text(text, encoding="utf-8")
    path = tmp_path / "inv-bad.toml"
    body = text.replace("[citations]\n", f"[citations]\n{entry}\n").replace(
        'id = "INV"', 'id = "INV-BAD"'
    )
    path.write_text(body, encoding="utf-8")
    line = next(n for n, t in enumerate(body.splitlines(), 1) if t == entry)
    code, output = _check(path)
    assert code == REFUSED
    assert output.startswith(f"{path}:{line}: "), output
    assert reason in output, output


def test_the_invershire_pack_cites_its_own_clauses_and_checks_sound() -> None:
    code, output = _check(INV)
    assert code == 0, output
    pack = LIBRARY.packs["INV"]
    assert pack.authority.cited("PersonalFileIsPrivate") == "PersonalFileIsPrivate INV-5.1"


def test_citations_change_no_computed_finding() -> None:
    """A pack's digest (which marks its computed rows current) ignores its citations."""
    from domain.policy.packs import parse_pack

    document = {"pack": {"id": "XX", "name": "X"}}
    cited = {**document, "citations": {OversightTriggered.__name__: []}}
    assert parse_pack(document, "x").digest == parse_pack(cited, "x").digest


@pytest.mark.parametrize(
    ("pack", "cited"),
    [
        ("DUR", "RescheduleAgreesANewDate DUR-4.4"),
        ("POR", "RescheduleAgreesANewDate"),  # Portsmouth's policy says nothing of it
        ("DEV", "RescheduleAgreesANewDate"),
    ],
)
def test_a_domain_refusal_cites_the_subjects_own_authoritys_clause(
    app: OversightApplication, pack: str, cited: str
) -> None:
    code = f"CT-{pack}"
    setup_authority(app, code, pack)
    admin = actor(authority=code)
    register_worker(app, "TM1", who=admin, case_holding=False, line_manager_id=None)
    register_worker(app, "SW1", who=admin)
    tm = actor("TM1", authority=code)
    when = NOW - timedelta(days=1)
    app.execute(
        c.ScheduleSupervisionSession(
            **common(when, tm),
            staff_id="SW1",
            session_id="S1",
            supervisor_id="TM1",
            scheduled_for=NOW,
        )
    )
    with pytest.raises(RuleViolation) as refused:
        app.execute(
            c.RescheduleSupervisionSession(
                **common(when, tm),
                staff_id="SW1",
                session_id="S1",
                new_scheduled_for=None,
                reason="clash",
            )
        )
    assert refused.value.rule == cited
    assert set(clauses_in(refused.value.rule)) <= accounted_clauses(
        app.policy_packs.get(pack), app.policy_packs
    )


def test_a_refusal_already_citing_its_packs_clause_or_naming_no_rule_is_kept(
    app: OversightApplication,
) -> None:
    setup_authority(app, "CT-X", "DEV")
    kept = cite_refusal(app, "CT-X", RuleViolation("x", rule="DisagreementIsResolvedOnce DEV-6"))
    assert kept.rule == "DisagreementIsResolvedOnce DEV-6"
    assert cite_refusal(app, "CT-X", RuleViolation("x")).rule is None
    unknown = cite_refusal(app, "NO-SUCH", RuleViolation("x", rule="CorrectionGivesAReason"))
    assert unknown.rule == "CorrectionGivesAReason"  # no authority: the name alone
