"""The aggregates a process keeps between commands, so a command need not fold its
aggregates' whole history from the store each time (ADR 0016)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

#: How many aggregates a process keeps between commands (``OVERSIGHT_AGGREGATE_CACHE_SIZE``;
#: 0 keeps none). See ``AggregateCache``.
AGGREGATE_CACHE_SIZE = 2_000


class AggregateCache:
    """The aggregates the last commands in this process decided on, each as the store
    had it after that command (ADR 0016).

    A command *takes* an aggregate out (no other thread can have it meanwhile), decides
    on it, and the aggregates of a written command are put back as they now are. A
    refused or failed command puts nothing back: whatever it changed in memory is
    dropped with it, and the next command reads the store. Nothing is copied.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, aggregate_id: UUID) -> Any:
        with self._lock:
            return self._kept.pop(aggregate_id, None)

    def put(self, aggregate: Aggregate) -> None:
        self.put_all((aggregate,))

    def put_all(self, aggregates: Iterable[Aggregate]) -> None:
        """Keep each of ``aggregates``, in order, under one taking of the lock (a
        command puts back what it read and what it wrote: session 10)."""
        kept_ = self._kept
        with self._lock:
            for aggregate in aggregates:
                key = aggregate.id
                kept = kept_.get(key)
                if kept is not None and kept.version > aggregate.version:
                    continue  # another thread's command put back a later version meanwhile
                kept_[key] = aggregate
                kept_.move_to_end(key)
            while len(kept_) > self.maxsize:
                kept_.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


def cache_size(configured: str | None) -> int:
    """The cache's size from ``OVERSIGHT_AGGREGATE_CACHE_SIZE`` (unset: the default)."""
    size = configured or str(AGGREGATE_CACHE_SIZE)
    if not size.isdigit():
        msg = f"OVERSIGHT_AGGREGATE_CACHE_SIZE must be a whole number, not {size!r}"
        raise ValueError(msg)
    return int(size)


__all__ = ["AGGREGATE_CACHE_SIZE", "AggregateCache", "cache_size"]
