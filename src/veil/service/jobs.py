"""What people do to a job once it is queued: cancel, retry, delete, download; each is
written into the job's audit trail.

Deleting a job deletes what veil keeps for it (outputs, review) and the uploads it
used, unless another job still uses them: the unredacted original does not outlive
the last job that needed it.
"""

from __future__ import annotations

import logging
import shutil
import threading

from veil.errors import VeilError
from veil.service.access import Caller
from veil.service.outputs import outputs_dir
from veil.service.settings import ServiceSettings
from veil.service.store import FINAL_STATES, Conflict, Job, NotFound, Store, Upload
from veil.service.uploads import clean_orphans, discard

log = logging.getLogger("veil.service")


def cancel(store: Store, job: Job, caller: Caller) -> Job:
    canceled = store.jobs.cancel(job.id)
    store.audit.append(job.id, caller.name, "canceled")
    return canceled


def retry(store: Store, job: Job, caller: Caller) -> Job:
    queued = store.jobs.retry(job.id)
    store.audit.append(job.id, caller.name, "retried")
    return queued


def delete(store: Store, settings: ServiceSettings, job: Job, caller: Caller) -> None:
    store.jobs.delete(job.id)
    shutil.rmtree(outputs_dir(settings, job), ignore_errors=True)
    gone = []
    for upload_id in {job.upload_id, job.annotations_upload_id} - {None}:
        assert upload_id is not None
        if not store.jobs.using(upload_id):
            try:
                discard(store, settings, store.uploads.get(upload_id))
            except NotFound:
                continue
            gone.append(upload_id)
    store.audit.append(job.id, caller.name, "deleted", {"uploads_deleted": sorted(gone)})


def delete_upload(store: Store, settings: ServiceSettings, upload: Upload) -> None:
    """Delete an upload no queued or running job needs (409 otherwise)."""
    busy = [j.id for j in store.jobs.using(upload.id) if j.state not in FINAL_STATES]
    if busy:
        raise Conflict(f"upload {upload.id} is the input of job {busy[0]}, which has not ended")
    if upload.writing_until is not None and upload.writing_until > store.clock():
        raise Conflict(f"upload {upload.id} is being written; delete it once the chunk is in")
    discard(store, settings, upload)


def downloaded(store: Store, job: Job, caller: Caller | str, name: str, how: str) -> None:
    """Note in the job's audit trail that ``caller`` fetched output ``name`` (``how``: by API
    or signed link)."""
    who = caller.name if isinstance(caller, Caller) else caller
    store.audit.append(job.id, who, "downloaded", {"output": name, "via": how})


def retention_cutoff(settings: ServiceSettings, now: float) -> float:
    if settings.retain_originals_days is None:
        raise VeilError("no retention period is set")
    return now - settings.retain_originals_days * 86400


def purge_originals(store: Store, settings: ServiceSettings) -> list[str]:
    """Delete the uploads older than ``--retain-originals`` that no unfinished job needs."""
    purged = []
    for upload in store.uploads.created_before(retention_cutoff(settings, store.clock())):
        users = store.jobs.using(upload.id)
        if any(j.state not in FINAL_STATES for j in users):
            continue
        discard(store, settings, upload)
        for job in users:
            store.audit.append(job.id, "veil", "original deleted", {"upload": upload.id})
        purged.append(upload.id)
    return purged


class Janitor:
    """Hourly, from a thread: deletes the uploads a stopped server left half received
    (:func:`veil.service.uploads.clean_orphans`) and, given a retention period, the
    originals past it."""

    def __init__(self, store: Store, settings: ServiceSettings, every: float = 3600.0) -> None:
        self.store, self.settings, self.every = store, settings, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="janitor", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                cleaned = clean_orphans(self.store, self.settings)
                purged = (
                    purge_originals(self.store, self.settings)
                    if self.settings.retain_originals_days is not None
                    else []
                )
            except Exception:  # the database is briefly unavailable: next round
                log.warning("deleting old originals failed", exc_info=True)
            else:
                if cleaned:
                    log.info("deleted %d upload(s) left by a stopped server", len(cleaned))
                if purged:
                    log.info("deleted %d original(s) past the retention period", len(purged))
            if self._stop.wait(self.every):
                return

    def start(self) -> Janitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
