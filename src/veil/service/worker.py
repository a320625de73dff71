"""The worker loop: claim a job, run it, repeat. ``python -m veil.service.worker`` runs one.

Settings come from ``VEIL_*`` variables (``veil serve --workers N`` passes its
own). SIGTERM or SIGINT drains the worker: it claims nothing more, and the job
it is running may finish within ``shutdown_grace`` seconds; after that (or at
a second signal) the job is given back to the queue at its next frame.
SIGKILL loses nothing either: the job's lease expires and another worker runs
it again. A worker started by ``veil serve`` (``VEIL_WORKER_PARENT``) also stops,
giving its job back, as soon as that process is gone, however it ended.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from veil.service.runner import JobRunner
from veil.service.settings import ServiceSettings
from veil.service.store import Store
from veil.service.webhooks import Dispatcher

log = logging.getLogger("veil.service")
PARENT_VARIABLE = "VEIL_WORKER_PARENT"


def run_worker(
    settings: ServiceSettings,
    *,
    stop: threading.Event | None = None,
    max_jobs: int | None = None,
    webhooks: bool = True,
    runner: JobRunner | None = None,
) -> int:
    """Run jobs until ``stop`` is set (or ``max_jobs`` ran); returns the number run."""
    stop = stop or threading.Event()
    runner = runner or JobRunner(Store(settings), settings)
    store = runner.store
    dispatcher = Dispatcher(store, settings).start() if webhooks else None
    done = 0
    log.info("worker %s: waiting for jobs", runner.worker)
    try:
        while not stop.is_set() and (max_jobs is None or done < max_jobs):
            try:
                job = store.leases.claim(runner.worker)
            except Exception:  # the database is briefly unavailable
                log.warning("worker %s: claim failed", runner.worker, exc_info=True)
                job = None
            if job is None:
                stop.wait(settings.poll_seconds)
                continue
            outcome = runner.run(job)
            done += 1
            log.info("job %s: %s (try %d)", job.id, outcome, job.tries)
    finally:
        if dispatcher is not None:
            dispatcher.stop()
        store.close()
    return done


class Drain:
    """What a stop request does: no more claims now; the running job is handed back after
    the grace period, at once on a second request, or at once when the parent is gone."""

    def __init__(self, runner: JobRunner, grace: float) -> None:
        self.runner, self.grace = runner, grace
        self.stop = threading.Event()

    def request(self, *_args: object) -> None:
        if self.stop.is_set():
            self.runner.abort.set()
            return
        self.stop.set()
        timer = threading.Timer(self.grace, self.runner.abort.set)
        timer.daemon = True
        timer.start()

    def now(self) -> None:
        self.stop.set()
        self.runner.abort.set()

    def watch_parent(self, parent: int, every: float = 0.5) -> None:
        def watch() -> None:
            while not self.stop.wait(every):
                if os.getppid() != parent:
                    log.warning("worker: veil serve (pid %d) is gone; stopping", parent)
                    self.now()

        threading.Thread(target=watch, name="parent", daemon=True).start()


def serve_until_stopped(settings: ServiceSettings, runner: JobRunner | None = None) -> int:
    """Run a worker in this process until SIGTERM or SIGINT (or its parent ends)."""
    runner = runner or JobRunner(Store(settings), settings)
    drain = Drain(runner, settings.shutdown_grace)
    signal.signal(signal.SIGTERM, drain.request)
    signal.signal(signal.SIGINT, drain.request)
    parent = os.environ.get(PARENT_VARIABLE)
    if parent and parent.isdigit():
        drain.watch_parent(int(parent))
    run_worker(settings, stop=drain.stop, runner=runner)
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="veil worker: %(levelname)s: %(message)s")
    os.umask(0o077)
    return serve_until_stopped(ServiceSettings.from_env())


if __name__ == "__main__":
    sys.exit(main())
