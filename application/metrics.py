"""The process's metrics, in one registry (issue 25, ADR 0031): what the application
layer and the API count, exposed by the API's ``/metrics`` in the Prometheus format.

The one module of the application layer that imports the Prometheus client (a contract
holds it to that): use cases call ``observe_command`` and ``count_access_write``, never
the client. Labels are command, projection, error-code and authority names only: never
an id of a person or a record, so a scrape holds no personal data.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.process_collector import ProcessCollector

#: Every metric this process counts; the API adds its per-store readings at scrape time.
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

#: Seconds per executed command, by command class and outcome (written, replayed, refused).
COMMAND_SECONDS = Histogram(
    "oversight_command_duration_seconds",
    "Time to decide and write one command, by command and outcome.",
    ["command", "outcome"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
#: Errors the API sent, by ``extensions.code`` (docs/api-errors.md).
API_ERRORS = Counter(
    "oversight_api_errors",
    "Errors sent by the API, by extensions.code.",
    ["code"],
    registry=REGISTRY,
)
#: Reads recorded on a subject's access log.
ACCESS_LOG_WRITES = Counter(
    "oversight_access_log_writes",
    "Reads recorded on subjects' access logs, by authority.",
    ["authority"],
    registry=REGISTRY,
)

WRITTEN = "written"
REPLAYED = "replayed"
REFUSED = "refused"
FAILED = "failed"


def observe_command(command: str, outcome: str, seconds: float) -> None:
    """One command decided (``command``: its class's name)."""
    COMMAND_SECONDS.labels(command, outcome).observe(seconds)


def count_error(code: str) -> None:
    """One error sent to a client, by its code."""
    API_ERRORS.labels(code).inc()


def count_access_write(authority: str, reads: int = 1) -> None:
    """Reads recorded on an access log (written, not only decided)."""
    ACCESS_LOG_WRITES.labels(authority).inc(reads)
