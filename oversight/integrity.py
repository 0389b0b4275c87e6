"""A tamper-evident event log: hash chains per aggregate, signed checkpoints (ADR 0019).

Every stored event carries three values beside its content:

- ``salt``: 16 random bytes, destroyed (set to NULL) when a purge rewrites the event;
- ``commitment`` = SHA-256(salt ‖ len(topic) ‖ topic ‖ state): stands for the event's
  content and, once the salt is gone, reveals nothing about it;
- ``chain_hash`` = SHA-256(previous chain hash of the same aggregate ‖ originator id
  (16 bytes) ‖ version (8, big-endian) ‖ position (8, big-endian) ‖ commitment
  [‖ redactions]), the previous hash of an aggregate's first event being 32 zero bytes.
  ``redactions`` is present only on the event that recorded a purge: SHA-256 over each
  event it rewrote, in position order, of position (8) ‖ SHA-256(len(topic) ‖ topic ‖
  state) of the tombstone. A tombstone names that event in ``purged_by``.

A checkpoint signs, with an Ed25519 key, a notification position and the RFC 6962
Merkle root of the chain hashes of the events after the previous checkpoint up to that
position, chained to the previous checkpoint's message: so a signed checkpoint commits
to the whole log up to its position. The same functions serve every write path (the
recorders, the migration that chains an existing store), verification, and the export
an auditor checks offline (``docs/verifying-a-history.md``).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import orjson
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from oversight.settings import DatabaseSettings, psycopg_conninfo

GENESIS = bytes(32)
SALT_BYTES = 16
CHECKPOINT_HEADER = "oversight-log-checkpoint/1"
CHECKPOINTS_TABLE = "log_checkpoints"
COVERAGE_TABLE = "log_coverage"
#: The most events one checkpoint signs: a store chained by the migration is caught up
#: by several, each held in memory while it is signed.
MAX_LEAVES = 100_000


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def _content(topic: str, state: bytes) -> bytes:
    encoded = topic.encode("utf-8")
    return len(encoded).to_bytes(4, "big") + encoded + bytes(state)


def commitment(salt: bytes, topic: str, state: bytes) -> bytes:
    """What the chain holds for an event's content: hiding once the salt is destroyed."""
    encoded = topic.encode("utf-8")
    digest = hashlib.sha256(salt)
    digest.update(len(encoded).to_bytes(4, "big"))
    digest.update(encoded)
    digest.update(state)  # not copied: a state is a kilobyte or more
    return digest.digest()


def tombstone_digest(topic: str, state: bytes) -> bytes:
    return _sha256(_content(topic, state))


def redaction_digest(tombstones: Sequence[tuple[int, str, bytes]]) -> bytes:
    """Over the (position, topic, state) of every event a purge rewrote."""
    data = b"".join(
        position.to_bytes(8, "big") + tombstone_digest(topic, state)
        for position, topic, state in sorted(tombstones, key=lambda t: t[0])
    )
    return _sha256(data)


def link(
    previous: bytes,
    originator_id: UUID,
    version: int,
    position: int,
    commitment_: bytes,
    redactions: bytes | None = None,
) -> bytes:
    """An event's chain hash (see the module's docstring)."""
    data = (
        bytes(previous)
        + originator_id.bytes
        + version.to_bytes(8, "big", signed=True)
        + position.to_bytes(8, "big", signed=True)
        + bytes(commitment_)
    )
    if redactions is not None:
        data += redactions
    return _sha256(data)


class Seal(NamedTuple):
    """An event's salt, commitment and chain hash. A named tuple: one is made per event
    written, and a frozen dataclass's ``__init__`` cost a fifth of sealing (session 10)."""

    salt: bytes
    commitment: bytes
    chain_hash: bytes


def seal(
    events: Sequence[tuple[UUID, int, str, bytes]],
    positions: Sequence[int],
    previous: Mapping[UUID, bytes],
    redactions: bytes | None = None,
) -> list[Seal]:
    """Salts, commitments and chain hashes for events about to be inserted at
    ``positions``; ``previous`` holds each aggregate's chain hash in the store (absent:
    a new aggregate). ``redactions`` goes into the last event's link (a purge's)."""
    heads = dict(previous)
    seals = []
    last = len(events) - 1
    salts = os.urandom(SALT_BYTES * len(events))  # one system call for all
    for i, ((originator_id, version, topic, state), position) in enumerate(
        zip(events, positions, strict=True)
    ):
        salt = salts[i * SALT_BYTES : (i + 1) * SALT_BYTES]
        committed = commitment(salt, topic, state)
        chained = link(
            heads.get(originator_id, GENESIS),
            originator_id,
            version,
            position,
            committed,
            redactions if i == last else None,
        )
        heads[originator_id] = chained
        seals.append(Seal(salt, committed, chained))
    return seals


