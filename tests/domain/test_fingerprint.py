"""A command's fingerprint is stored in its receipt, so its canonical form must never
change: the fast form is checked against ``dataclasses.asdict`` for every kind of
command the demo and the generator write."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, date
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.commands import Command, _canonical, _canonical_bytes, _canonical_or_fields
from domain.provenance import Actor
from domain.vocabulary import (
    CAPACITIES,
)
from oversight.generate import DEMO_AUTHORITIES, SCALES, AuthorityGenerator


def reference_fingerprint(command: Command) -> str:
    payload = {"command": type(command).__name__, **asdict(command)}
    canonical = json.dumps(payload, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_fingerprints_are_those_of_the_canonical_form() -> None:
    commands: list[Command] = [
        command
        for demo in DEMO_AUTHORITIES
        for command in demo.generator(3, date(2026, 1, 1)).commands()
    ]
    generator = AuthorityGenerator(
        SCALES["small"], seed=2, until=date(2025, 6, 1), authority_code="FP"
    )
    commands += list(generator.commands())[:20_000]
    kinds = {type(command).__name__ for command in commands}
    assert len(kinds) >= 25
    for command in commands:
        assert command.fingerprint() == reference_fingerprint(command), command.command_id


# -- the fast canonical form (orjson) against json's, over arbitrary values -------------

_ascii = st.text(st.characters(max_codepoint=127), max_size=12)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson refuses those, json writes them
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # every code point: controls, DEL, non-ASCII
    _ascii,  # where the fast form is taken: controls and DEL among plain text
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.decimals(allow_nan=True),
    st.uuids(),
    st.sampled_from(CAPACITIES),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_ascii, st.text(max_size=8)), inner, max_size=4),
        st.builds(
            Actor,
            st.from_regex(r"\A[A-Za-z0-9 ]{0,6}[A-Za-z]\Z"),
            st.sampled_from(CAPACITIES),
            st.just("LA"),
        ),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=12,
)


@given(st.dictionaries(_ascii, _values, max_size=6))
@settings(max_examples=400)
@example({"small": 1e-05, "text": "x"})  # spelled 0.00001 by orjson
@example({"nan": float("nan")})  # null by orjson
@example({"delete": "\x7f"})  # escaped by json only
@example({"big": 2**64})  # refused by orjson
@example({"when": date(2026, 1, 2), "set": frozenset({3, 1})})
def test_the_fast_canonical_form_is_jsons(payload: dict[str, Any]) -> None:
    reference = json.dumps(
        payload, sort_keys=True, default=_canonical_or_fields, separators=(",", ":")
    ).encode()
    assert _canonical_bytes(payload) == reference
