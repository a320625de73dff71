"""Worker processes for one machine: started, restarted when they die, stopped.

Each worker knows the pid of the process that started it and stops when that
process is gone (:mod:`veil.service.worker`), so none outlives ``veil serve``,
even one killed with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from veil.service.settings import ServiceSettings
from veil.service.worker import PARENT_VARIABLE

log = logging.getLogger("veil.service")


def start_worker(settings: ServiceSettings) -> subprocess.Popen:
    env = {**os.environ, **settings.env(), PARENT_VARIABLE: str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", "veil.service.worker"], env=env)


class WorkerPool:
    """``n`` worker processes; one that exits is started again after a second."""

    def __init__(self, settings: ServiceSettings, n: int) -> None:
        self.settings = settings
        self.n = n
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="workers", daemon=True)

    def start(self) -> WorkerPool:
        self.procs = [start_worker(self.settings) for _ in range(self.n)]
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None and not self._stop.is_set():
                    log.warning(
                        "worker %d exited with %s; starting another", proc.pid, proc.returncode
                    )
                    self.procs[i] = start_worker(self.settings)

    def stop(self) -> None:
        """SIGTERM to every worker: running jobs get the grace period, then are given back."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + self.settings.shutdown_grace + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
