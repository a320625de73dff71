"""Run one claimed job: fetch the input, call the pipeline, publish the outputs, report.

The pipeline writes into a private work folder (``work/<job>/try<N>``) under
temporary names (veil.atomic); outputs are published (renamed into the outputs
folder, or uploaded to S3) only after the run succeeded and the lease was
confirmed, and the job is marked finished only after they are published. A
canceled job (the ``on_frame`` callback raises) or a killed worker leaves no
output behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from veil.atomic import write_atomic
from veil.detect import DetectorConfig, FaceDetector, load_detector
from veil.distributed.executors import Executor, make_executor
from veil.distributed.parallel import on_executor
from veil.errors import VeilError
from veil.pipeline.jobs import JobSpec, run_job
from veil.service import s3
from veil.service.files import check_media, frame_total, output_names, public_message
from veil.service.options import JobOptions, job_regions, pipeline_config
from veil.service.outputs import publish, unpublish
from veil.service.report import job_report
from veil.service.settings import ServiceSettings
from veil.service.store import Job, Store
from veil.service.uploads import input_path
from veil.settings import Mode

log = logging.getLogger("veil.service")


class JobCanceled(Exception):
    """The job is no longer this worker's (canceled, deleted, or its lease was taken)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """Keeps a job's lease alive from a thread and carries progress to the store."""

    def __init__(self, store: Store, job: Job, worker: str, interval: float) -> None:
        self.store, self.job, self.worker = store, job, worker
        self.interval = interval
        self.frames_done = 0
        self.frames_total: int | None = None
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> bool:
        try:
            ok = self.store.leases.heartbeat(
                self.job.id,
                self.worker,
                self.job.tries,
                frames_done=self.frames_done,
                frames_total=self.frames_total,
            )
        except Exception:  # the database is briefly unreachable: try again next beat
            log.warning("job %s: heartbeat failed", self.job.id, exc_info=True)
            return not self.lost.is_set()
        if not ok:
            self.lost.set()
        return ok

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.renew():
                return

    def on_frame(self, n: int) -> None:
        """The pipeline's progress callback: raising here cancels the run."""
        self.frames_done = n
        if self.lost.is_set():
            raise JobCanceled(self.job.id)


