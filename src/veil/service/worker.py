"""The worker loop: claim a job, run it, repeat. ``python -m veil.service.worker`` runs one.

Settings come from ``VEIL_*`` variables (``veil serve --workers N`` passes its
own). SIGTERM or SIGINT stops the worker: the running job is given back to the
queue at its next frame. SIGKILL loses nothing either: the job's lease expires
and another worker runs it again.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from veil.service.runner import JobRunner
from veil.service.settings import ServiceSettings
from veil.service.store import Store
from veil.service.webhooks import Dispatcher

log = logging.getLogger("veil.service")


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


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="veil worker: %(levelname)s: %(message)s")
    settings = ServiceSettings.from_env()
    stop = threading.Event()
    store = Store(settings)
    runner = JobRunner(store, settings)

    def shut_down(signum: int, _frame: object) -> None:
        stop.set()
        runner.abort.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    run_worker(settings, stop=stop, runner=runner)
    return 0


if __name__ == "__main__":
    sys.exit(main())
