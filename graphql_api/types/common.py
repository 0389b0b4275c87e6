"""Types every area uses: a page's end and Relay's ``Node`` (the viewer is ``types.viewer``)."""

from __future__ import annotations

import strawberry


@strawberry.type(description="Where a page ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when there is more.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")


@strawberry.interface(description="Anything with a global id.")
class Node:
    id: strawberry.ID = strawberry.field(description="A global id: opaque, stable.")
