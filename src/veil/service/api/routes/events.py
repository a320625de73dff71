"""``POST /v1/events/s3``: bucket notifications (the MinIO/AWS event JSON) become jobs.

Only objects under a watched source (``veil watch s3://bucket/prefix --out ...``)
with a media suffix are taken; each object version makes exactly one job, however
often its event arrives (and whether or not the watcher's listing saw it first).

An event is a claim, not a fact: only ``ObjectCreated`` events are taken, and only
for an object that is in the bucket now with the event's ETag (and version), so a
forged event with made-up ETags makes no job. Keys with ``..`` are ignored; each
job counts against the pushing token's quota.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, status

from veil.errors import VeilError
from veil.service import s3
from veil.service.access import Caller
from veil.service.api.deps import OperatorDep, SettingsDep, StoreDep
from veil.service.files import is_media_name
from veil.service.rights import check_job_quota
from veil.service.s3 import parse_s3_url
from veil.service.schemas import EventResult, S3Event
from veil.service.settings import ServiceSettings
from veil.service.store import Store, WatchRule
from veil.service.submit import s3_job, submit

router = APIRouter(prefix="/v1/events", tags=["events"])
CREATED = re.compile(r"^(s3:)?ObjectCreated:[A-Za-z]+$")


def _rule_for(rules: list[WatchRule], bucket: str, key: str) -> WatchRule | None:
    best = None
    for rule in rules:
        loc = parse_s3_url(rule.source)
        longer = best is None or len(loc.key) > len(parse_s3_url(best.source).key)
        if loc.bucket == bucket and key.startswith(loc.key) and longer:
            best = rule
    return best


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _unproven(settings: ServiceSettings, loc: s3.S3Location, obj: Any) -> str | None:
    """Why the event's object is not the one in the bucket now (None: it is)."""
    etag = (_text(_field(obj, "eTag")) or _text(_field(obj, "etag")) or "").strip('"')
    version = _text(_field(obj, "versionId"))
    found = s3.head(settings, loc)
    if found is None:
        return "no such object in the bucket"
    if etag != str(found.get("ETag", "")).strip('"'):
        return "the ETag is not the object's"
    if version is not None and version != found.get("VersionId"):
        return "the version is not the object's"
    return None


def submit_record(
    store: Store, settings: ServiceSettings, record: Any, caller: Caller
) -> dict[str, Any]:
    """One event record -> {"job": id, "created": bool} or {"ignored": reason}."""
    name = _text(_field(record, "eventName")) or ""
    s3info = _field(record, "s3")
    bucket = _text(_field(_field(s3info, "bucket"), "name"))
    obj = _field(s3info, "object")
    key = unquote_plus(_text(_field(obj, "key")) or "")  # keys arrive URL-encoded
    where = f"s3://{bucket}/{key}"
    if not CREATED.match(name):
        return {"object": where, "ignored": f"event {name or '(none)'} is not an object creation"}
    if not bucket or not key:
        return {"object": where, "ignored": "no bucket or key"}
    try:
        key = s3.normal_key(key)
    except VeilError as exc:
        return {"object": where, "ignored": str(exc)}
    rule = _rule_for(store.watch_rules.list(), bucket, key)
    if rule is None:
        return {"object": where, "ignored": "not under a watched prefix"}
    suffixes = tuple(s.lower() for s in rule.suffixes)
    if not key.lower().endswith(suffixes) or not is_media_name(key.rsplit("/", 1)[-1]):
        return {"object": where, "ignored": "not a media file suffix"}
    if (why := _unproven(settings, s3.S3Location(bucket, key), obj)) is not None:
        return {"object": where, "ignored": why}
    check_job_quota(store, caller)
    spec = s3_job(
        store,
        bucket=bucket,
        key=key,
        etag=_text(_field(obj, "eTag")) or _text(_field(obj, "etag")),
        version_id=_text(_field(obj, "versionId")),
        source_prefix=parse_s3_url(rule.source).key,
        output=rule.output,
        preset=rule.preset,
        caller=caller,
    )
    job, created = submit(store, spec, caller.name)
    return {"object": where, "job": job.id, "created": created}


@router.post("/s3", status_code=status.HTTP_200_OK, response_model=EventResult)
def s3_event(
    store: StoreDep, settings: SettingsDep, caller: OperatorDep, event: S3Event
) -> EventResult:
    """Accepts ``{"Records": [...]}`` as AWS S3 and MinIO send it."""
    jobs, ignored = [], []
    for record in event.Records:
        outcome = submit_record(store, settings, record, caller)
        (jobs if "job" in outcome else ignored).append(outcome)
    return EventResult(jobs=jobs, ignored=ignored)
