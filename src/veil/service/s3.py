"""S3-compatible storage (AWS S3, MinIO, SeaweedFS, R2) through boto3.

Credentials come the usual AWS way (environment, profile, instance role); only
the endpoint and region are veil settings. Outputs are uploaded with boto3's
managed transfer, in parts above ``s3_multipart_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from veil.errors import VeilError
from veil.service.settings import ServiceSettings

MIN_PART_BYTES = 5 * 1024**2  # S3's smallest part (but the last)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # an object key, or a prefix (no leading slash)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, name: str) -> S3Location:
        prefix = self.key.rstrip("/")
        return S3Location(self.bucket, f"{prefix}/{name}" if prefix else name)


def is_s3_url(value: str) -> bool:
    return value.startswith("s3://")


def normal_key(key: str, what: str = "key") -> str:
    """The key with empty and ``.`` segments dropped (``a//./b`` -> ``a/b``): the form every
    check compares and every request uses, as some servers (SeaweedFS) map both to one
    object. A trailing ``/`` is kept.

    Raises:
        VeilError: a ``..`` segment, or a control character.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise VeilError(f"{what} {key!r}: control characters are not allowed in a key")
    parts = key.split("/")
    if ".." in parts:
        raise VeilError(f"{what} {key!r}: '..' is not allowed in a key")
    kept = "/".join(p for p in parts if p not in ("", "."))
    return f"{kept}/" if kept and key.endswith("/") else kept


def parse_s3_url(url: str) -> S3Location:
    """``s3://bucket/key/or/prefix`` -> S3Location, its key normalised (:func:`normal_key`).

    Raises:
        VeilError: not an s3:// URL, no bucket, or a key that is not allowed.
    """
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or parsed.query or parsed.fragment:
        raise VeilError(f"{url!r} is not an s3://bucket/key URL")
    return S3Location(parsed.netloc, normal_key(parsed.path.lstrip("/"), url))


def is_under(loc: S3Location, prefix: S3Location) -> bool:
    """Is ``loc`` (normalised) the prefix itself or inside it, folder by folder?"""
    if loc.bucket != prefix.bucket:
        return False
    base = prefix.key.rstrip("/")
    return not base or loc.key.rstrip("/") == base or loc.key.startswith(base + "/")


def client(settings: ServiceSettings) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.s3_region or "us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def transfer_config(settings: ServiceSettings) -> Any:
    from boto3.s3.transfer import TransferConfig

    part = max(MIN_PART_BYTES, settings.s3_multipart_bytes)
    return TransferConfig(
        multipart_threshold=settings.s3_multipart_bytes, multipart_chunksize=part, use_threads=True
    )


def download(
    settings: ServiceSettings, loc: S3Location, dst: Path, version_id: str | None = None
) -> None:
    """Copy one object (one version, if given) to ``dst``."""
    from botocore.exceptions import ClientError

    extra = {"VersionId": version_id} if version_id else None
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        client(settings).download_file(
            loc.bucket, loc.key, str(dst), ExtraArgs=extra, Config=transfer_config(settings)
        )
    except ClientError as exc:
        raise VeilError(f"{loc.url}: cannot download ({exc})") from exc


def upload(
    settings: ServiceSettings, src: Path, loc: S3Location, content_type: str, job_id: str
) -> None:
    """Upload a file; multipart above the threshold (S3 then stores it only when complete).
    The object's metadata names the job that wrote it (see :func:`written_by_other`)."""
    client(settings).upload_file(
        str(src),
        loc.bucket,
        loc.key,
        ExtraArgs={"ContentType": content_type, "Metadata": {"veil-job": job_id}},
        Config=transfer_config(settings),
    )


def head(settings: ServiceSettings, loc: S3Location) -> dict[str, Any] | None:
    """The object's metadata (``ETag``, ``VersionId``, ``Metadata``), or None if absent."""
    from botocore.exceptions import ClientError

    try:
        return client(settings).head_object(Bucket=loc.bucket, Key=loc.key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def written_by_other(settings: ServiceSettings, loc: S3Location, job_id: str) -> bool:
    """Is there an object at ``loc`` that this job did not write (another job's, or not
    veil's)?"""
    found = head(settings, loc)
    return found is not None and found.get("Metadata", {}).get("veil-job") != job_id


def list_objects(settings: ServiceSettings, loc: S3Location) -> list[dict[str, Any]]:
    """Every object under a prefix: ``Key``, ``ETag``, ``Size``."""
    paginator = client(settings).get_paginator("list_objects_v2")
    found: list[dict[str, Any]] = []
    for page in paginator.paginate(Bucket=loc.bucket, Prefix=loc.key):
        found.extend(page.get("Contents", []))
    return found
