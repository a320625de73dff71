"""Clean shutdown: no worker outlives ``veil serve``, whichever signal ended it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from helpers import free_port, wait_until
from service.helpers import wait_for_health


def workers_of(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "veil.service.worker" in " ".join(c.cmdline())]


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, list[psutil.Process]]]:
    """``veil serve --workers 2`` as a user starts it, up and with its workers running."""
    data = tmp_path / "data"
    port = free_port()
    env = {**os.environ, "VEIL_POLL_SECONDS": "0.1", "VEIL_SHUTDOWN_GRACE": "2"}
    command = [sys.executable, "-m", "veil", "serve", "--data", str(data), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[psutil.Process] = []
    try:
        wait_for_health(f"http://127.0.0.1:{port}")
        workers = wait_until(lambda: (w := workers_of(proc)) and len(w) == 2 and w, 60)
        yield proc, workers
    finally:
        for process in [*workers, psutil.Process(proc.pid)] if proc.poll() is None else workers:
            if alive(process):
                process.kill()
        proc.wait(30)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_no_worker_outlives_veil_serve(serving, how: signal.Signals):
    proc, workers = serving
    proc.send_signal(how)
    code = proc.wait(60)
    assert code == (-signal.SIGKILL if how == signal.SIGKILL else 0)
    wait_until(lambda: not any(alive(w) for w in workers), 60)