# -- Merkle trees (RFC 6962 / RFC 9162, SHA-256) ----------------------------------------


def leaf_hash(chain_hash: bytes) -> bytes:
    return _sha256(b"\x00" + bytes(chain_hash))


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right)


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root over already leaf-hashed entries (the empty tree: SHA-256 of nothing)."""
    if not leaves:
        return _sha256(b"")
    level = list(leaves)
    return _subtree(level, 0, len(level))


def _subtree(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    n = end - start
    if n == 1:
        return leaves[start]
    k = _split(n)
    return _node(_subtree(leaves, start, start + k), _subtree(leaves, start + k, end))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` (RFC 6962 section 2.1.1)."""
    return inclusion_proofs(leaves, [index])[1][index]


def inclusion_proofs(
    leaves: Sequence[bytes], indices: Sequence[int]
) -> tuple[bytes, dict[int, list[bytes]]]:
    """The root, and the audit paths of the leaves at ``indices``, in one pass over the
    tree (a path at a time would hash the tree once per leaf)."""
    paths: dict[int, list[bytes]] = {i: [] for i in indices}
    if not leaves:
        return merkle_root(leaves), paths
    root = _paths(leaves, 0, len(leaves), sorted(paths), paths)
    return root, paths


def _paths(
    leaves: Sequence[bytes],
    start: int,
    end: int,
    wanted: list[int],
    paths: dict[int, list[bytes]],
) -> bytes:
    if end - start == 1:
        return leaves[start]
    middle = start + _split(end - start)
    cut = bisect.bisect_left(wanted, middle)
    left_wanted, right_wanted = wanted[:cut], wanted[cut:]
    if left_wanted or right_wanted:
        left = _paths(leaves, start, middle, left_wanted, paths)
        right = _paths(leaves, middle, end, right_wanted, paths)
    else:
        left, right = _subtree(leaves, start, middle), _subtree(leaves, middle, end)
    # Bottom-up: the deeper siblings were appended by the calls above.
    for i in left_wanted:
        paths[i].append(right)
    for i in right_wanted:
        paths[i].append(left)
    return _node(left, right)


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root a leaf and its audit path lead to (RFC 9162 section 2.1.3.2), or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# -- keys -------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def signing_key(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    """The key at ``path``; with ``create``, made there first if missing (development,
    like the token keys)."""
    if create and not path.exists():
        _create_key(path)
    return load_private_key(path)


def _create_key(path: Path) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


# -- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    number: int
    position: int
    previous_position: int
    leaf_count: int
    root: bytes
    previous_hash: bytes
    created_at: str
    key_id: str
    signature: bytes = b""

    def message(self) -> bytes:
        """The exact bytes signed."""
        return (
            f"{CHECKPOINT_HEADER}\n"
            f"number {self.number}\n"
            f"position {self.position}\n"
            f"previous-position {self.previous_position}\n"
            f"leaves {self.leaf_count}\n"
            f"root {self.root.hex()}\n"
            f"previous {self.previous_hash.hex()}\n"
            f"time {self.created_at}\n"
            f"key {self.key_id}\n"
        ).encode("ascii")

    def digest(self) -> bytes:
        """What the next checkpoint names as ``previous``."""
        return _sha256(self.message())

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            public_key.verify(self.signature, self.message())
        except InvalidSignature:
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "position": self.position,
            "previous_position": self.previous_position,
            "leaves": self.leaf_count,
            "root": self.root.hex(),
            "previous": self.previous_hash.hex(),
            "time": self.created_at,
            "key": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }


_CHECKPOINT_COLUMNS = (
    "number, position, previous_position, leaf_count, root, previous_hash, created_at, "
    "key_id, signature"
)


def _checkpoint(row: Sequence[Any]) -> Checkpoint:
    number, position, previous, count, root, previous_hash, created, key, signature = row
    return Checkpoint(
        int(number),
        int(position),
        int(previous),
        int(count),
        bytes(root),
        bytes(previous_hash),
        str(created),
        str(key),
        bytes(signature),
    )


# -- the store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes
    salt: bytes | None
    commitment: bytes | None
    chain_hash: bytes | None
    purged_by: int | None


class LogStore:
    """Plain driver access to the events, checkpoints and coverage tables."""

    def __init__(self, database: DatabaseSettings) -> None:
        self.database = database
        self.sqlite = database.backend == "sqlite"
        self.events = "stored_events" if self.sqlite else "oversight_events"
        self.pos = "rowid" if self.sqlite else "notification_id"
        self.p = "?" if self.sqlite else "%s"
        self.conn: Any
        if self.sqlite:
            assert database.sqlite_path is not None
            self.conn = sqlite3.connect(database.sqlite_path, isolation_level=None, timeout=30)
        else:
            self.conn = psycopg.connect(psycopg_conninfo(database), autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LogStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _uuid(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(str(value))

    def _row(self, r: Sequence[Any]) -> Row:
        return Row(
            int(r[0]),
            self._uuid(r[1]),
            int(r[2]),
            str(r[3]),
            bytes(r[4]),
            None if r[5] is None else bytes(r[5]),
            None if r[6] is None else bytes(r[6]),
            None if r[7] is None else bytes(r[7]),
            None if r[8] is None else int(r[8]),
        )

    def rows(self, after: int = 0, upto: int | None = None, page: int = 5_000) -> Iterator[Row]:
        """Every event in position order (``after`` < position ≤ ``upto``)."""
        p = self.p
        bound = f" AND {self.pos} <= {p}" if upto is not None else ""
        sql = (
            f"SELECT {self.pos}, originator_id, originator_version, topic, state, salt, "
            f"commitment, chain_hash, purged_by FROM {self.events} "
            f"WHERE {self.pos} > {p}{bound} ORDER BY {self.pos} LIMIT {p}"
        )
        while True:
            params: tuple[Any, ...] = (after, upto, page) if upto is not None else (after, page)
            batch = self.conn.execute(sql, params).fetchall()
            for r in batch:
                yield self._row(r)
            if len(batch) < page:
                return
            after = int(batch[-1][0])

    def leaves(self, after: int, upto: int, limit: int) -> list[tuple[int, UUID, int, bytes]]:
        """(position, originator id, version, chain hash) of the first ``limit`` events in
        (after, upto]."""
        p = self.p
        rows = self.conn.execute(
            f"SELECT {self.pos}, originator_id, originator_version, chain_hash "
            f"FROM {self.events} WHERE {self.pos} > {p} AND {self.pos} <= {p} "
            f"ORDER BY {self.pos} LIMIT {p}",
            (after, upto, limit),
        ).fetchall()
        return [(int(r[0]), self._uuid(r[1]), int(r[2]), bytes(r[3] or b"")) for r in rows]

    def subject_rows(self, originator_id: UUID) -> list[Row]:
        p = self.p
        key = originator_id.hex if self.sqlite else originator_id
        rows = self.conn.execute(
            f"SELECT {self.pos}, originator_id, originator_version, topic, state, salt, "
            f"commitment, chain_hash, purged_by FROM {self.events} "
            f"WHERE originator_id = {p} ORDER BY originator_version",
            (key,),
        ).fetchall()
        return [self._row(r) for r in rows]

    def redactions_of(self, positions: Sequence[int]) -> dict[int, list[tuple[int, str, bytes]]]:
        """The tombstones each of ``positions`` wrote, by the purge's position."""
        found: dict[int, list[tuple[int, str, bytes]]] = {}
        for start in range(0, len(positions), 500):
            chunk = list(positions[start : start + 500])
            rows = self.conn.execute(
                f"SELECT purged_by, {self.pos}, topic, state FROM {self.events} "
                f"WHERE purged_by IN ({', '.join([self.p] * len(chunk))})",
                chunk,
            ).fetchall()
            for r in rows:
                found.setdefault(int(r[0]), []).append((int(r[1]), str(r[2]), bytes(r[3])))
        return found

    def head(self) -> int:
        value = self.conn.execute(f"SELECT MAX({self.pos}) FROM {self.events}").fetchone()[0]
        return 0 if value is None else int(value)

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM {CHECKPOINTS_TABLE} ORDER BY number"
        ).fetchall()
        return [_checkpoint(r) for r in rows]

    def checkpoint(self, number: int) -> Checkpoint | None:
        row = self.conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM {CHECKPOINTS_TABLE} WHERE number = {self.p}",
            (number,),
        ).fetchone()
        return None if row is None else _checkpoint(row)

    def last_checkpoint(self) -> Checkpoint | None:
        row = self.conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM {CHECKPOINTS_TABLE} ORDER BY number DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _checkpoint(row)

    def coverage(self, originator_id: UUID) -> tuple[int, int, int, int, bytes] | None:
        """(checkpoint number, version, position, leaf index, proof) of an aggregate."""
        key = originator_id.hex if self.sqlite else str(originator_id)
        row = self.conn.execute(
            "SELECT checkpoint_number, originator_version, position, leaf_index, proof "
            f"FROM {COVERAGE_TABLE} WHERE originator_id = {self.p}",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), int(row[1]), int(row[2]), int(row[3]), bytes(row[4])


