"""Uploads, streamed to disk: whole (``POST /v1/uploads``) or in resumable chunks.

A chunked upload is opened with its size (``POST /v1/uploads/sessions``), then
each chunk is sent with ``PATCH /v1/uploads/{id}`` and an ``Upload-Offset``
header equal to the bytes already received (``GET /v1/uploads/{id}`` tells, so
an interrupted upload resumes where it stopped). Once complete, the content is
checked to be a video or image (or, for ``.json``, an annotations file); what
is not is deleted and refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from veil.names import is_media_suffix
from veil.service import jobs as actions
from veil.service.access import Caller
from veil.service.api.deps import CallerDep, OperatorDep, SettingsDep, StoreDep
from veil.service.files import TooLarge, safe_name
from veil.service.rights import check_upload_quota
from veil.service.schemas import UploadPublic
from veil.service.settings import ServiceSettings
from veil.service.store import NotFound, Store, Upload
from veil.service.uploads import complete, discard, lease_seconds, partial_path

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])

FilenameQuery = Annotated[
    str, Query(min_length=1, max_length=1024, description="original file name (sanitised)")
]


def _checked_name(filename: str) -> str:
    name = safe_name(filename)
    if not is_media_suffix(name) and Path(name).suffix.lower() != ".json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"{name}: not a video, image or annotations (.json) file name",
        )
    return name


def _check_length(request: Request, limit: int) -> None:
    """Refuse at once what announces itself as too large; the stream is counted too."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(f"upload of {length} bytes is over the limit of {limit} bytes")


async def _append(
    request: Request, partial: Path, start: int, limit: int, renew: Callable[[], None]
) -> int:
    """Stream the body onto ``partial`` from offset ``start``; the new size. ``renew`` is
    called as bytes arrive (it keeps the write lease, at most every few seconds)."""
    received = start
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "r+b" if start else "wb") as f:
        f.seek(start)
        f.truncate()
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise TooLarge(f"upload is over the limit of {limit} bytes")
            f.write(chunk)
            renew()
        f.flush()
        os.fsync(f.fileno())
    return received


def _renewer(store: Store, settings: ServiceSettings, upload_id: str) -> Callable[[], None]:
    hold = lease_seconds(settings)
    last = store.clock()

    def renew() -> None:
        nonlocal last
        if store.clock() - last >= hold / 4:
            store.uploads.renew(upload_id, hold=hold)
            last = store.clock()

    return renew


async def receive_whole(
    request: Request, store: Store, settings: ServiceSettings, filename: str, caller: Caller
) -> Upload:
    """A whole file in the request body, streamed to disk and checked."""
    name = _checked_name(filename)
    _check_length(request, settings.max_upload_bytes)
    length = request.headers.get("content-length", "")
    check_upload_quota(store, caller, int(length) if length.isdigit() else 0, session=True)
    upload = store.uploads.create(
        filename=name, size=None, token_name=caller.name, team=caller.team
    )
    # leased like a chunk: a server killed mid-body leaves an upload cleaned at start
    store.uploads.start_chunk(upload.id, offset=0, hold=lease_seconds(settings))
    renew = _renewer(store, settings, upload.id)
    try:
        partial = partial_path(settings, upload)
        size = await _append(request, partial, 0, settings.max_upload_bytes, renew)
    except BaseException:
        discard(store, settings, upload)
        raise
    if size == 0:
        discard(store, settings, upload)
        raise HTTPException(422, "the upload is empty")
    return await run_in_threadpool(complete, store, settings, upload, size)


@router.post("", status_code=201, response_model=UploadPublic)
async def upload_file(
    request: Request, store: StoreDep, settings: SettingsDep, caller: OperatorDep,
    filename: FilenameQuery,
) -> UploadPublic:  # fmt: skip
    """The request body is the file (``curl --data-binary @clip.mp4``)."""
    return UploadPublic.from_upload(await receive_whole(request, store, settings, filename, caller))


@router.post("/sessions", status_code=201, response_model=UploadPublic)
def open_session(
    store: StoreDep,
    settings: SettingsDep,
    caller: OperatorDep,
    filename: FilenameQuery,
    size: Annotated[int, Query(gt=0, le=2**62, description="the whole file's size in bytes")],
) -> UploadPublic:
    """Start a chunked, resumable upload of ``size`` bytes."""
    name = _checked_name(filename)
    if size > settings.max_upload_bytes:
        raise TooLarge(f"{size} bytes is over the limit of {settings.max_upload_bytes} bytes")
    check_upload_quota(store, caller, size, session=True)
    upload = store.uploads.create(
        filename=name, size=size, token_name=caller.name, team=caller.team
    )
    partial = partial_path(settings, upload)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.touch()
    return UploadPublic.from_upload(upload)


@router.get("/{upload_id}", response_model=UploadPublic)
def get_upload(upload_id: str, store: StoreDep, caller: CallerDep) -> UploadPublic:
    """An upload's state; ``received`` is where a chunked upload resumes."""
    return UploadPublic.from_upload(store.uploads.get(upload_id, caller))


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_upload(
    upload_id: str, store: StoreDep, settings: SettingsDep, caller: OperatorDep
) -> Response:
    """Delete an upload (the unredacted original) that no queued or running job needs."""
    actions.delete_upload(store, settings, store.uploads.get(upload_id, caller))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{upload_id}", response_model=UploadPublic)
async def send_chunk(
    upload_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    caller: OperatorDep,
    upload_offset: Annotated[int, Header(ge=0, le=2**62, description="bytes already received")],
) -> UploadPublic:
    """Append a chunk at ``Upload-Offset``; the upload completes (and is checked) with its
    last byte. A chunk for an offset another chunk is being written at gets 409."""
    upload = store.uploads.get(upload_id, caller)
    if upload.complete or upload.size is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the upload is complete or not resumable")
    if upload_offset != upload.received:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Upload-Offset must be {upload.received} (bytes received)"
        )
    _check_length(request, upload.size - upload.received)
    # a lease renewed while this chunk streams: a killed server's runs out in seconds
    if not store.uploads.start_chunk(upload.id, offset=upload_offset, hold=lease_seconds(settings)):
        raise HTTPException(status.HTTP_409_CONFLICT, "another chunk is being written here")
    received = None
    renew = _renewer(store, settings, upload.id)
    try:
        partial = partial_path(settings, upload)
        received = await _append(request, partial, upload_offset, upload.size, renew)
    except FileNotFoundError:  # the upload was deleted (by an admin) as the chunk streamed
        raise HTTPException(status.HTTP_409_CONFLICT, "the upload was deleted") from None
    finally:
        store.uploads.end_chunk(upload.id, received=received)
    try:
        if received == upload.size:
            upload = await run_in_threadpool(complete, store, settings, upload, received)
            return UploadPublic.from_upload(upload)
        return UploadPublic.from_upload(store.uploads.get(upload.id))
    except (FileNotFoundError, NotFound):  # deleted meanwhile (the retention period ended)
        raise HTTPException(status.HTTP_409_CONFLICT, "the upload was deleted") from None
