"""Turning requests, watched files and S3 objects into queued jobs (no HTTP here).

:func:`submit_request` is how a job request enters the store, from the API's
routes and from the review app alike; the watchers and the S3 event endpoint
build their jobs with :func:`file_job` and :func:`s3_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from veil.errors import VeilError
from veil.service import s3
from veil.service.fetch import check_url_allowed
from veil.service.files import is_media_name, safe_name
from veil.service.options import JobOptions, resolve_options
from veil.service.schemas import JobCreate
from veil.service.settings import ServiceSettings
from veil.service.store import Job, JobSpec, Store, StoredPreset
from veil.service.uploads import upload_path


def preset_options(
    store: Store,
    *,
    preset: str | None,
    azure: dict[str, Any] | None = None,
    detector: dict[str, Any] | None = None,
    encoder: dict[str, Any] | None = None,
    mode: str | None = None,
) -> tuple[JobOptions, StoredPreset | None]:
    """A job's options: a stored preset, overridden by an inline Azure preset and options."""
    stored = store.presets.get(preset) if preset else None
    base_azure = stored.azure if stored else None
    base = stored.options if stored else {}
    options = resolve_options(
        azure=azure if azure is not None else base_azure,
        detector={**base.get("detector", {}), **(detector or {})},
        encoder={**base.get("encoder", {}), **(encoder or {})},
        mode=mode,
        source=f"preset {preset!r}" if preset else "preset",
    )
    return options, stored


def check_output(output: str | None) -> str | None:
    """API jobs write to veil's data folder or to S3; a server folder is for ``veil watch``."""
    if output is None:
        return None
    if not s3.is_s3_url(output):
        raise VeilError(f"output {output!r}: give an s3://bucket/prefix URL, or none")
    return s3.parse_s3_url(output).url


def _input(
    store: Store, settings: ServiceSettings, request: JobCreate
) -> tuple[dict[str, Any], str]:
    """Where a requested job's input comes from, and the name its outputs are named after."""
    given = request.input
    if given.upload_id:
        upload = store.uploads.get(given.upload_id)
        if not upload.complete or upload.kind not in ("video", "image"):
            raise VeilError(f"upload {upload.id} is not a complete video or image upload")
        path = upload_path(settings, upload).resolve()
        source = {"kind": "upload", "upload_id": upload.id, "filename": upload.filename}
        return {**source, "path": str(path)}, upload.filename
    if given.job_id:  # the same input as an earlier job (a redaction after a review)
        earlier = store.jobs.get(given.job_id)
        return dict(earlier.source), earlier.source_name
    if given.url:
        check_url_allowed(given.url, settings)
        return {"kind": "url", "url": given.url}, safe_name(
            Path(urlparse(given.url).path).name, "input.mp4"
        )
    assert given.s3 is not None
    loc = s3.parse_s3_url(given.s3)
    source = {"kind": "s3", "bucket": loc.bucket, "key": loc.key}
    if given.version_id:
        source["version_id"] = given.version_id
    return source, safe_name(Path(loc.key).name, "input.mp4")


def api_job(
    store: Store, settings: ServiceSettings, request: JobCreate, token_name: str | None
) -> JobSpec:
    """Check a job request and build its spec; VeilError says what is wrong."""
    options, stored = preset_options(
        store,
        preset=request.preset,
        azure=request.azure_preset,
        detector=request.detector.model_dump(exclude_none=True) if request.detector else None,
        encoder=request.encoder.model_dump(exclude_none=True) if request.encoder else None,
        mode=request.mode,
    )
    source, name = _input(store, settings, request)
    if not is_media_name(name):
        raise VeilError(f"{name}: not a video or image name")
    annotations = None
    if options.mode == "redact":
        if not request.annotations_upload_id:
            raise VeilError("a redact job needs annotations_upload_id (an annotations JSON)")
        ann = store.uploads.get(request.annotations_upload_id)
        if not ann.complete or ann.kind != "annotations":
            raise VeilError(f"upload {ann.id} is not an annotations file")
        annotations = str(upload_path(settings, ann).resolve())
    elif request.ids or request.annotations_upload_id:
        raise VeilError("annotations and ids are for redact jobs only")
    return JobSpec(
        mode=options.mode.value,
        source=source,
        source_name=name,
        options=options.model_dump(mode="json"),
        preset=request.preset,
        output=check_output(request.output),
        annotations=annotations,
        ids=sorted(set(request.ids)) if request.ids else None,
        webhook_url=request.webhook_url or (stored.webhook_url if stored else None),
        webhook_secret=request.webhook_secret or (stored.webhook_secret if stored else None),
        token_name=token_name,
    )


def submit_request(
    store: Store, settings: ServiceSettings, request: JobCreate, token_name: str | None
) -> Job:
    """Check a job request and queue it: what ``POST /v1/jobs`` and the review app do."""
    job, _ = store.jobs.submit(api_job(store, settings, request, token_name))
    return job


def s3_object_key(bucket: str, key: str, etag: str | None, version_id: str | None) -> str:
    """The unique key of one object version: the same from a listing and from an event.

    Listings carry the ETag but no version, events carry both; the ETag names
    the content, so it identifies the version in both (the version id is the
    fallback for the rare event without an ETag).
    """
    tag = (etag or "").strip('"')
    if tag:
        return f"s3://{bucket}/{key}#etag={tag}"
    if version_id:
        return f"s3://{bucket}/{key}#version={version_id}"
    raise VeilError(f"s3://{bucket}/{key}: neither an ETag nor a version id")


def s3_job(
    store: Store,
    *,
    bucket: str,
    key: str,
    etag: str | None,
    version_id: str | None,
    source_prefix: str,
    output: str,
    preset: str | None,
    token_name: str | None = None,
) -> JobSpec:
    """A job for a new object under a watched prefix; outputs keep its sub-folder."""
    options, stored = preset_options(store, preset=preset)
    name = safe_name(Path(key).name, "input.mp4")
    relative = key[len(source_prefix) :].lstrip("/") if key.startswith(source_prefix) else key
    sub = str(Path(relative).parent) if "/" in relative else ""
    out = s3.parse_s3_url(output)
    if sub:
        out = out.child(sub)
    src: dict[str, Any] = {"kind": "s3", "bucket": bucket, "key": key}
    if version_id:
        src["version_id"] = version_id
    return JobSpec(
        mode=options.mode.value,
        source=src,
        source_name=name,
        options=options.model_dump(mode="json"),
        preset=preset,
        output=out.url,
        webhook_url=stored.webhook_url if stored else None,
        webhook_secret=stored.webhook_secret if stored else None,
        token_name=token_name,
        unique_key=s3_object_key(bucket, key, etag, version_id),
    )


def file_job(
    store: Store, *, path: Path, size: int, mtime_ns: int, output: Path, preset: str | None
) -> JobSpec:
    """A job for a file that appeared in a watched folder (one per path, size and time)."""
    options, stored = preset_options(store, preset=preset)
    path = path.resolve()
    return JobSpec(
        mode=options.mode.value,
        source={"kind": "file", "path": str(path)},
        source_name=safe_name(path.name),
        options=options.model_dump(mode="json"),
        preset=preset,
        output=str(output.resolve()),
        webhook_url=stored.webhook_url if stored else None,
        webhook_secret=stored.webhook_secret if stored else None,
        unique_key=f"file://{path}#size={size}&mtime_ns={mtime_ns}",
    )
