"""Types every area uses: the signed-in viewer, a page's end, and Relay's ``Node``."""

from __future__ import annotations

import strawberry


@strawberry.type(description="Who is signed in.")
class Viewer:
    staff_id: str = strawberry.field(description="Their staff id in their authority.")
    role: str = strawberry.field(description="The role their token carries.")
    authority: str = strawberry.field(description="Their authority's code.")


@strawberry.type(description="Where a page ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when there is more.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")


@strawberry.interface(description="Anything with a global id.")
class Node:
    id: strawberry.ID = strawberry.field(description="A global id: opaque, stable.")
