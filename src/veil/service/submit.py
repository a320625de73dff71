"""Turning requests, watched files and S3 objects into queued jobs (no HTTP here).

:func:`submit` is how every job enters the store. :func:`submit_request` checks
and queues a job request, for the API's routes and the review app alike; the
watchers and the S3 event endpoint build their jobs with :func:`file_job` and
:func:`s3_job`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from veil.errors import VeilError
from veil.service import s3
from veil.service.access import Caller, Role
from veil.service.addresses import check_url_allowed, check_webhook_url
from veil.service.files import is_media_name, safe_name
from veil.service.options import JobOptions, pipeline_config, resolve_options
from veil.service.policy import Policy
from veil.service.rights import Forbidden, check_job_quota, check_s3, check_source
from veil.service.schemas import JobCreate
from veil.service.secrets import Secrets
from veil.service.settings import ServiceSettings
from veil.service.store import Job, JobSpec, Store, StoredPreset
from veil.service.uploads import upload_path
from veil.settings import BlurType


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


def check_output(output: str | None, policy: Policy, caller: Caller) -> str | None:
    """API jobs write to veil's data folder or to S3 under a prefix the caller's team may
    use; a server folder is for ``veil watch``."""
    if output is None:
        return None
    if not s3.is_s3_url(output):
        raise VeilError(f"output {output!r}: give an s3://bucket/prefix URL, or none")
    loc = s3.parse_s3_url(output)
    check_s3(policy, caller, loc, "output")
    return loc.url


def _input(
    store: Store, settings: ServiceSettings, request: JobCreate, caller: Caller
) -> tuple[dict[str, Any], str, Job | None]:
    """Where a requested job's input comes from, the name its outputs are named after, and
    the earlier job it comes from (if it does)."""
    given = request.input
    if given.upload_id:
        upload = store.uploads.get(given.upload_id, caller)
        if not upload.complete or upload.kind not in ("video", "image"):
            raise VeilError(f"upload {upload.id} is not a complete video or image upload")
        return {"kind": "upload", "upload_id": upload.id}, upload.filename, None
    if given.job_id:  # the same input as an earlier job (a redaction after a review)
        earlier = store.jobs.get(given.job_id, caller)
        check_source(store, settings, earlier.source, caller)  # as if named itself
        return dict(earlier.source), earlier.source_name, earlier
    if given.url:
        url = check_url_allowed(given.url, settings)
        name = safe_name(unquote(Path(urlparse(url).path).name), "input.mp4")
        return {"kind": "url", "url": url}, name, None
    assert given.s3 is not None
    loc = s3.parse_s3_url(given.s3)
    check_s3(store.policy.get(), caller, loc, "input")
    source = {"kind": "s3", "bucket": loc.bucket, "key": loc.key}
    if given.version_id:
        source["version_id"] = given.version_id
    return source, safe_name(Path(loc.key).name, "input.mp4"), None


def api_job(store: Store, settings: ServiceSettings, request: JobCreate, caller: Caller) -> JobSpec:
    """Check a job request and build its spec; VeilError says what is wrong."""
    options, stored = preset_options(
        store,
        preset=request.preset,
        azure=request.azure_preset,
        detector=request.detector.model_dump(exclude_none=True) if request.detector else None,
        encoder=request.encoder.model_dump(exclude_none=True) if request.encoder else None,
        mode=request.mode,
    )
    source, name, earlier = _input(store, settings, request, caller)
    if not is_media_name(name):
        raise VeilError(f"{name}: not a video or image name")
    annotations = None
    if options.mode == "redact":
        if not request.annotations_upload_id:
            raise VeilError("a redact job needs annotations_upload_id (an annotations JSON)")
        ann = store.uploads.get(request.annotations_upload_id, caller)
        if not ann.complete or ann.kind != "annotations":
            raise VeilError(f"upload {ann.id} is not an annotations file")
        annotations = str(upload_path(settings, ann).resolve())
    elif request.ids or request.annotations_upload_id:
        raise VeilError("annotations and ids are for redact jobs only")
    webhook_url = request.webhook_url or (stored.webhook_url if stored else None)
    policy = store.policy.get()
    if request.webhook_url:
        check_webhook_url(request.webhook_url, policy.webhook_allow)
    spec = JobSpec(
        mode=options.mode.value,
        source=source,
        source_name=name,
        options=options.model_dump(mode="json"),
        preset=request.preset,
        output=check_output(request.output, policy, caller),
        annotations=annotations,
        ids=sorted(set(request.ids)) if request.ids else None,
        webhook_url=webhook_url,
        # the preset's secret stays with the preset: a job stores only its own
        webhook_secret=Secrets(settings).seal(request.webhook_secret)
        if request.webhook_secret
        else None,
        token_name=caller.name,
        # a job made from an earlier one (a review's redaction) is that job's team's
        team=earlier.team if earlier else caller.team,
        upload_id=source.get("upload_id"),
        annotations_upload_id=request.annotations_upload_id if annotations else None,
    )
    check_strict(policy, options, caller, spec)
    return spec


def check_strict(policy: Policy, options: JobOptions, caller: Caller, spec: JobSpec) -> None:
    """What the policy refuses beyond the blur: an outline (``box``) video a non-admin
    could read (another's token, a team, S3) when ``box_outputs`` is off, and, under a
    strict policy, detector settings that find fewer faces than the quality profile's (a
    higher threshold, a smaller input)."""
    config = pipeline_config(options)
    outline = config.redaction.blur == BlurType.BOX and options.mode != "analyze"
    readable = caller.role != Role.ADMIN or spec.team is not None or spec.output is not None
    if outline and not policy.box_outputs and readable:
        raise Forbidden(
            "the policy allows box (outline) videos only to admins, with no team, kept by veil"
        )
    if not policy.strict or options.mode == "redact":  # a redaction detects nothing
        return
    plain = options.model_copy(
        update={"detector": options.detector.model_copy(update={"threshold": None,
                                                                  "input_size": None})}
    )  # fmt: skip
    profile = pipeline_config(plain).detector
    chosen = config.detector
    weaker_size = 0 < chosen.input_size < profile.input_size or (
        profile.input_size == 0 and chosen.input_size != 0
    )
    if chosen.threshold > profile.threshold or weaker_size:
        raise Forbidden(
            "the policy requires review or a minimum blur: the detector may not be set to "
            f"find fewer faces than its profile (threshold {profile.threshold:g} or lower, "
            f"input size {profile.input_size or 'full'} or larger)"
        )


def submit(store: Store, spec: JobSpec, who: str) -> tuple[Job, bool]:
    """Queue a job, within the policy, and write it into its audit trail.

    Every job enters the store here: from the API, the review app, the watchers
    and storage events. Returns (job, True), or (the existing job, False) for a
    unique key already queued.
    """
    options = JobOptions.model_validate(spec.options)
    if options.mode != "analyze":
        store.policy.get().check_published_blur(pipeline_config(options).redaction.blur)
    job, created = store.jobs.submit(spec)
    if created:
        details = {"mode": job.mode, "input": job.summary()["source"], "preset": job.preset}
        if job.ids is not None:
            details["ids"] = job.ids
        store.audit.append(job.id, who, "submitted", details)
    return job, created


def submit_request(
    store: Store, settings: ServiceSettings, request: JobCreate, caller: Caller
) -> Job:
    """Check a job request and queue it: what ``POST /v1/jobs`` and the review app do."""
    check_job_quota(store, caller)
    job, _ = submit(store, api_job(store, settings, request, caller), caller.name)
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
    caller: Caller | None = None,
) -> JobSpec:
    """A job for a new object under a watched prefix; outputs keep its sub-folder.

    ``caller``: the token that pushed the storage event (owns the job); None for
    jobs found by a watcher's listing, which only admins see.
    """
    options, stored = preset_options(store, preset=preset)
    key = s3.normal_key(key)
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
        token_name=caller.name if caller else None,
        team=caller.team if caller else None,
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
        unique_key=f"file://{path}#size={size}&mtime_ns={mtime_ns}",
    )
