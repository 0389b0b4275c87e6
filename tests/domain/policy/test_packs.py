"""Policy packs load, validate with errors that name the field, and can be copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.policy.packs import BUILT_IN, PackError, PackLibrary

RULE = """
[[rule]]
id = "XYZ-1"
kind = "recurring"
subject = "worker"
title = "Monthly"
events = ["SupervisionSessionHeld"]
interval = "P1M"
"""


def test_every_built_in_pack_loads_and_extends_the_national_minimum():
    library = PackLibrary.load([BUILT_IN])
    assert set(library.packs) == {"SWRB", "POR", "DEV", "DUR", "SHR", "BUR"}
    for pack_id in ("POR", "DEV", "DUR", "SHR", "BUR"):
        pack = library.get(pack_id)
        assert pack.extends == "SWRB"
        assert any(r.rule_id == "SWRB-5" for r in pack.rules)
        assert any(r.rule_id.startswith(pack_id) for r in pack.rules)


def _write(tmp_path: Path, text: str, name: str = "x.toml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (('kind = "recurring"', 'kind = "weekly-ish"'), "kind", "unknown rule kind"),
        (('interval = "P1M"', 'interval = "monthly"'), "interval", "not a period"),
        (('id = "XYZ-1"', 'id = ""'), "id", "every rule needs an id"),
        (('events = ["SupervisionSessionHeld"]', 'events = ["CaseClosed"]'), "events", "cannot"),
        (('title = "Monthly"', 'title = "Monthly"\nfrequncy = 3'), "frequncy", "unknown"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(tmp_path, change, field, words):
    text = '[pack]\nid = "XYZ"\n' + RULE.replace(*change)
    with pytest.raises(PackError) as error:
        PackLibrary.load([_write(tmp_path, text)])
    assert error.value.field == field
    assert words in str(error.value)
    assert "x.toml" in str(error.value)


def test_a_duplicate_rule_id_is_refused(tmp_path):
    with pytest.raises(PackError, match="duplicate rule XYZ-1"):
        PackLibrary.load([_write(tmp_path, '[pack]\nid = "XYZ"\n' + RULE + RULE)])


def test_unknown_parent_and_unknown_pack_are_refused(tmp_path):
    with pytest.raises(PackError, match="extends unknown pack"):
        PackLibrary.load([_write(tmp_path, '[pack]\nid = "XYZ"\nextends = "NOPE"\n')])
    library = PackLibrary.load([BUILT_IN])
    with pytest.raises(Exception, match="no policy pack 'NOPE'") as error:
        library.get("NOPE")
    assert error.value.field == "policy_pack"  # type: ignore[attr-defined]


def test_an_authority_copies_a_pack_and_changes_a_parameter_without_code(tmp_path):
    durham = (BUILT_IN / "dur.toml").read_text()
    copy = durham.replace('id = "DUR"', 'id = "DUR-LOCAL"', 1).replace(
        'within = "10WD"', 'within = "7WD"'
    )
    library = PackLibrary.load([BUILT_IN, _write(tmp_path, copy, "dur-local.toml")])
    original = {r.key: r for r in library.get("DUR").rules}
    local = {r.key: r for r in library.get("DUR-LOCAL").rules}
    assert original["DUR-4.7a/shared"].within.code == "10WD"  # type: ignore[union-attr]
    assert local["DUR-4.7a/shared"].within.code == "7WD"  # type: ignore[union-attr]
    assert set(original) == set(local)