# -- writing checkpoints -----------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_checkpoint(
    database: DatabaseSettings, key: Ed25519PrivateKey, *, min_events: int = 1
) -> Checkpoint | None:
    """Sign a checkpoint over the events since the last one (none if fewer than
    ``min_events``), and record which checkpoint now covers each aggregate it saw.
    Serialised by the database: SQLite's write lock, a PostgreSQL advisory lock."""
    with LogStore(database) as store:
        conn = store.conn
        if store.sqlite:
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.autocommit = False
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('oversight-log-checkpoint'))")
        try:
            written = _write_checkpoint(store, key, min_events)
        except BaseException:
            if store.sqlite:
                conn.execute("ROLLBACK")
            else:
                conn.rollback()
            raise
        if store.sqlite:
            conn.execute("COMMIT")
        else:
            conn.commit()
        return written


def _write_checkpoint(
    store: LogStore, key: Ed25519PrivateKey, min_events: int
) -> Checkpoint | None:
    last = store.last_checkpoint()
    after = last.position if last else 0
    # Every position up to the log's head is committed: positions are issued under the
    # insert lock in commit order (ADR 0002), so none below the head can appear later.
    upto = store.head()
    leaves = store.leaves(after, upto, limit=MAX_LEAVES)
    if len(leaves) < max(min_events, 1):
        return None
    if len(leaves) == MAX_LEAVES:
        upto = leaves[-1][0]  # the rest goes into the next checkpoint
    hashed = [leaf_hash(chain) for _, _, _, chain in leaves]
    public = key.public_key()
    unsigned = Checkpoint(
        number=(last.number + 1) if last else 1,
        position=upto,
        previous_position=after,
        leaf_count=len(leaves),
        root=merkle_root(hashed),
        previous_hash=last.digest() if last else GENESIS,
        created_at=_now(),
        key_id=key_id(public),
    )
    checkpoint = replace(unsigned, signature=key.sign(unsigned.message()))
    p = store.p
    store.conn.execute(
        f"INSERT INTO {CHECKPOINTS_TABLE} ({_CHECKPOINT_COLUMNS}) VALUES ({', '.join([p] * 9)})",
        (
            checkpoint.number,
            checkpoint.position,
            checkpoint.previous_position,
            checkpoint.leaf_count,
            checkpoint.root,
            checkpoint.previous_hash,
            checkpoint.created_at,
            checkpoint.key_id,
            checkpoint.signature,
        ),
    )
    # Each aggregate's last event in the range: which checkpoint now covers its history.
    lasts: dict[UUID, tuple[int, int, int]] = {}
    for index, (position, originator_id, version, _) in enumerate(leaves):
        lasts[originator_id] = (index, position, version)
    _, proofs = inclusion_proofs(hashed, [index for index, _, _ in lasts.values()])
    params = [
        (
            originator_id.hex if store.sqlite else str(originator_id),
            checkpoint.number,
            version,
            position,
            index,
            b"".join(proofs[index]),
        )
        for originator_id, (index, position, version) in lasts.items()
    ]
    sql = (
        f"INSERT INTO {COVERAGE_TABLE} (originator_id, checkpoint_number, "
        f"originator_version, position, leaf_index, proof) VALUES ({', '.join([p] * 6)}) "
        "ON CONFLICT (originator_id) DO UPDATE SET "
        "checkpoint_number = excluded.checkpoint_number, "
        "originator_version = excluded.originator_version, position = excluded.position, "
        "leaf_index = excluded.leaf_index, proof = excluded.proof"
    )
    if store.sqlite:
        store.conn.executemany(sql, params)
    else:
        with store.conn.cursor() as curs:
            curs.executemany(sql, params)
    return checkpoint


