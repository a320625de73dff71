"""Service settings: one frozen value, built from the command line and ``VEIL_*`` variables.

Nothing is read when a module is imported; :meth:`ServiceSettings.from_env`
is called by the shell that starts the service.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from veil.errors import VeilError

DEFAULT_DATA_DIR = Path("veil-data")


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise VeilError(f"{name}={value!r} is not a number") from exc


def _optional_float(name: str) -> float | None:
    return _float(name, 0.0) if os.environ.get(name) else None


def _list(name: str) -> tuple[str, ...]:
    value = os.environ.get(name, "")
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the API, workers and watchers need to agree on.

    Attributes:
        data_dir: uploads, job work folders and outputs (and the SQLite file).
        database_url: SQLAlchemy URL; default ``sqlite:///<data_dir>/veil.db`` (WAL).
        max_upload_bytes: uploads larger than this are refused (413).
        max_body_bytes: any other request body larger than this is refused (413).
        max_pixels: an image, or a video's frame, with more pixels is refused before
            it is decoded (4xx, nothing kept).
        idle_seconds: a connection that sends nothing (no request, or a stalled body)
            for this long is closed.
        lease_seconds: a worker that has not renewed its lease for this long is
            presumed dead and its job is run again.
        max_tries: a job whose runs fail (or whose worker dies) this many times
            ends in ``error`` with the last reason.
        url_allowlist: URL prefixes jobs may download their input from.
        webhook_secret: HMAC key for callbacks that name no secret of their own.
        webhook_attempts: deliveries per state change before giving up.
        webhook_backoff: first retry delay in seconds, doubled each time.
        s3_endpoint: S3-compatible endpoint URL (None: AWS); credentials the usual
            AWS way (environment, profile).
        s3_multipart_bytes: outputs larger than this are uploaded in parts of this size.
        poll_seconds: how often an idle worker looks for a job.
        shutdown_grace: on SIGTERM a running job gets this long to finish; then it
            is handed back to the queue.
        retain_originals_days: uploads (the unredacted originals) are deleted this
            many days after they were made (None: kept until deleted).
        webhook_deadline: a webhook delivery that has not been answered in this many
            seconds, in all, has failed.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    max_upload_bytes: int = 2 * 1024**3
    max_body_bytes: int = 1024**2
    max_pixels: int = 50_000_000  # 8K video is 33 million; a 12000x12000 PNG 144 million
    idle_seconds: float = 30.0
    lease_seconds: float = 30.0
    max_tries: int = 3
    url_allowlist: tuple[str, ...] = ()
    webhook_secret: str | None = None
    webhook_attempts: int = 8
    webhook_backoff: float = 2.0
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_multipart_bytes: int = 8 * 1024**2
    poll_seconds: float = 0.5
    # combined jobs are split into segments and redacted on this Ray cluster
    ray_address: str | None = None
    segment_seconds: float = 10.0
    shutdown_grace: float = 20.0
    retain_originals_days: float | None = None
    webhook_deadline: float = 10.0

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """Defaults, then ``VEIL_*`` variables, then ``overrides`` that are not None."""
        base = cls(
            data_dir=Path(os.environ.get("VEIL_DATA_DIR", str(DEFAULT_DATA_DIR))),
            database_url=os.environ.get("VEIL_DATABASE_URL") or None,
            max_upload_bytes=int(_float("VEIL_MAX_UPLOAD_BYTES", cls.max_upload_bytes)),
            max_body_bytes=int(_float("VEIL_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_pixels=int(_float("VEIL_MAX_PIXELS", cls.max_pixels)),
            idle_seconds=_float("VEIL_IDLE_SECONDS", cls.idle_seconds),
            lease_seconds=_float("VEIL_LEASE_SECONDS", cls.lease_seconds),
            max_tries=int(_float("VEIL_MAX_TRIES", cls.max_tries)),
            url_allowlist=_list("VEIL_URL_ALLOWLIST"),
            webhook_secret=os.environ.get("VEIL_WEBHOOK_SECRET") or None,
            webhook_attempts=int(_float("VEIL_WEBHOOK_ATTEMPTS", cls.webhook_attempts)),
            webhook_backoff=_float("VEIL_WEBHOOK_BACKOFF", cls.webhook_backoff),
            s3_endpoint=os.environ.get("VEIL_S3_ENDPOINT") or None,
            s3_region=os.environ.get("VEIL_S3_REGION") or None,
            poll_seconds=_float("VEIL_POLL_SECONDS", cls.poll_seconds),
            ray_address=os.environ.get("VEIL_RAY_ADDRESS") or None,
            segment_seconds=_float("VEIL_SEGMENT_SECONDS", cls.segment_seconds),
            shutdown_grace=_float("VEIL_SHUTDOWN_GRACE", cls.shutdown_grace),
            retain_originals_days=_optional_float("VEIL_RETAIN_ORIGINALS_DAYS"),
            webhook_deadline=_float("VEIL_WEBHOOK_DEADLINE", cls.webhook_deadline),
        )
        chosen = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(base, **chosen)
        settings.check()
        return settings

    def check(self) -> None:
        if self.lease_seconds <= 0.5:
            raise VeilError(f"lease must be longer than 0.5 s (got {self.lease_seconds})")
        if self.max_tries < 1:
            raise VeilError(f"max tries must be at least 1 (got {self.max_tries})")
        if self.max_upload_bytes < 1 or self.max_body_bytes < 1 or self.max_pixels < 1:
            raise VeilError("size limits must be positive")
        if self.retain_originals_days is not None and self.retain_originals_days <= 0:
            raise VeilError("--retain-originals must be more than 0 days")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'veil.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 4

    def env(self) -> dict[str, str]:
        """These settings as ``VEIL_*`` variables, for worker processes started by ``serve``."""
        values = {
            "VEIL_DATA_DIR": str(self.data_dir.resolve()),
            "VEIL_DATABASE_URL": self.db_url,
            "VEIL_MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
            "VEIL_MAX_BODY_BYTES": str(self.max_body_bytes),
            "VEIL_MAX_PIXELS": str(self.max_pixels),
            "VEIL_IDLE_SECONDS": str(self.idle_seconds),
            "VEIL_LEASE_SECONDS": str(self.lease_seconds),
            "VEIL_MAX_TRIES": str(self.max_tries),
            "VEIL_URL_ALLOWLIST": ",".join(self.url_allowlist),
            "VEIL_WEBHOOK_ATTEMPTS": str(self.webhook_attempts),
            "VEIL_WEBHOOK_BACKOFF": str(self.webhook_backoff),
            "VEIL_POLL_SECONDS": str(self.poll_seconds),
            "VEIL_SEGMENT_SECONDS": str(self.segment_seconds),
            "VEIL_SHUTDOWN_GRACE": str(self.shutdown_grace),
            "VEIL_WEBHOOK_DEADLINE": str(self.webhook_deadline),
        }
        for name, value in (
            ("VEIL_WEBHOOK_SECRET", self.webhook_secret),
            ("VEIL_S3_ENDPOINT", self.s3_endpoint),
            ("VEIL_S3_REGION", self.s3_region),
            ("VEIL_RAY_ADDRESS", self.ray_address),
            ("VEIL_RETAIN_ORIGINALS_DAYS", self.retain_originals_days),
        ):
            if value:
                values[name] = str(value)
        return values
