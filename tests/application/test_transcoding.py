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


# -- encoding: the library's bytes, written by orjson where it spells them alike (session 10)

odd_leaves = st.one_of(
    leaves,
    st.floats(),  # NaN and the infinities too: the library writes them as it always has
    st.integers(),  # beyond 64 bits
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10),  # non-ASCII, controls
)
odd_values = st.recursive(
    odd_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.booleans()), inner,
                        max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), odd_values, max_size=8))
def test_fast_encoding_writes_the_library_bytes(state: dict[str, Any]) -> None:
    library, fast = _transcoders()
    assert fast.encode(state) == library.encode(state)


def test_an_unregistered_type_is_refused_as_the_library_refuses_it() -> None:
    from eventsourcing.persistence import TranscodingNotRegisteredError

    _, fast = _transcoders()
    try:
        fast.encode({"x": object()})
    except TranscodingNotRegisteredError as error:
        assert "not serializable" in str(error)
    else:
        raise AssertionError("an unregistered type was encoded")


def test_every_stored_event_is_written_again_to_its_very_bytes() -> None:
    """Every event class the fixture holds (63 topics, 90 events, written by the
    library's encoder): decoded and encoded again, the bytes are those stored."""
    import sqlite3
    from pathlib import Path

    fixture = Path(__file__).parents[1] / "fixtures" / "stored-events-2026-12.sqlite3"
    library, fast = _transcoders()
    connection = sqlite3.connect(f"file:{fixture}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT topic, state FROM stored_events").fetchall()
    finally:
        connection.close()
    assert len({topic for topic, _ in rows}) > 60
    for topic, state in rows:
        decoded = fast.decode(bytes(state))
        assert fast.encode(decoded) == library.encode(decoded) == bytes(state), topic


def test_text_is_escaped_as_the_library_escapes_it() -> None:
    _, fast = _transcoders()
    library, _ = _transcoders()
    text = "".join(map(chr, range(0x80))) + '\u2028\u2029\ufeff\U0001f600 é \\ " /'
    state = {"text": text, "nested": [{"k": text}], "tuple": (1, True, None)}
    assert fast.encode(state) == library.encode(state)


def test_a_cycle_is_refused_as_the_library_refuses_it() -> None:
    _, fast = _transcoders()
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    try:
        fast.encode({"x": cyclic})
    except ValueError as error:
        assert "Circular reference" in str(error)
    else:
        raise AssertionError("a cycle was encoded")
