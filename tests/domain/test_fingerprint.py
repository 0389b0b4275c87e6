"""A command's fingerprint is stored in its receipt, so its canonical form must never
change: the fast form is checked against ``dataclasses.asdict`` for every kind of
command the demo and the generator write."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date

from domain.commands import Command, _canonical
from oversight.demo import DEMO_AUTHORITIES, build_plan
from oversight.generate import SCALES, AuthorityGenerator


def reference_fingerprint(command: Command) -> str:
    payload = {"command": type(command).__name__, **asdict(command)}
    canonical = json.dumps(payload, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_fingerprints_are_those_of_the_canonical_form() -> None:
    commands: list[Command] = [
        command
        for demo in DEMO_AUTHORITIES
        for command in build_plan(3, date(2026, 1, 1), demo).ordered()
    ]
    generator = AuthorityGenerator(
        SCALES["small"], seed=2, until=date(2025, 6, 1), authority_code="FP"
    )
    commands += list(generator.commands())[:20_000]
    kinds = {type(command).__name__ for command in commands}
    assert len(kinds) >= 25
    for command in commands:
        assert command.fingerprint() == reference_fingerprint(command), command.command_id
