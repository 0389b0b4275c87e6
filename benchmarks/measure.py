"""What the benchmarks share: latency summaries, and the raw notification-log read rate
that projection figures are ratios of."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    """Requests, requests per second, p50 and p95 in milliseconds."""
    return {
        "requests": len(samples),
        "requests_per_s": len(samples) / sum(samples),
        "p50_ms": statistics.median(samples) * 1000,
        "p95_ms": percentile(samples, 0.95) * 1000,
    }


def time_each(calls: list[Callable[[], Any]]) -> list[float]:
    """Each call's wall time, in seconds, one after another."""
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


async def asgi_post(
    app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """One HTTP POST through an ASGI app, handed over as a server hands it (the scope,
    the body in one message; the answer collected): the status and the body. The app's
    whole work (every middleware, authentication, GraphQL, the answer's encoding) and
    none of a client library's: httpx's in-process transport builds a request and a
    response object, parses the URL and tries an import for each request, about 0.4 ms
    that the direct path it is compared with does not pay (issue 18, session 15)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "state": {},
    }
    done = asyncio.Event()
    delivered = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # as a server does: the client goes once the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)


def raw_read(app: Any, *, decoding: bool = False) -> tuple[int, float]:
    """Read the whole notification log in pages of 500, without decoding: (events,
    events per second), the reference for projection rates. ``decoding``: and decode
    each event (the library's mapper), nothing else: a floor under any projection."""
    decode = app.mapper.to_domain_event
    started = time.perf_counter()
    count, start = 0, 1
    while page := app.recorder.select_notifications(start=start, limit=500):
        if decoding:
            for notification in page:
                decode(notification)
        count += len(page)
        start = page[-1].id + 1
    return count, count / (time.perf_counter() - started)


def raw_copy_rate(url: str, per_transaction: int) -> float:
    """The reference for an import: the events table's rows, in log order, COPY'd raw by
    psycopg alone into an empty copy of the table, ``per_transaction`` rows a
    transaction (the import's own size); events per second. The copy is dropped after."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM oversight_events "
            "ORDER BY notification_id"
        ).fetchall()
        conn.execute("CREATE TABLE copy_reference (LIKE oversight_events INCLUDING ALL)")
        conn.commit()
        began = time.perf_counter()
        for start in range(0, len(rows), per_transaction):
            with (
                conn.transaction(),
                conn.cursor() as cursor,
                cursor.copy(
                    "COPY copy_reference (originator_id, originator_version, topic, state) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in rows[start : start + per_transaction]:
                    copy.write_row(row)
        seconds = time.perf_counter() - began
        conn.execute("DROP TABLE copy_reference")
        conn.commit()
    return len(rows) / seconds