def catch_up(
    database: DatabaseSettings, key: Ed25519PrivateKey, *, min_events: int = 1
) -> list[Checkpoint]:
    """As many checkpoints as it takes to cover the log (``MAX_LEAVES`` events each)."""
    written = []
    while (checkpoint := write_checkpoint(database, key, min_events=min_events)) is not None:
        written.append(checkpoint)
    return written


@dataclass
class Checkpointer:
    """Every ``interval`` seconds, checkpoints what the log has grown by (if by at least
    ``min_events``). Run by ``oversight log checkpoint --follow`` (ADR 0019)."""

    database: DatabaseSettings
    key: Ed25519PrivateKey
    interval: float = 60.0
    min_events: int = 1
    stopping: threading.Event = field(default_factory=threading.Event)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            catch_up(self.database, self.key, min_events=self.min_events)
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


# -- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    position: int
    message: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.message}"


@dataclass
class Verification:
    events: int = 0
    checkpoints: int = 0
    purged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.position) if self.problems else None


def _authority_of(row: Row) -> str | None:
    try:
        state = orjson.loads(row.state)
    except orjson.JSONDecodeError:
        return None
    value = state.get("authority_code") if isinstance(state, dict) else None
    return value if isinstance(value, str) else None


def verify(
    database: DatabaseSettings,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    authority: str | None = None,
    limit: int = 20,
) -> Verification:
    """Recompute every event's commitment (where its salt remains) and chain hash, each
    purge's redactions, and every checkpoint's root, chain and signature (when its key
    is among ``public_keys``). With ``authority``, only that authority's aggregates'
    events are checked; checkpoints still cover the whole log."""
    report = Verification()
    with LogStore(database) as store:
        checkpoints = store.checkpoints()
        report.checkpoints = len(checkpoints)
        _check_checkpoint_chain(checkpoints, public_keys, report)
        pending = iter(checkpoints)
        current = next(pending, None)
        leaves: list[bytes] = []
        heads: dict[UUID, tuple[int, bytes]] = {}
        owners: dict[UUID, bool] = {}
        redactions: dict[int, list[tuple[int, str, bytes]]] = {}
        for row in store.rows():
            while current is not None and row.position > current.position:
                _close_checkpoint(current, leaves, report)
                leaves = []
                current = next(pending, None)
            if current is not None and row.position > current.previous_position:
                leaves.append(leaf_hash(row.chain_hash or b""))
            report.events += 1
            _check_row(row, heads, redactions, report, owners, authority)
            if len(report.problems) >= limit:
                return report
        while current is not None:
            _close_checkpoint(current, leaves, report)
            leaves = []
            current = next(pending, None)
        for position, tombstones in sorted(redactions.items()):
            for tombstone_position, _, _ in tombstones:
                report.problems.append(
                    Problem(
                        tombstone_position,
                        f"a tombstone names position {position} as its purge, and no "
                        "event there recorded it",
                    )
                )
    return report


