"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``): strategies for the custom scalars."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

schemathesis.graphql.scalar(
    "Decimal",
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda d: nodes.String(str(d))
    ),
)
schemathesis.graphql.scalar("JSON", st.just(nodes.String("{}")))