class JobRunner:
    """Runs jobs in this process; detectors are built once per configuration."""

    def __init__(self, store: Store, settings: ServiceSettings, worker: str | None = None) -> None:
        self.store = store
        self.settings = settings
        self.worker = worker or worker_id()
        self._detectors: dict[DetectorConfig, FaceDetector] = {}
        self._ray: Executor | None = None
        # called with (job, frames read so far) at each progress report of the pipeline
        # (each frame read; each finished segment on Ray): tests slow jobs down or break them
        self.frame_hook: Callable[[Job, int], None] | None = None
        # set on shutdown: the running job stops and is given back to the queue
        self.abort = threading.Event()

    def detector(self, config: DetectorConfig) -> FaceDetector:
        if config not in self._detectors:
            self._detectors[config] = load_detector(config)
        return self._detectors[config]

    def ray_executor(self) -> Executor:
        """The Ray cluster of ``settings.ray_address``, connected once per worker."""
        if self._ray is None:
            self._ray = make_executor("ray", ray_address=self.settings.ray_address)
        return self._ray

    def run(self, job: Job) -> str:
        """Run a claimed job to its end; returns what became of it (for logs and tests)."""
        work = self.settings.work_dir / job.id
        shutil.rmtree(work, ignore_errors=True)  # left by a worker that died on this job
        attempt_dir = work / f"try{job.tries}"
        try:
            with Lease(self.store, job, self.worker, self.settings.heartbeat_seconds) as lease:
                return self._run(job, attempt_dir, lease)
        except JobCanceled:
            if self.abort.is_set():
                self.store.leases.release(job.id, self.worker, job.tries)
                return "released"
            log.info("job %s: canceled or taken over; outputs discarded", job.id)
            return "canceled"
        except VeilError as exc:  # the input or the request: trying again will not help
            reason = public_message(str(exc))
            self.store.leases.fail(job.id, self.worker, job.tries, reason, retry=False)
            return "error"
        except Exception as exc:
            log.warning("job %s: try %d failed", job.id, job.tries, exc_info=True)
            reason = public_message(f"{type(exc).__name__}: {exc}")
            self.store.leases.fail(job.id, self.worker, job.tries, reason, retry=True)
            return "failed"
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run(self, job: Job, attempt_dir: Path, lease: Lease) -> str:
        started = time.time()
        options = JobOptions.model_validate(job.options)
        config = pipeline_config(options)
        if options.mode != "analyze":  # the policy may have been raised since it was queued
            self.store.policy.get().check_published_blur(config.redaction.blur)
        src = self._fetch(job, attempt_dir / "in")
        kind = check_media(src, self.settings.max_pixels)
        regions = job_regions(options)
        # plates and text are found across the whole video, not in segments
        on_ray = options.mode == "combined" and self.settings.ray_address is not None
        on_ray = on_ray and regions is None
        # segments report analysis and rendering separately: twice the frames
        passes = 2 if on_ray else 1
        lease.frames_total = frame_total(src, passes) if kind == "video" else None
        out = attempt_dir / "out"
        out.mkdir(parents=True, exist_ok=True)
        names = output_names(Path(job.source_name).stem, src.suffix, config.redaction.blur)

        def on_frame(n: int) -> None:
            if self.abort.is_set():
                raise JobCanceled(job.id)
            lease.on_frame(n)
            if self.frame_hook is not None:
                self.frame_hook(job, n)

        mode, redacted = Mode(options.mode), out / names["redacted"]
        if mode == Mode.ANALYZE:
            spec = JobSpec(mode, src, out, regions=regions)
        elif mode == Mode.COMBINED:
            spec = JobSpec(
                mode, src, redacted, annotations_out=out / names["annotations"], regions=regions
            )
        else:
            annotations = Path(job.annotations) if job.annotations is not None else None
            ids = frozenset(job.ids) if job.ids else None
            spec = JobSpec(mode, src, redacted, annotations=annotations, ids=ids, regions=regions)
        segmented = (
            on_executor(self.ray_executor(), self.settings.segment_seconds) if on_ray else None
        )
        result = run_job(spec, config, lambda: self.detector(config.detector), on_frame, segmented)
        lease.on_frame(result.frames)
        report = job_report(
            self.settings, job, options, config, result,
            src=src, out=out, worker=self.worker, started=started, finished=time.time(),
        )  # fmt: skip
        write_atomic(out / names["report"], json.dumps(report, indent=2).encode())
        if not lease.renew():  # canceled while the last frames were written
            raise JobCanceled(job.id)
        published = publish(self.settings, job, out)
        if not self.store.leases.finish(
            job.id, self.worker, job.tries, outputs=published, report=report
        ):
            unpublish(self.settings, job)
            raise JobCanceled(job.id)
        details = {"outputs": report["outputs"], "report_signature": report["signature"]["value"]}
        self.store.audit.append(job.id, self.worker, "finished", details)
        return "finished"

    # -- inputs and outputs ---------------------------------------------------

    def _fetch(self, job: Job, folder: Path) -> Path:
        source = job.source
        kind = source.get("kind")
        path = input_path(self.settings, job)
        if path is not None:
            if not path.is_file():
                raise VeilError(f"{job.source_name}: the input is no longer on the server")
            return path
        folder.mkdir(parents=True, exist_ok=True)
        dst = folder / job.source_name
        if kind == "url":
            from veil.service.fetch import download_url

            download_url(source["url"], dst, self.settings)
        elif kind == "s3":
            loc = s3.S3Location(source["bucket"], source["key"])
            s3.download(self.settings, loc, dst, source.get("version_id"))
        else:
            raise VeilError(f"unknown input kind {kind!r}")
        return dst
