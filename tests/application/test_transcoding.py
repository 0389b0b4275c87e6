"""The fast JSON transcoder decodes exactly what the library's own transcoder decodes.

``FastJSONTranscoder`` parses with orjson and rebuilds registered types in one walk of its
own (ADR 0006). Every stored event is read through it, so it must agree with the
library's ``object_hook`` decoding on anything the library can encode, nested however.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from application.app import OversightApplication
from application.transcoding import FastJSONTranscoder
from domain.provenance import Provenance
from domain.values import SmartAction


def _transcoders() -> tuple[JSONTranscoder, JSONTranscoder]:
    app = OversightApplication.__new__(OversightApplication)  # only its registrations
    library, fast = JSONTranscoder(), FastJSONTranscoder()
    OversightApplication.register_transcodings(app, library)
    OversightApplication.register_transcodings(app, fast)
    return library, fast


aware = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).flatmap(
    lambda moment: st.sampled_from(
        [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
    ).map(lambda zone: moment.replace(tzinfo=zone))
)
text = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and "\x00" not in s)
provenances = st.builds(
    Provenance,
    occurred_at=aware,
    actor_id=text,
    actor_role=st.sampled_from(["social_worker", "team_manager"]),
    command_id=text,
    imported=st.booleans(),
)
actions = st.builds(SmartAction, action_id=text, description=text, owner=text, due_on=st.dates())
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
    st.dates(),
    aware,
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    provenances,
    actions,
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(max_size=8).filter(lambda k: k not in ("_type_", "_data_")), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), values, max_size=8))
def test_fast_decoding_equals_the_library_decoding(state: dict[str, Any]) -> None:
    library, fast = _transcoders()
    encoded = library.encode(state)
    assert fast.encode(state) == encoded  # what is on disk never changes
    decoded = fast.decode(encoded)
    assert decoded == library.decode(encoded) == state
    assert _types(decoded) == _types(state)


def test_a_registered_type_nested_in_a_registered_type_is_decoded_innermost_first() -> None:
    library, fast = _transcoders()
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    state = {
        "provenance": Provenance(moment, "w-1", "social_worker", "cmd-1"),
        "actions": [SmartAction("a-1", "Visit", "w-1", date(2026, 4, 1))],
        "amount": Decimal("1.50"),
        "ids": [UUID(int=7)],
    }
    decoded = fast.decode(library.encode(state))
    assert decoded == state
    assert type(decoded["provenance"].occurred_at) is datetime
    assert decoded["provenance"].occurred_at == moment
    assert type(decoded["actions"][0].due_on) is date


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)
