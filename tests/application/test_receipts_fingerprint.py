"""The receipts' fingerprint (ADR 0027) is the hash of the command with its instants in
UTC and its valid time set aside, worked out without making that command: it must equal
the definition, making it with ``dataclasses.replace``, for every command."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from application.receipts import _NO_TIME, fingerprint
from domain import commands as c
from oversight.generate import DEMO_AUTHORITIES


def defined(command: c.Command) -> str:
    """ADR 0027's definition, as first written: the command made again, then hashed."""
    instants: dict[str, Any] = {
        f.name: value.astimezone(UTC)
        for f in fields(command)
        if isinstance(value := getattr(command, f.name), datetime)
        and value.tzinfo is not None
        and f.name != "occurred_at"
    }
    instants["occurred_at"] = _NO_TIME
    return replace(command, **instants).fingerprint()


def test_the_fingerprint_is_its_definition_for_every_generated_command() -> None:
    commands = list(DEMO_AUTHORITIES[1].generator(7, date(2026, 6, 1)).commands())
    kinds = {type(command) for command in commands}
    assert len(commands) > 1_000 and len(kinds) > 20
    shifted = timezone(timedelta(hours=5, minutes=30))
    for command in commands:
        form, body, _valid_time = fingerprint(command).split(":")
        assert (form, body) == ("2", defined(command)), command
        # The same instants given in another offset: the same input.
        moved = {
            f.name: value.astimezone(shifted)
            for f in fields(command)
            if isinstance(value := getattr(command, f.name), datetime) and value.tzinfo is not None
        }
        assert fingerprint(replace(command, **moved)) == fingerprint(command), command
