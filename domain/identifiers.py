"""Deterministic aggregate ids from each authority's own identifiers (ADR 0003).

``uuid5(namespace, "<authority>/<kind>/<local id>")``: the same worker or child always
maps to the same aggregate, so a repeated registration collides on version 1 instead of
creating a twin, and ids from two authorities never meet.
"""

from __future__ import annotations

import re
from functools import lru_cache
from uuid import UUID, uuid5

from domain.errors import ValidationError

#: Fixed forever: changing it would orphan every stored aggregate.
OVERSIGHT_NAMESPACE = UUID("6f1d3c1e-8f0a-5d55-9a53-0c9d1f3a7b21")

AUTHORITY_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
LOCAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")


def check_authority_code(code: str, *, field: str = "authority_code") -> str:
    if not isinstance(code, str) or not AUTHORITY_CODE.match(code):
        raise ValidationError(
            "an authority code is 2-32 characters: capital letters, digits, '_' or '-', "
            "starting with a letter",
            field=field,
        )
    return code


def check_local_id(value: str, *, field: str) -> str:
    if not isinstance(value, str) or not LOCAL_ID.match(value):
        raise ValidationError(
            "an identifier is 1-64 characters: letters, digits, '_', '.', '/' or '-', "
            "starting with a letter or digit",
            field=field,
        )
    return value


def authority_id(code: str) -> UUID:
    return _named(f"authority/{check_authority_code(code)}")


def worker_id(authority_code: str, staff_id: str) -> UUID:
    check_authority_code(authority_code)
    return _named(f"{authority_code}/worker/{check_local_id(staff_id, field='staff_id')}")


def child_id(authority_code: str, local_child_id: str) -> UUID:
    check_authority_code(authority_code)
    return _named(f"{authority_code}/child/{check_local_id(local_child_id, field='child_id')}")


@lru_cache(maxsize=1 << 18)
def _named(name: str) -> UUID:
    """The id for an already validated name. Kept: every command works its subjects'
    ids out again, and a SHA-1 each time was 5 % of a bulk import (ADR 0015)."""
    return uuid5(OVERSIGHT_NAMESPACE, name)
