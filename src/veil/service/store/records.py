"""What the store hands out: frozen records, the job states, the store's errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from veil.errors import VeilError

# seconds since the epoch; time.time in production, a fake clock in tests
Clock = Callable[[], float]


class JobState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    FINISHED = "finished"
    ERROR = "error"
    CANCELED = "canceled"


FINAL_STATES = frozenset({JobState.FINISHED, JobState.ERROR, JobState.CANCELED})


class NotFound(VeilError):
    """The named job, preset, token or upload does not exist."""


class Conflict(VeilError):
    """The request does not fit the current state (cancel a finished job, a duplicate name)."""


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@dataclass(frozen=True)
class Job:
    id: str
    state: JobState
    mode: str
    preset: str | None
    options: dict[str, Any]
    source: dict[str, Any]
    source_name: str
    output: str | None
    annotations: str | None
    ids: list[int] | None
    webhook_url: str | None
    webhook_secret: str | None
    token_name: str | None  # the owner
    team: str | None
    upload_id: str | None
    annotations_upload_id: str | None
    frames_done: int
    frames_total: int | None
    error: str | None
    tries: int
    max_tries: int
    lease_owner: str | None
    lease_until: float | None
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    outputs: list[str] | None
    report: dict[str, Any] | None
    unique_key: str | None = None

    @property
    def progress(self) -> float:
        """Percent done: 100 only once finished."""
        if self.state == JobState.FINISHED:
            return 100.0
        if not self.frames_total:
            return 0.0
        return round(min(99.0, 100.0 * self.frames_done / self.frames_total), 1)

    def summary(self) -> dict[str, Any]:
        """The job as API responses and webhooks show it: no secrets, no lease, no server path."""
        return {
            "id": self.id,
            "state": self.state.value,
            "mode": self.mode,
            "preset": self.preset,
            "source": {k: v for k, v in self.source.items() if k != "path"},
            "source_name": self.source_name,
            "output": self.output if self.output and self.output.startswith("s3://") else None,
            "progress": self.progress,
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "error": self.error,
            "tries": self.tries,
            "max_tries": self.max_tries,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "outputs": [o.rsplit("/", 1)[-1] for o in self.outputs or []],
            "token_name": self.token_name,
            "team": self.team,
        }


def job_from_row(row: Any) -> Job:
    values = dict(row._mapping)
    values["state"] = JobState(values["state"])
    values.pop("not_before", None)
    return Job(**values)


@dataclass(frozen=True)
class JobSpec:
    """What a new job is: built by the API, the watchers and the event endpoint."""

    mode: str
    source: dict[str, Any]
    source_name: str
    options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    output: str | None = None
    annotations: str | None = None
    ids: list[int] | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    token_name: str | None = None
    team: str | None = None
    upload_id: str | None = None
    annotations_upload_id: str | None = None
    unique_key: str | None = None


@dataclass(frozen=True)
class StoredPreset:
    name: str
    azure: dict[str, Any]
    options: dict[str, Any]  # veil's own: {"detector": {...}, "encoder": {...}}
    webhook_url: str | None
    webhook_secret: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Upload:
    id: str
    filename: str
    size: int | None
    received: int
    complete: bool
    kind: str | None
    token_name: str | None
    team: str | None
    writing_until: float | None
    created_at: float


@dataclass(frozen=True)
class Delivery:
    id: int
    job_id: str
    url: str
    body: str
    attempts: int


@dataclass(frozen=True)
class AuditEvent:
    """One entry of a job's chain of custody."""

    job_id: str
    seq: int
    at: float
    who: str | None
    action: str
    details: dict[str, Any]
    prev: str  # the hash of the entry before (64 zeros for the first)
    hash: str  # SHA-256 over prev and this entry

    def public(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "at_seconds": self.at,  # exactly as hashed
            "who": self.who,
            "action": self.action,
            "details": self.details,
            "prev": self.prev,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class WatchRule:
    source: str
    output: str
    preset: str | None
    suffixes: list[str]