def _check_row(
    row: Row,
    heads: dict[UUID, tuple[int, bytes]],
    redactions: dict[int, list[tuple[int, str, bytes]]],
    report: Verification,
    owners: dict[UUID, bool],
    authority: str | None,
) -> None:
    if row.salt is None:
        report.purged += 1
        if row.purged_by is None:
            report.problems.append(Problem(row.position, "no salt and no purge that rewrote it"))
        else:
            redactions.setdefault(row.purged_by, []).append((row.position, row.topic, row.state))
    mine = owners.get(row.originator_id)
    if mine is None:
        mine = authority is None or _authority_of(row) == authority
        owners[row.originator_id] = mine
    previous_version, previous = heads.get(row.originator_id, (None, GENESIS))
    rewritten = redactions.pop(row.position, None)
    digest = redaction_digest(rewritten) if rewritten is not None else None
    if row.commitment is None or row.chain_hash is None:
        if mine:
            report.problems.append(Problem(row.position, "no commitment or chain hash"))
        heads[row.originator_id] = (row.version, row.chain_hash or GENESIS)
        return
    heads[row.originator_id] = (row.version, row.chain_hash)
    if not mine:
        return
    if previous_version is not None and row.version <= previous_version:
        report.problems.append(
            Problem(
                row.position,
                f"version {row.version} of {row.originator_id} follows version "
                f"{previous_version} in the log",
            )
        )
        return
    if row.salt is not None and commitment(row.salt, row.topic, row.state) != row.commitment:
        report.problems.append(Problem(row.position, "content does not match its commitment"))
        return
    expected = link(previous, row.originator_id, row.version, row.position, row.commitment, digest)
    if expected != row.chain_hash:
        rewrote = ""
        if rewritten:
            listed = ", ".join(str(p) for p, _, _ in sorted(rewritten))
            rewrote = f", or the tombstones it wrote (positions {listed}) were altered"
        report.problems.append(
            Problem(
                row.position,
                f"chain hash of {row.originator_id} version {row.version} does not follow "
                f"from its predecessor, place and content{rewrote}",
            )
        )


