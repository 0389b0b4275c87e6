"""A register as a Relay connection (``registerItems``): the same items as ``register``,
paged forwards or backwards with cursors bound to the register, day, team and openness."""

from __future__ import annotations

import strawberry

from graphql_api.types.common import PageInfo
from graphql_api.types.registers import RegisterItem


@strawberry.type(description="An item of a queue or register, with the cursor to page on from it.")
class RegisterItemEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this item; only the "
        "same register asked for the same asOf, team and openOnly accepts it."
    )
    node: RegisterItem = strawberry.field(
        description="The register item (a trigger, action, sign-off or disagreement)."
    )


@strawberry.type(
    description="A page of a queue or register as it stood on asOf, oldest due first "
    "(items with no due date last): Relay pagination forwards or backwards."
)
class RegisterItemConnection:
    edges: list[RegisterItemEdge] = strawberry.field(
        description="This page's items, oldest due first, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether the register has items before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many items the register held on asOf (open ones only, unless "
        "openOnly is false), every page."
    )
