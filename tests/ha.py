"""A throwaway pg_auto_failover formation (ADR 0034): a monitor, a primary and a standby,
each a PostgreSQL 15 instance managed by ``pg_autoctl`` as the ``postgres`` user, in one
temporary directory, on free loopback ports. Standard library only, so that
``scripts/with-ha-cluster`` runs it too (``python3 -m tests.ha -- COMMAND``).

The monitor's health checks are tuned down (``FAST_FAILOVER``) so that a dead primary is
replaced in seconds rather than the production defaults' half a minute: the test
measures the failover, it does not wait for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG_AUTOCTL = "pg_autoctl"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DBNAME = "oversight"
FORMATION = "default"

#: The monitor's settings (pg_auto_failover's GUCs, ``pgautofailover.*``) for a quick
#: failover on loopback: health checks every second, a node unhealthy after 3 s without
#: news, a primary that cannot be reached given 3 s to demote itself. Production keeps
#: the defaults (docs/operations.md, Deployment).
FAST_FAILOVER = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "3000",
    "pgautofailover.primary_demote_timeout": "3000",
    "pgautofailover.startup_grace_period": "3000",
}
#: The keepers' own timeouts (``pg_autoctl config set``), in seconds.
FAST_KEEPER = {
    "timeout.network_partition_timeout": "3",
    "timeout.prepare_promotion_catchup": "5",
    "timeout.prepare_promotion_walreceiver": "2",
}


class HAUnavailable(RuntimeError):
    """pg_auto_failover cannot run here; the message says what is missing and how to
    install it (``scripts/install-ha``)."""


def pg_autoctl_path() -> str | None:
    return shutil.which(PG_AUTOCTL)


def missing() -> str | None:
    """Why a formation cannot be started here, or None when it can."""
    if pg_autoctl_path() is None:
        return (
            "pg_autoctl is not installed (Debian's postgresql-15-auto-failover): run "
            "scripts/install-ha, as `make test` does"
        )
    if not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 is not installed under {PG_BIN}"
    if os.geteuid() == 0:
        try:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
        except subprocess.CalledProcessError:
            return "running as root, and there is no postgres user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Node:
    name: str
    pgdata: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DBNAME}"


@dataclass
class Formation:
    """A monitor and two nodes; ``start`` waits until one is a writable primary and the
    other a streaming standby; ``close`` stops and removes everything."""

    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="oversight-ha-")))
    monitor: Node = field(init=False)
    nodes: list[Node] = field(init=False)

    def __post_init__(self) -> None:
        self.work.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.work, "postgres")
        self.monitor = Node("monitor", self.work / "monitor", free_port())
        self.nodes = [
            Node("node_1", self.work / "node_1", free_port()),
            Node("node_2", self.work / "node_2", free_port()),
        ]

    # -- running pg_autoctl as the postgres user, its state kept in the work directory --

    def _command(self, *args: str) -> list[str]:
        env = [
            "env",
            f"XDG_CONFIG_HOME={self.work}/config",
            f"XDG_DATA_HOME={self.work}/data",
            f"PG_CONFIG={PG_BIN}/pg_config",
            f"PATH={PG_BIN}:/usr/bin:/bin",
            "PGHOST=127.0.0.1",
        ]
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return [*prefix, *env, PG_AUTOCTL, *args]

    def autoctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"pg_autoctl {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def _spawn(self, node: Node, *args: str) -> None:
        log = (self.work / f"{node.name}.log").open("ab")
        node.process = subprocess.Popen(
            self._command(*args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    @property
    def monitor_url(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover?sslmode=disable"

    def _sql(self, node: Node, *statements: str) -> str:
        """Statements on a node, as the postgres superuser, each in its own transaction."""
        done = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(node.port),
                "-U",
                "postgres",
                "-d",
                DBNAME,
                "-Atq",
                *(f"-c{s}" for s in statements),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{node.name}: {done.stderr}")
        return done.stdout.strip()

    def _monitor_sql(self, sql: str) -> str:
        done = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.monitor.port),
                "-U",
                "autoctl_node",
                "-d",
                "pg_auto_failover",
                "-Atqc",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout.strip()

    # -- life cycle --

    def start(self, *, timeout: float = 90) -> None:
        common = ["--hostname", "127.0.0.1", "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl",
                  "--pgctl", str(PG_BIN / "pg_ctl")]  # fmt: skip
        self._spawn(self.monitor, "create", "monitor", "--pgdata", str(self.monitor.pgdata),
                    "--pgport", str(self.monitor.port), *common, "--run")  # fmt: skip
        _until(lambda: self._answers(self.monitor.port), "the monitor", timeout)
        _until(self._monitor_ready, "the monitor's extension", timeout)
        self._tune_monitor()
        first, second = self.nodes
        self._create_node(first, common)
        # The second node is cloned from the first: start it once the first leads.
        _until(lambda: self._reported(first.name) == "single", "the first node", timeout)
        self._sql(first, "ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
        self._create_node(second, common)
        # pg_basebackup (the clone) waits for a checkpoint, spread over minutes by
        # default: ask for one at once while the standby catches up.
        self.wait_stable(timeout=timeout, meanwhile=lambda: self._sql(first, "CHECKPOINT"))
        for node in self.nodes:
            for key, value in FAST_KEEPER.items():
                self._config_set(node, key, value)
            self.autoctl("reload", "--pgdata", str(node.pgdata))

    def _config_set(self, node: Node, key: str, value: str) -> None:
        """``pg_autoctl config set``, again when it read the file while the running
        keeper was rewriting it ("Failed to find section")."""
        for attempt in range(10):
            try:
                self.autoctl("config", "set", "--pgdata", str(node.pgdata), key, value)
                return
            except RuntimeError:
                if attempt == 9:
                    raise
                time.sleep(0.3)

    def _create_node(self, node: Node, common: list[str]) -> None:
        self._spawn(node, "create", "postgres", "--pgdata", str(node.pgdata),
                    "--pgport", str(node.port), "--name", node.name, "--dbname", DBNAME,
                    "--monitor", self.monitor_url, *common, "--run")  # fmt: skip

    def _answers(self, port: int) -> bool:
        return (
            subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"],
                timeout=10,
            ).returncode
            == 0
        )

    def _monitor_ready(self) -> bool:
        try:
            self._monitor_sql("SELECT 1 FROM pgautofailover.formation LIMIT 1")
        except RuntimeError:
            return False
        return True

    def _tune_monitor(self) -> None:
        # ALTER SYSTEM runs outside a transaction: one -c each.
        statements = [f"ALTER SYSTEM SET {k} = '{v}'" for k, v in FAST_FAILOVER.items()]
        done = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.monitor.port),
                "-U",
                "postgres",
                "-d",
                "pg_auto_failover",
                "-Atq",
                *(f"-c{s}" for s in [*statements, "SELECT pg_reload_conf()"]),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tuning the monitor: {done.stderr}")

    def states(self) -> dict[str, tuple[str, str]]:
        """Each node's (reported, assigned) state, as the monitor has them."""
        try:
            raw = self._monitor_sql(
                "SELECT json_object_agg(nodename, json_build_array(reportedstate, goalstate)) "
                "FROM pgautofailover.node"
            )
        except RuntimeError:
            return {}
        return {name: (pair[0], pair[1]) for name, pair in json.loads(raw or "{}").items()}

    def _reported(self, name: str) -> str | None:
        state = self.states().get(name)
        return state[0] if state else None

    def primary(self) -> Node | None:
        states = self.states()
        for node in self.nodes:
            if states.get(node.name) in (("primary", "primary"), ("wait_primary", "wait_primary"),
                                         ("single", "single")):  # fmt: skip
                return node
        return None

    def wait_stable(
        self, *, timeout: float = 90, meanwhile: Callable[[], object] | None = None
    ) -> None:
        """Until one node is primary and the other secondary (streaming), as reported."""

        def stable() -> bool:
            reported = sorted(r for r, g in self.states().values() if r == g)
            if reported != ["primary", "secondary"] and meanwhile is not None:
                with contextlib.suppress(RuntimeError):
                    meanwhile()
            return reported == ["primary", "secondary"]

        _until(stable, "a primary and a streaming standby", timeout)

    def uri(self) -> str:
        """The application's URL: ``pg_autoctl show uri --formation default``, which lists
        every node and asks for the one that takes writes (target_session_attrs)."""
        return self.autoctl(
            "show", "uri", "--pgdata", str(self.monitor.pgdata), "--formation", FORMATION
        ).strip()

    def kill(self, node: Node) -> None:
        """A real crash: SIGKILL to the node's keeper and postmaster at once (they share
        the keeper's process group), then to every server process the postmaster had
        started (each in a session of its own), so that nothing restarts the node and
        the monitor must fail over."""
        postmaster = int((node.pgdata / "postmaster.pid").read_text().split()[0])
        children = _children(postmaster)
        assert node.process is not None
        os.killpg(node.process.pid, signal.SIGKILL)
        os.kill(postmaster, signal.SIGKILL)  # in case it left the group
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        node.process.wait(30)

    def close(self) -> None:
        for node in [*self.nodes, self.monitor]:
            if node.process is not None and node.process.poll() is None:
                try:
                    self.autoctl("stop", "--pgdata", str(node.pgdata), "--immediate", timeout=30)
                    node.process.wait(30)
                except (RuntimeError, subprocess.TimeoutExpired):
                    os.killpg(node.process.pid, signal.SIGKILL)
            pid_file = node.pgdata / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.work, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in sorted(self.work.glob("*.log"))
        )


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _until(check: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    """``python3 -m tests.ha -- COMMAND ...``: run COMMAND with a formation up and
    ``OVERSIGHT_HA_DATABASE_URL`` (the multi-host URL) and ``OVERSIGHT_HA_WORK`` set."""
    command = argv[1:] if argv[:1] == ["--"] else argv
    why = missing()
    if why:
        print(f"with-ha-cluster: {why}", file=sys.stderr)
        return 2
    formation = Formation()
    try:
        try:
            formation.start()
        except Exception:
            print(formation.logs(), file=sys.stderr)
            raise
        url = formation.uri()
        print(f"with-ha-cluster: {url}", file=sys.stderr)
        env = dict(os.environ, OVERSIGHT_HA_DATABASE_URL=url, OVERSIGHT_HA_WORK=str(formation.work))
        if not command:
            print(url)
            return 0
        return subprocess.run(command, env=env).returncode
    finally:
        formation.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
