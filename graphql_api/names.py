"""GraphQL names for Python names: the schema is camelCase, the domain snake_case.

Its own module because the errors (a field an error names) and the generated mutations
both need it, and neither should import the other.
"""

from __future__ import annotations

import re

#: A snake_case word outside quotes (a quoted part is the caller's value, kept as is).
_SNAKE_OR_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")


def camel(name: str) -> str:
    """``staff_id`` -> ``staffId``: a command field's GraphQL name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def lower_first(name: str) -> str:
    """``RecordAccess`` -> ``recordAccess``: a command's mutation name."""
    return name[0].lower() + name[1:]


def camel_words(text: str) -> str:
    """``text`` with every snake_case word outside quotes in its GraphQL form: a message
    names fields as the API does, never as the code does (ADR 0027)."""
    return _SNAKE_OR_QUOTED.sub(lambda m: camel(m.group(1)) if m.group(1) else m.group(0), text)
