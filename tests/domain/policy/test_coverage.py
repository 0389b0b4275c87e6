"""The coverage table in docs/ is generated from the packs alone, and accounts for every
rule ID of the policy digest (RULES.md, in ../shared where it exists, as in CI); every
rule left out of scope quotes the sentence of its source that makes it non-computable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.policy.coverage import (
    COMPUTED,
    MISSING,
    OUT_OF_SCOPE,
    coverage,
    coverage_markdown,
    digest_rule_ids,
    quotations,
)
from domain.policy.packs import BUILT_IN, PackLibrary

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "policy-coverage.md"
SHARED = Path(os.environ.get("OVERSIGHT_SHARED", ROOT.parent / "shared")) / "policies"
RULES = SHARED / "RULES.md"
SOURCES = SHARED / "source"
LIBRARY = PackLibrary.load([BUILT_IN])
REGENERATE = "regenerate: oversight policy coverage --write docs/policy-coverage.md"


def _table(markdown: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 4 and cells[0] not in ("rule", "---"):
            rows[cells[0]] = cells[1]
    return rows


def test_the_committed_table_is_what_the_packs_generate() -> None:
    """Runs without ../shared: the doc is the packs' table, byte for byte."""
    assert DOC.read_text(encoding="utf-8") == coverage_markdown(LIBRARY), REGENERATE


def test_the_committed_table_lists_every_rule_the_packs_account_for() -> None:
    documented = _table(DOC.read_text(encoding="utf-8"))
    for row in coverage(LIBRARY):
        assert documented.get(row.rule_id) == row.status, row.rule_id
    assert sum(1 for status in documented.values() if status == COMPUTED) >= 40


@pytest.mark.skipif(not RULES.exists(), reason=f"the policy digest is not here ({RULES})")
def test_the_digest_adds_nothing_the_packs_do_not_account_for() -> None:
    digest = digest_rule_ids(RULES.read_text(encoding="utf-8"))
    assert len({d.rule_id for d in digest}) >= 60
    rows = coverage(LIBRARY, digest)
    missing = [r.rule_id for r in rows if r.status == MISSING]
    assert missing == [], f"rule IDs no pack accounts for: {missing}"
    assert coverage_markdown(LIBRARY, digest) == coverage_markdown(LIBRARY)


def test_a_rule_no_pack_accounts_for_is_reported_missing() -> None:
    digest = digest_rule_ids("## 1. Test\n\n| ID | rule |\n|---|---|\n| ZZZ-9 | Invented |\n")
    [row] = [r for r in coverage(LIBRARY, digest) if r.rule_id == "ZZZ-9"]
    assert row.status == MISSING
    assert "1 missing" in coverage_markdown(LIBRARY, digest)


def test_every_rule_out_of_scope_quotes_its_source() -> None:
    out = [r for r in coverage(LIBRARY) if r.status == OUT_OF_SCOPE]
    assert out
    for row in out:
        assert row.quotation is not None and row.quotation.says.strip(), row.rule_id
        assert f"“{' '.join(row.quotation.says.split())}”" in DOC.read_text(encoding="utf-8")


@pytest.mark.skipif(not SOURCES.exists(), reason=f"the policy sources are not here ({SOURCES})")
def test_every_quotation_is_the_sources_own_words() -> None:
    for quotation in quotations().values():
        source = SOURCES / quotation.source.split(",")[0]
        words = " ".join(source.read_text(encoding="utf-8").split())
        assert " ".join(quotation.says.split()) in words, quotation.rule_id


def test_a_packs_own_quotation_is_used_for_its_rule(tmp_path: Path) -> None:
    (tmp_path / "inv.toml").write_text(
        '[pack]\nid = "INV"\nname = "Invented"\nextends = "SWRB"\n\n'
        '[[out_of_scope]]\nid = "INV-9"\nreason = "A permission."\n'
        'says = "Managers may read the file."\nsource = "inv-policy.pdf, 9"\n',
        encoding="utf-8",
    )
    library = PackLibrary.load([BUILT_IN, tmp_path])
    [row] = [r for r in coverage(library) if r.rule_id == "INV-9"]
    assert row.status == OUT_OF_SCOPE and row.pack == "INV"
    assert row.quotation is not None and row.quotation.source == "inv-policy.pdf, 9"
    assert "“Managers may read the file.” (inv-policy.pdf, 9)" in coverage_markdown(library)