def _close_checkpoint(checkpoint: Checkpoint, leaves: list[bytes], report: Verification) -> None:
    if len(leaves) != checkpoint.leaf_count or merkle_root(leaves) != checkpoint.root:
        report.problems.append(
            Problem(
                checkpoint.previous_position + 1,
                f"the events in positions {checkpoint.previous_position + 1}.."
                f"{checkpoint.position} ({len(leaves)}) are not those signed by checkpoint "
                f"{checkpoint.number} ({checkpoint.leaf_count})",
            )
        )


def _check_checkpoint_chain(
    checkpoints: Sequence[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    report: Verification,
) -> None:
    previous: Checkpoint | None = None
    for checkpoint in checkpoints:
        at = checkpoint.previous_position + 1
        expected_number = previous.number + 1 if previous else 1
        expected_after = previous.position if previous else 0
        expected_hash = previous.digest() if previous else GENESIS
        if (
            checkpoint.number != expected_number
            or checkpoint.previous_position != expected_after
            or checkpoint.previous_hash != expected_hash
        ):
            report.problems.append(
                Problem(at, f"checkpoint {checkpoint.number} does not follow its predecessor")
            )
        if public_keys is not None:
            key = public_keys.get(checkpoint.key_id)
            if key is None:
                report.problems.append(
                    Problem(at, f"checkpoint {checkpoint.number}: unknown key {checkpoint.key_id}")
                )
            elif not checkpoint.verify(key):
                report.problems.append(
                    Problem(at, f"checkpoint {checkpoint.number}: the signature does not verify")
                )
        previous = checkpoint


# -- export for an auditor ---------------------------------------------------------------


def export_history(database: DatabaseSettings, originator_id: UUID) -> dict[str, Any]:
    """One aggregate's stored events with what an auditor needs to check them offline
    against the signed checkpoint that covers them (``docs/verifying-a-history.md``)."""
    with LogStore(database) as store:
        rows = store.subject_rows(originator_id)
        purges = store.redactions_of([row.position for row in rows])
        events = []
        for row in rows:
            rewritten = purges.get(row.position)
            events.append(
                {
                    "position": row.position,
                    "version": row.version,
                    "topic": row.topic if row.salt is not None else None,
                    "state": base64.b64encode(row.state).decode("ascii")
                    if row.salt is not None
                    else None,
                    "salt": row.salt.hex() if row.salt is not None else None,
                    "commitment": (row.commitment or b"").hex(),
                    "redactions": redaction_digest(rewritten).hex() if rewritten else None,
                }
            )
        covered = store.coverage(originator_id)
        checkpoint = store.checkpoint(covered[0]) if covered else None
    coverage = None
    if covered is not None and checkpoint is not None:
        _, version, position, index, proof = covered
        coverage = {
            "checkpoint": checkpoint.as_dict(),
            "version": version,
            "position": position,
            "leaf_index": index,
            "proof": [proof[i : i + 32].hex() for i in range(0, len(proof), 32)],
        }
    return {"originator_id": str(originator_id), "events": events, "coverage": coverage}
