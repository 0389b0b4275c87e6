"""A subject's history over GraphQL names the signed checkpoint that covers it, with
what an auditor needs to check it offline (ADR 0019, docs/verifying-a-history.md)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.identifiers import child_id
from domain.vocabulary import Role
from oversight.integrity import (
    export_history,
    key_id,
    leaf_hash,
    root_from_inclusion,
    write_checkpoint,
)
from tests.graphql_api.conftest import AUTHORITY, Api

INTEGRITY = """query { child(childId: "C1", purpose: "audit of the record's integrity") {
  integrity {
    checkpoint { number position previousPosition leaves signedAt keyId root previous signature }
    version position leafIndex proof
  }
} }"""


def test_a_childs_history_names_the_checkpoint_that_covers_it(api: Api) -> None:
    token = api.token("SW1", Role.PRACTITIONER)
    assert api.query(INTEGRITY, token)["child"]["integrity"] is None  # none signed yet
    key = Ed25519PrivateKey.generate()
    checkpoint = write_checkpoint(api.database, key)
    assert checkpoint is not None
    found = api.query(INTEGRITY, token)["child"]["integrity"]
    signed = found["checkpoint"]
    assert signed["number"] == checkpoint.number
    assert signed["keyId"] == key_id(key.public_key())
    assert base64.b64decode(signed["signature"]) == checkpoint.signature
    assert checkpoint.verify(key.public_key())
    # The audit path leads from the covered version's chain hash to the signed root.
    exported = export_history(api.database, child_id(AUTHORITY, "C1"))
    assert exported["coverage"]["version"] == found["version"]
    covered = next(row for row in _chain(exported) if row[0] == found["version"])
    root = root_from_inclusion(
        leaf_hash(covered[1]),
        found["leafIndex"],
        signed["leaves"],
        [bytes.fromhex(p) for p in found["proof"]],
    )
    assert root is not None and root.hex() == signed["root"]


def _chain(exported: dict[str, object]) -> list[tuple[int, bytes]]:
    from uuid import UUID

    from oversight.integrity import GENESIS, link

    chain, out = GENESIS, []
    events = exported["events"]
    assert isinstance(events, list)
    for event in events:
        redactions = event["redactions"]
        chain = link(
            chain,
            UUID(str(exported["originator_id"])),
            event["version"],
            event["position"],
            bytes.fromhex(event["commitment"]),
            bytes.fromhex(redactions) if redactions else None,
        )
        out.append((event["version"], chain))
    return out
