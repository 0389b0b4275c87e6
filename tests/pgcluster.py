"""A throwaway PostgreSQL 15 cluster of a test's own, on a loopback port, that the test
may crash (``pg_ctl stop -m immediate``) and start again."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = ("initdb", "pg_ctl")


def as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(*args: str, timeout: float = 120) -> None:
    done = subprocess.run(as_postgres(*args), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass
class Cluster:
    work: Path
    port: int

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -k {self.work} -p {self.port} -c fsync=off"
        run("pg_ctl", "-D", str(self.data), "-l", str(self.work / "log"), "-w", "-t", "60",
            "-o", options, "start")  # fmt: skip

    def crash(self) -> None:
        """Stop at once, as a crash does: no checkpoint, recovery from the WAL at start.
        (fsync is off: this kills the server, not the machine, so every write the server
        had made is still in the operating system's cache.)"""
        run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        subprocess.run(
            as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )


def new_cluster() -> Cluster:
    if os.environ.get("OVERSIGHT_TEST_BACKENDS", "sqlite,postgres") == "sqlite":
        pytest.skip("PostgreSQL deselected by OVERSIGHT_TEST_BACKENDS=sqlite")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"PostgreSQL 15 tools not on PATH: {missing}"
    work = Path(tempfile.mkdtemp(prefix="oversight-crash-"))
    work.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    cluster = Cluster(work, free_port())
    run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
        "--no-locale")  # fmt: skip
    cluster.start()
    return cluster


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.work, ignore_errors=True)
