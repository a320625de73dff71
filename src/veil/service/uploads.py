"""Uploaded files on disk: where each one lives, checking a complete one, discarding one.

The HTTP routes stream request bodies here; the review app saves the files it
makes (edited annotations) through :func:`save_upload`, so every upload is
stored and checked the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from veil.atomic import write_atomic
from veil.errors import VeilError
from veil.service.access import Caller
from veil.service.files import TooLarge, check_annotations, check_media
from veil.service.settings import ServiceSettings
from veil.service.store import Job, Store, Upload


def upload_folder(settings: ServiceSettings, upload: Upload) -> Path:
    return settings.uploads_dir / upload.id


def upload_path(settings: ServiceSettings, upload: Upload) -> Path:
    """The uploaded file."""
    return upload_folder(settings, upload) / upload.filename


def input_path(settings: ServiceSettings, job: Job) -> Path | None:
    """A job's input on this server (an upload or a watched file), else None (URL, S3)."""
    source = job.source
    if source.get("kind") == "upload":
        return settings.uploads_dir / source["upload_id"] / job.source_name
    if source.get("kind") == "file":
        return Path(source["path"])
    return None


def partial_path(settings: ServiceSettings, upload: Upload) -> Path:
    """Where an upload's bytes go until the last one arrived."""
    return upload_folder(settings, upload) / f".{upload.filename}.partial"


def discard(store: Store, settings: ServiceSettings, upload: Upload) -> None:
    shutil.rmtree(upload_folder(settings, upload), ignore_errors=True)
    store.uploads.delete(upload.id)


def lease_seconds(settings: ServiceSettings) -> float:
    """How long a body's write lease lasts unrenewed: twice the longest a body may stall
    (the guard ends it with 408 then), so a live writer always renews in time and a dead
    one's lease runs out within seconds."""
    return 2 * settings.idle_seconds + 1


def clean_orphans(store: Store, settings: ServiceSettings) -> list[str]:
    """At start (and hourly): whole-file uploads a killed server was receiving (never
    complete, their write lease run out), and upload folders no row names. Resumable
    uploads stay, to be resumed. Safe beside other servers at work: a row is made before
    its folder and its lease, so only what is older than a lease is looked at."""
    folders = list(settings.uploads_dir.iterdir()) if settings.uploads_dir.is_dir() else []
    gone = []
    for upload in store.uploads.abandoned(store.clock() - lease_seconds(settings)):
        discard(store, settings, upload)
        gone.append(upload.id)
    known = store.uploads.ids()  # after the listing: every folder listed has its row by now
    for folder in folders:
        if folder.is_dir() and folder.name not in known and folder.name not in gone:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder.name)
    return gone


def complete(store: Store, settings: ServiceSettings, upload: Upload, size: int) -> Upload:
    """The whole file has arrived: check it is media (or annotations) and mark it complete.

    Raises:
        VeilError: the content is not usable; the upload is gone.
    """
    final = upload_path(settings, upload)
    partial_path(settings, upload).replace(final)
    try:
        if final.suffix.lower() == ".json":
            kind = check_annotations(final)
        else:
            kind = check_media(final, settings.max_pixels)
    except TooLarge:
        discard(store, settings, upload)
        raise
    except VeilError as exc:
        discard(store, settings, upload)
        raise VeilError(f"not a usable file: {exc}") from exc
    except BaseException:  # nothing half-checked stays behind
        discard(store, settings, upload)
        raise
    return store.uploads.complete(upload.id, kind=kind, size=size)


def save_upload(
    store: Store, settings: ServiceSettings, filename: str, data: bytes, caller: Caller
) -> Upload:
    """A file veil made itself (the review's edited annotations), stored as ``caller``'s."""
    upload = store.uploads.create(
        filename=filename, size=len(data), token_name=caller.name, team=caller.team
    )
    write_atomic(partial_path(settings, upload), data)
    return complete(store, settings, upload, len(data))
