"""Audit tools, quotas and moderation as pack data (ADR 0023): loaded from each
authority's own pack, refused at load with the file, line and reason; and quota windows
computed as a partition of each auditor's periods."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policy.calendar import Period
from domain.policy.packs import BUILT_IN, PackError, PackLibrary
from domain.policy.quality import (
    AuditDone,
    AuditFile,
    AuditRecord,
    periods,
    quota_windows,
)

LIBRARY = PackLibrary.load([BUILT_IN])

TOOL = """
[audit_tool.supervision_file]
id = "XYZ-7"
title = "Tool"
judgements = ["Good", "Poor"]
concerns = ["Poor"]
headings = { "1" = "Files" }
items = [
  { id = "1.1", heading = "1", text = "Contract?" },
]

[[audit_quota]]
id = "XYZ-7"
record = "supervision_file"
auditor = "grandparent"
period = "P3M"
count = 1
title = "One a quarter"
"""


def _load(tmp_path: Path, text: str) -> PackLibrary:
    (tmp_path / "x.toml").write_text('[pack]\nid = "XYZ"\n' + text)
    return PackLibrary.load([tmp_path])


def test_each_authority_has_its_own_tool_and_quotas() -> None:
    shr, por, dur = (LIBRARY.get(p).quality for p in ("SHR", "POR", "DUR"))
    folder = shr.tool(AuditRecord.SUPERVISION_FILE)
    assert folder is not None and folder.rule_id == "SHR-5.8"
    assert folder.judgements == ("Outstanding", "Good", "Requires Improvement", "Inadequate")
    assert len(folder.items) == 13
    assert por.tool(AuditRecord.SUPERVISION_FILE) is None  # a dip-sample of case records only
    assert {q.key for q in por.quotas} == {"POR-7/dip-sample"}
    assert {q.rule_id for q in dur.quotas} == {"DUR-7"}
    assert all(q.count is None for q in dur.quotas)  # each file, annually
    # No council's tool binds another; none for Devon or Buckinghamshire.
    assert not LIBRARY.get("DEV").quality.tools and not LIBRARY.get("BUR").quality.quotas
    assert not LIBRARY.get("SWRB").quality.quotas


def test_a_good_pack_loads(tmp_path: Path) -> None:
    quality = _load(tmp_path, TOOL).get("XYZ").quality
    assert [q.key for q in quality.quotas] == ["XYZ-7"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('heading = "1"', 'heading = "9"'), "unknown heading '9'"),
        (('concerns = ["Poor"]', 'concerns = ["Awful"]'), "outside the scale"),
        (('period = "P3M"', 'period = "P5M"'), "bad period"),
        (('period = "P3M"', 'period = "monthly"'), "bad period"),
        (("count = 1", "count = 0"), "positive number"),
        (('auditor = "grandparent"', 'auditor = "anyone"'), "auditor is one of"),
        (('id = "XYZ-7"\nrecord', 'id = "SHR-5.8"\nrecord'), "does not account for"),
        (('judgements = ["Good", "Poor"]', 'judgements = ["Good", "Good"]'), "distinct"),
        (('record = "supervision_file"', 'record = "case_file"'), "no [audit_tool.case_file]"),
    ],
)
def test_a_bad_tool_or_quota_is_refused_with_its_line(
    tmp_path: Path, change: tuple[str, str], words: str
) -> None:
    assert change[0] in TOOL
    with pytest.raises(PackError) as error:
        _load(tmp_path, TOOL.replace(*change, 1))
    message = str(error.value)
    assert words in message
    assert "x.toml" in message and "(at line " in message


def test_a_pack_extending_another_inherits_its_tool(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('[pack]\nid = "SHR-2027"\nextends = "SHR"\n')
    library = PackLibrary.load([BUILT_IN, tmp_path])
    assert library.get("SHR-2027").quality == library.get("SHR").quality


# -- quota windows ---------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
period_codes = st.sampled_from(["P1M", "P2M", "P3M", "P4M", "P6M", "P1Y"])


@given(period_codes, days, st.integers(min_value=0, max_value=800))
def test_quota_periods_partition_the_span(code: str, start: date, length: int) -> None:
    end = start + timedelta(days=length)
    found = periods(Period.parse(code), start, end)
    assert found[0][0] <= start and found[-1][1] >= end
    assert found[0][0].day == 1
    for (_, first_end), (second_start, _) in itertools.pairwise(found):
        assert second_start == first_end + timedelta(days=1)  # no gap, no overlap
    assert all(a <= b for a, b in found)


@given(
    st.lists(st.tuples(st.sampled_from(["SW1", "SW2", "SW3"]), days), max_size=12),
    st.sampled_from(["SHR", "DUR"]),
)
def test_windows_count_each_auditors_audits_once(audits: list[tuple[str, date]], pack: str) -> None:
    """Every audit by the grandparent lands in exactly one window of each quota covering
    it, done never exceeds the files, and a window is met exactly when done reaches due."""
    quality = LIBRARY.get(pack).quality
    files = [
        AuditFile(AuditRecord.SUPERVISION_FILE, s, s, "social_worker")
        for s in ("SW1", "SW2", "SW3")
    ]
    managers = {"SW1": "TM1", "SW2": "TM1", "SW3": "TM2", "TM1": "SM1", "TM2": "SM1"}
    done = [
        AuditDone(f"A{i}", AuditRecord.SUPERVISION_FILE, staff, "SM1", day, "social_worker")
        for i, (staff, day) in enumerate(audits)
    ]
    windows = quota_windows(quality, files, managers, done, date(2020, 1, 1), date(2030, 12, 31))
    assert windows and {w.auditor_id for w in windows} == {"SM1"}
    for key in {w.rule_key for w in windows}:
        mine = [w for w in windows if w.rule_key == key]
        placed = sorted(a for w in mine for a in w.audits)
        assert placed == sorted(a.audit_id for a in done)  # each audit in one window
        for window in mine:
            assert window.done <= len(window.files)
            met = window.status(date(2031, 6, 1), Period.parse("P7D")) == "met"
            assert met == (window.done >= window.due)
