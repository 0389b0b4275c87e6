"""Types every area uses: where a page sits in its list, and Relay's ``Node`` (defined
with the global ids in ``graphql_api.relay``; the viewer is ``types.viewer``)."""

from __future__ import annotations

from typing import Any

import strawberry

from graphql_api.relay import Node, Paged

__all__ = ["Node", "PageInfo", "page_info"]


@strawberry.type(
    description="Where a page sits in its whole list (Relay): whether there are items "
    "before and after it, and the cursors to ask for them (pass startCursor as before, "
    "endCursor as after, with the same arguments)."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when the list has items after this page's last (or, for an "
        "empty page, from before on): ask with after: endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="True when the list has items before this page's first (or, for an "
        "empty page, up to after): ask with last and before: startCursor."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor (null: an empty page); only this list, asked "
        "with the same arguments, accepts it."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor (null: an empty page); only this list, asked "
        "with the same arguments, accepts it."
    )


def page_info(page: Paged[Any]) -> PageInfo:
    """A page's place in its list, as the schema gives it."""
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )
