"""The coverage table in docs/ is generated from the packs, and accounts for every rule
ID of the policy digest (RULES.md, in ../shared where it exists, as in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.policy.coverage import (
    COMPUTED,
    MISSING,
    coverage,
    coverage_markdown,
    digest_rule_ids,
)
from domain.policy.packs import PackLibrary

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "policy-coverage.md"
RULES = Path(os.environ.get("OVERSIGHT_SHARED", ROOT.parent / "shared")) / "policies" / "RULES.md"
LIBRARY = PackLibrary.load()


def _table(markdown: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("rule", "---"):
            rows[cells[0]] = cells[2]
    return rows


def test_the_committed_table_lists_every_rule_the_packs_account_for() -> None:
    """Runs without ../shared: every rule ID a pack computes or explains is in the doc,
    with the same status."""
    documented = _table(DOC.read_text(encoding="utf-8"))
    for row in coverage(LIBRARY):
        assert documented.get(row.rule_id) == row.status, row.rule_id
    assert sum(1 for status in documented.values() if status == COMPUTED) >= 40


@pytest.mark.skipif(not RULES.exists(), reason=f"the policy digest is not here ({RULES})")
def test_the_committed_table_is_regenerated_from_the_digest_with_nothing_missing() -> None:
    digest = digest_rule_ids(RULES.read_text(encoding="utf-8"))
    assert len({d.rule_id for d in digest}) >= 60
    rows = coverage(LIBRARY, digest)
    missing = [r.rule_id for r in rows if r.status == MISSING]
    assert missing == [], f"rule IDs no pack accounts for: {missing}"
    assert DOC.read_text(encoding="utf-8") == coverage_markdown(LIBRARY, digest), (
        "regenerate: oversight policy coverage --rules ../shared/policies/RULES.md "
        "--write docs/policy-coverage.md"
    )


def test_a_rule_no_pack_accounts_for_is_reported_missing() -> None:
    digest = digest_rule_ids("## 1. Test\n\n| ID | rule |\n|---|---|\n| ZZZ-9 | Invented |\n")
    [row] = [r for r in coverage(LIBRARY, digest) if r.rule_id == "ZZZ-9"]
    assert row.status == MISSING
    assert "1 missing" in coverage_markdown(LIBRARY, digest)
