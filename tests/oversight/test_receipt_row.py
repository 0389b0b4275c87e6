"""A receipt's row names its aggregates as ``json.dumps`` of their hex ids always has
(session 10 writes the text without the encoder): stored receipts never change."""

from __future__ import annotations

import json
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from application.receipts import CommandReceipt
from oversight.eventstore import _receipt_from_row, _receipt_row


@given(st.lists(st.uuids(), max_size=6).map(tuple), st.none() | st.uuids())
def test_the_aggregates_are_written_as_json_writes_them(
    ids: tuple[UUID, ...], last: UUID | None
) -> None:
    receipt = CommandReceipt(
        authority_code="DUR",
        command_id="c-1",
        command_name="RecordCaseSupervision",
        fingerprint="f" * 64,
        last_originator_id=last,
        last_originator_version=None if last is None else 3,
        aggregate_ids=ids,
    )
    row = _receipt_row(receipt)
    assert row[-1] == json.dumps([i.hex for i in ids])
    assert _receipt_from_row(row) == receipt
