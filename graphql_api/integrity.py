"""Which signed checkpoint of the event log covers a subject's history (ADR 0019).

Read from ``log_checkpoints`` and ``log_coverage``, which ``oversight log checkpoint``
keeps; everything an auditor needs to check the history offline with the public key
(``docs/verifying-a-history.md``) and nothing about the subject's content.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import strawberry
from sqlalchemy import Engine, text


@strawberry.type(
    description="A checkpoint of the event log, signed with the deployment's Ed25519 key: "
    "the Merkle root of the events' chain hashes after the previous checkpoint up to "
    "`position`, chained to the previous checkpoint (docs/verifying-a-history.md)."
)
class LogCheckpoint:
    number: int = strawberry.field(description="Its number: 1, 2, 3, ... in log order.")
    position: strawberry.ID = strawberry.field(description="The last log position it covers.")
    previous_position: strawberry.ID = strawberry.field(
        description="The last position the previous checkpoint covered (0 for the first)."
    )
    leaves: int = strawberry.field(description="How many events it signs (its tree's size).")
    signed_at: datetime = strawberry.field(
        description="When the log signed it (UTC); events recorded later await the next checkpoint."
    )
    key_id: str = strawberry.field(
        description="The signing key: the first 16 hex digits of SHA-256 of the raw public key."
    )
    root: str = strawberry.field(description="The Merkle root it signs (hex).")
    previous: str = strawberry.field(
        description="SHA-256 of the previous checkpoint's message (hex)."
    )
    signature: str = strawberry.field(description="The Ed25519 signature of its message (base64).")


@strawberry.type(
    description="The signed checkpoint that covers a subject's stored history up to a "
    "version, with the audit path from that version's chain hash to the checkpoint's root."
)
class HistoryIntegrity:
    checkpoint: LogCheckpoint = strawberry.field(
        description="The signed checkpoint whose Merkle root the audit path leads to."
    )
    version: int = strawberry.field(
        description="The subject's last version it covers (later events await the next)."
    )
    position: strawberry.ID = strawberry.field(description="That version's log position.")
    leaf_index: int = strawberry.field(description="Its leaf's index in the checkpoint's tree.")
    proof: list[str] = strawberry.field(description="The audit path (hex hashes, RFC 9162).")


def history_integrity(engine: Engine, subject: uuid.UUID) -> HistoryIntegrity | None:
    key = subject.hex if engine.dialect.name == "sqlite" else str(subject)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.number, c.position, c.previous_position, c.leaf_count, c.created_at, "
                "c.key_id, c.root, c.previous_hash, c.signature, v.originator_version, "
                "v.position, v.leaf_index, v.proof FROM log_coverage AS v "
                "JOIN log_checkpoints AS c ON c.number = v.checkpoint_number "
                "WHERE v.originator_id = :subject"
            ),
            {"subject": key},
        ).first()
    if row is None:
        return None
    number, position, previous_position, leaves, created, key_id, root, previous = row[:8]
    signature, version, covered, index, proof = row[8:]
    path = bytes(proof)
    return HistoryIntegrity(
        checkpoint=LogCheckpoint(
            number=int(number),
            position=strawberry.ID(str(position)),
            previous_position=strawberry.ID(str(previous_position)),
            leaves=int(leaves),
            signed_at=datetime.fromisoformat(str(created)),
            key_id=str(key_id),
            root=bytes(root).hex(),
            previous=bytes(previous).hex(),
            signature=base64.b64encode(bytes(signature)).decode("ascii"),
        ),
        version=int(version),
        position=strawberry.ID(str(covered)),
        leaf_index=int(index),
        proof=[path[i : i + 32].hex() for i in range(0, len(path), 32)],
    )
