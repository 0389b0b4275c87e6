"""Policy packs load, validate with errors that name the field, and can be copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.events import CaseClosed, SupervisionSessionHeld, named
from domain.policy.packs import BUILT_IN, PackError, PackLibrary

HELD = SupervisionSessionHeld.__name__
RULE = f"""
[[rule]]
id = "XYZ-1"
kind = "recurring"
subject = "worker"
title = "Monthly"
events = ["{HELD}"]
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
        ((f'events = ["{HELD}"]', f'events = ["{CaseClosed.__name__}"]'), "events", "cannot"),
        ((f'events = ["{HELD}"]', 'events = ["SupervisionHeld"]'), "events", "unknown event"),
        ((f'events = ["{HELD}"]', "events = [3]"), "events", "non-empty list of strings"),
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


def test_every_event_a_built_in_pack_names_is_in_the_catalogue():
    for pack in PackLibrary.load([BUILT_IN]).packs.values():
        for rule in pack.rules:
            assert rule.event_kinds == tuple(named(e) for e in rule.events)


def test_an_unknown_event_is_refused_naming_the_pack_and_the_rule(tmp_path):
    text = '[pack]\nid = "XYZ"\n' + RULE.replace(HELD, "SupervisionSesionHeld")
    with pytest.raises(PackError) as error:
        PackLibrary.load([_write(tmp_path, text)])
    assert error.value.field == "events"
    assert str(error.value).startswith(
        "x.toml rule XYZ-1: unknown event 'SupervisionSesionHeld': not in the event catalogue "
        "(domain/events.py)"
    )


def test_a_deadline_rule_naming_an_unknown_clock_is_refused(tmp_path):
    rule = '[[rule]]\nid = "XYZ-2"\nkind = "deadline"\nsubject = "worker"\ntitle = "T"\n'
    text = (
        '[pack]\nid = "XYZ"\nextends = "SWRB"\n'
        + rule
        + 'clock = "record_writen"\nwithin = "5WD"\n'
    )
    with pytest.raises(PackError) as error:
        PackLibrary.load([BUILT_IN, _write(tmp_path, text)])
    assert error.value.field == "clock"
    assert "x.toml rule XYZ-2: unknown clock 'record_writen'; known: action_due," in str(
        error.value
    )


def test_a_pack_that_extends_nothing_has_no_clocks(tmp_path):
    rule = '[[rule]]\nid = "XYZ-2"\nkind = "deadline"\nsubject = "worker"\ntitle = "T"\n'
    text = '[pack]\nid = "XYZ"\n' + rule + 'clock = "record_shared"\nwithin = "5WD"\n'
    with pytest.raises(PackError, match=r"unknown clock 'record_shared'; the pack has none \("):
        PackLibrary.load([_write(tmp_path, text)])


def test_a_bad_clock_table_in_a_file_is_refused_naming_the_file_and_the_clock(tmp_path):
    text = '[pack]\nid = "XYZ"\n[clock.visit]\nsubject = "child"\nstart = { match = "soon" }\n'
    with pytest.raises(PackError) as error:
        PackLibrary.load([_write(tmp_path, text)])
    assert error.value.field == "clock.visit.start.match"
    assert str(error.value).startswith("x.toml clock visit: unknown start matcher 'soon'")


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
