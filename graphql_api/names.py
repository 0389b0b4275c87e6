"""GraphQL names for Python names: the schema is camelCase, the domain snake_case.

Its own module because the errors (a field an error names) and the generated mutations
both need it, and neither should import the other.
"""

from __future__ import annotations


def camel(name: str) -> str:
    """``staff_id`` -> ``staffId``: a command field's GraphQL name."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def lower_first(name: str) -> str:
    """``RecordAccess`` -> ``recordAccess``: a command's mutation name."""
    return name[0].lower() + name[1:]
