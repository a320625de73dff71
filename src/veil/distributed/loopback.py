"""A Ray cluster on this machine's loopback (127.0.0.1 only): for tests and benchmarks.

Ray replaces a loopback node address with the machine's network address unless
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``; with that setting, ``ray start
--address`` refuses to add a second node, so nodes are started through a small
wrapper that lifts only that check. Each node is a ``ray start --block`` child
process of ours, stopped by signalling it (never ``ray stop``, which stops every
Ray instance of the user on the machine).

Set ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` in the driver's environment before
Ray is imported (:func:`loopback_environment`), so the driver stays on loopback too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

_START = r"""
import sys, types
import ray._private.ray_constants as constants
import ray.scripts.scripts as scripts
if "--head" not in sys.argv:
    # a second node on this machine: allowed, though loopback-only mode is on
    patched = types.ModuleType("ray_constants")
    patched.__dict__.update(vars(constants))
    patched.ENABLE_RAY_CLUSTER = True
    scripts.ray_constants = patched
sys.argv = ["ray", *sys.argv[1:]]
scripts.main()
"""


def loopback_environment() -> None:
    """Keep every Ray address of this process (and its children) on 127.0.0.1.

    Also turns Ray's token authentication off (unless ``RAY_AUTH_MODE`` is set):
    by default a new local Ray writes a token to ``~/.ray/auth_token``, which then
    switches every later cluster of the user on the machine to token mode. A
    loopback instance is reachable from this machine only.
    """
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gcs_port() -> int:
    """A free port outside Ray's worker port range (10002-19999)."""
    port = 26000 + os.getpid() % 3000
    while True:
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            port += 1


def _node_options(cpus: int, object_store_mb: int) -> list[str]:
    return [
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={cpus}",
        f"--object-manager-port={free_port()}",
        f"--node-manager-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
        f"--object-store-memory={object_store_mb * 1_000_000}",
        "--disable-usage-stats",
        "--block",
    ]


class LoopbackCluster:
    """A head node and ``len(cpus) - 1`` nodes joining it, all on 127.0.0.1.

    Example:
        >>> with LoopbackCluster(cpus=[1, 1]) as cluster:
        ...     ray.init(address=cluster.address)
    """

    def __init__(self, cpus: list[int], dashboard: bool = True, object_store_mb: int = 150) -> None:
        loopback_environment()
        self.cpus = cpus
        self.port = _gcs_port()
        self.address = f"127.0.0.1:{self.port}"
        self.dashboard_port = free_port()
        self.dashboard_url = f"http://127.0.0.1:{self.dashboard_port}"
        self._dashboard = dashboard
        self._object_store_mb = object_store_mb
        # short: Ray's socket paths must stay under 108 characters
        self.temp = Path(tempfile.mkdtemp(prefix="vr-", dir="/tmp"))
        self.logs = self.temp / "start"
        self._procs: list[subprocess.Popen] = []

    def _launch(self, name: str, args: list[str], cpus: int) -> subprocess.Popen:
        command = [sys.executable, "-c", _START, "start", *args]
        command += _node_options(cpus, self._object_store_mb)
        with open(self.logs / f"{name}.log", "w") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._procs.append(proc)
        return proc

    def start(self, timeout: float = 90.0) -> LoopbackCluster:
        self.logs.mkdir(exist_ok=True)
        head = self._launch(
            "head",
            [
                "--head",
                f"--port={self.port}",
                f"--temp-dir={self.temp}",
                f"--ray-client-server-port={free_port()}",
                f"--include-dashboard={'true' if self._dashboard else 'false'}",
                "--dashboard-host=127.0.0.1",
                f"--dashboard-port={self.dashboard_port}",
            ],
            self.cpus[0],
        )
        self._wait_listening(head, timeout)
        for n, cpus in enumerate(self.cpus[1:], start=2):
            self._launch(f"node{n}", [f"--address={self.address}"], cpus)
        return self

    def wait_for_nodes(self, ray: object, timeout: float = 90.0) -> None:
        """After ``ray.init(address=self.address)``: wait until every node has joined."""
        deadline = time.monotonic() + timeout
        while sum(node["Alive"] for node in ray.nodes()) < len(self.cpus):  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise TimeoutError(f"not every Ray node joined within {timeout} s ({self.logs})")
            time.sleep(0.3)

    def _wait_listening(self, head: subprocess.Popen, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if head.poll() is not None:
                raise RuntimeError(f"ray start exited with {head.returncode} ({self.logs})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"the Ray head did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # ray start --block stops what it started
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        shutil.rmtree(self.temp, ignore_errors=True)

    def __enter__(self) -> LoopbackCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
