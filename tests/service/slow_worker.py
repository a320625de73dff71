"""``python tests/service/slow_worker.py DELAY``: a real worker process whose frames take DELAY s.

Slow enough that a test can kill it mid-job; otherwise exactly ``python -m veil.service.worker``.
"""

from __future__ import annotations

import sys
import time

import veil.service.worker as worker_module
from veil.service.runner import JobRunner


class SlowRunner(JobRunner):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        delay = float(sys.argv[1])
        # a real sleep: this is another process (no event of the test's reaches it), and
        # after SIGTERM its job must go on at its own pace to test the grace period
        self.frame_hook = lambda job, n: time.sleep(delay)


if __name__ == "__main__":
    worker_module.JobRunner = SlowRunner  # type: ignore[misc]
    sys.exit(worker_module.main())
