"""The job store: jobs, leases, presets, tokens, uploads and the webhook outbox.

Every change is one short transaction whose ``WHERE`` states what must still be
true (compare-and-set), so any number of API and worker processes can share
one SQLite file (WAL) or one PostgreSQL database without further locking.

A worker claims a job by taking a lease (``lease_owner``, ``lease_until``) and
renews it with heartbeats. Each claim increments ``tries``; the worker keeps
that number as its *attempt* and every later write names it, so a worker that
lost its lease (it stalled, or the job was canceled) cannot change the job any
more: its heartbeat returns False and its ``finish`` is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from veil.errors import VeilError
from veil.service import db
from veil.service.settings import ServiceSettings


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
    token_name: str | None
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
        """The job as API responses and webhooks show it (no secrets, no lease)."""
        return {
            "id": self.id,
            "state": self.state.value,
            "mode": self.mode,
            "preset": self.preset,
            "source": self.source,
            "source_name": self.source_name,
            "output": self.output,
            "progress": self.progress,
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "error": self.error,
            "tries": self.tries,
            "max_tries": self.max_tries,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "outputs": list(self.outputs or []),
            "token_name": self.token_name,
        }


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


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
    created_at: float


@dataclass(frozen=True)
class Delivery:
    id: int
    job_id: str
    url: str
    secret: str | None
    body: str
    attempts: int


@dataclass(frozen=True)
class WatchRule:
    source: str
    output: str
    preset: str | None
    suffixes: list[str]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _job(row: Any) -> Job:
    values = dict(row._mapping)
    values["state"] = JobState(values["state"])
    values.pop("not_before", None)
    return Job(**values)


class Store:
    """All persistent state of the service, behind one SQLAlchemy engine."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.engine = db.make_engine(settings.db_url)

    def close(self) -> None:
        self.engine.dispose()

    # -- tokens ---------------------------------------------------------------

    def create_token(self, name: str) -> str:
        """A new token's secret (shown once); only its SHA-256 is stored."""
        secret = "veil_" + secrets.token_urlsafe(32)
        now = time.time()
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(db.tokens).values(name=name, hash=hash_token(secret), created_at=now)
                )
        except IntegrityError as exc:
            raise Conflict(f"a token named {name!r} exists; revoke it or choose another") from exc
        return secret

    def revoke_token(self, name: str) -> None:
        with self.engine.begin() as c:
            done = c.execute(
                update(db.tokens)
                .where(db.tokens.c.name == name, db.tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            ).rowcount
        if not done:
            raise NotFound(f"no active token named {name!r}")

    def list_tokens(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.tokens).order_by(db.tokens.c.created_at)).all()
        return [
            {"name": r.name, "created_at": _iso(r.created_at), "revoked_at": _iso(r.revoked_at)}
            for r in rows
        ]

    def token_name(self, secret: str) -> str | None:
        """The name of the active token with this secret, or None."""
        with self.engine.connect() as c:
            row = c.execute(
                select(db.tokens.c.name).where(
                    db.tokens.c.hash == hash_token(secret), db.tokens.c.revoked_at.is_(None)
                )
            ).first()
        return None if row is None else row.name

    # -- presets --------------------------------------------------------------

    def put_preset(
        self,
        *,
        name: str,
        azure: dict[str, Any],
        options: dict[str, Any],
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        create_only: bool = False,
    ) -> StoredPreset:
        now = time.time()
        values = {
            "azure": azure,
            "options": options,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "updated_at": now,
        }
        with self.engine.begin() as c:
            exists = c.execute(select(db.presets.c.name).where(db.presets.c.name == name)).first()
            if exists and create_only:
                raise Conflict(f"a preset named {name!r} exists")
            if exists:
                c.execute(update(db.presets).where(db.presets.c.name == name).values(**values))
            else:
                try:
                    c.execute(insert(db.presets).values(name=name, created_at=now, **values))
                except IntegrityError as exc:
                    raise Conflict(f"a preset named {name!r} exists") from exc
        return self.get_preset(name)

    def get_preset(self, name: str) -> StoredPreset:
        with self.engine.connect() as c:
            row = c.execute(select(db.presets).where(db.presets.c.name == name)).first()
        if row is None:
            raise NotFound(f"no preset named {name!r}")
        return StoredPreset(**row._mapping)

    def list_presets(self) -> list[StoredPreset]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.presets).order_by(db.presets.c.name)).all()
        return [StoredPreset(**r._mapping) for r in rows]

    def delete_preset(self, name: str) -> None:
        with self.engine.begin() as c:
            if not c.execute(delete(db.presets).where(db.presets.c.name == name)).rowcount:
                raise NotFound(f"no preset named {name!r}")

    # -- uploads --------------------------------------------------------------

    def create_upload(self, *, filename: str, size: int | None, token_name: str | None) -> Upload:
        upload_id = uuid.uuid4().hex
        with self.engine.begin() as c:
            c.execute(
                insert(db.uploads).values(
                    id=upload_id,
                    filename=filename,
                    size=size,
                    received=0,
                    complete=False,
                    token_name=token_name,
                    created_at=time.time(),
                )
            )
        return self.get_upload(upload_id)

    def get_upload(self, upload_id: str) -> Upload:
        with self.engine.connect() as c:
            row = c.execute(select(db.uploads).where(db.uploads.c.id == upload_id)).first()
        if row is None:
            raise NotFound(f"no upload {upload_id!r}")
        return Upload(**row._mapping)

    def upload_received(self, upload_id: str, *, before: int, after: int) -> bool:
        """Record a chunk; False if another request moved the offset meanwhile."""
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    update(db.uploads)
                    .where(db.uploads.c.id == upload_id, db.uploads.c.received == before)
                    .values(received=after)
                ).rowcount
            )

    def complete_upload(self, upload_id: str, *, kind: str, size: int) -> Upload:
        with self.engine.begin() as c:
            c.execute(
                update(db.uploads)
                .where(db.uploads.c.id == upload_id)
                .values(complete=True, kind=kind, received=size, size=size)
            )
        return self.get_upload(upload_id)

    def delete_upload(self, upload_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(db.uploads).where(db.uploads.c.id == upload_id))

    # -- jobs: submit and read ------------------------------------------------

    def submit(self, spec: JobSpec) -> tuple[Job, bool]:
        """Queue a job; (job, True), or (the existing job, False) if its unique key is taken."""
        now = time.time()
        job_id = uuid.uuid4().hex
        values = {
            "id": job_id,
            "unique_key": spec.unique_key,
            "state": JobState.QUEUED.value,
            "mode": spec.mode,
            "preset": spec.preset,
            "options": spec.options,
            "source": spec.source,
            "source_name": spec.source_name,
            "output": spec.output,
            "annotations": spec.annotations,
            "ids": spec.ids,
            "webhook_url": spec.webhook_url,
            "webhook_secret": spec.webhook_secret,
            "token_name": spec.token_name,
            "frames_done": 0,
            "tries": 0,
            "max_tries": self.settings.max_tries,
            "not_before": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as c:
                c.execute(insert(db.jobs).values(**values))
                self._event(c, job_id, JobState.QUEUED, 0, None, None)
        except IntegrityError:
            if spec.unique_key is None:
                raise
            existing = self.job_by_key(spec.unique_key)
            if existing is None:  # deleted in between: try once more
                return self.submit(spec)
            return existing, False
        return self.get_job(job_id), True

    def job_by_key(self, unique_key: str) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(select(db.jobs).where(db.jobs.c.unique_key == unique_key)).first()
        return None if row is None else _job(row)

    def get_job(self, job_id: str) -> Job:
        with self.engine.connect() as c:
            row = c.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
        if row is None:
            raise NotFound(f"no job {job_id!r}")
        return _job(row)

    def list_jobs(
        self,
        *,
        states: Iterable[str] = (),
        preset: str | None = None,
        token_name: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:
        query = select(db.jobs)
        states = list(states)
        if states:
            query = query.where(db.jobs.c.state.in_(states))
        if preset is not None:
            query = query.where(db.jobs.c.preset == preset)
        if token_name is not None:
            query = query.where(db.jobs.c.token_name == token_name)
        if created_after is not None:
            query = query.where(db.jobs.c.created_at >= created_after)
        if created_before is not None:
            query = query.where(db.jobs.c.created_at < created_before)
        query = query.order_by(db.jobs.c.created_at.desc(), db.jobs.c.id).limit(limit)
        with self.engine.connect() as c:
            rows = c.execute(query.offset(offset)).all()
        return [_job(r) for r in rows]

    def count_jobs(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.jobs.c.state, func.count()).group_by(db.jobs.c.state)).all()
        return {state: n for state, n in rows}

    def events(self, job_id: str | None = None) -> list[dict[str, Any]]:
        query = select(db.job_events).order_by(db.job_events.c.id)
        if job_id is not None:
            query = query.where(db.job_events.c.job_id == job_id)
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(query).all()]

    # -- jobs: user actions ---------------------------------------------------

    def cancel(self, job_id: str) -> Job:
        """Queued or processing -> canceled; a worker notices at its next heartbeat."""
        job = self.get_job(job_id)
        if job.state in FINAL_STATES:
            raise Conflict(f"job {job_id} is {job.state.value}; only queued or processing jobs")
        if not self._transition(
            job_id,
            frm=(JobState.QUEUED, JobState.PROCESSING),
            to=JobState.CANCELED,
            attempt=job.tries,
            values={"finished_at": time.time(), "lease_owner": None, "lease_until": None},
        ):
            return self.cancel(job_id)  # it changed meanwhile; look again
        return self.get_job(job_id)

    def retry(self, job_id: str) -> Job:
        """A job that ended in error or was canceled is queued again, with fresh tries."""
        job = self.get_job(job_id)
        if job.state not in (JobState.ERROR, JobState.CANCELED):
            raise Conflict(f"job {job_id} is {job.state.value}; only failed or canceled jobs")
        values = {
            "tries": 0,
            "error": None,
            "frames_done": 0,
            "finished_at": None,
            "not_before": 0.0,
            "outputs": None,
            "report": None,
        }
        if not self._transition(
            job_id, frm=(job.state,), to=JobState.QUEUED, attempt=0, values=values
        ):
            raise Conflict(f"job {job_id} changed meanwhile; look again")
        return self.get_job(job_id)

    def delete_job(self, job_id: str) -> Job:
        """Remove a job (a running one is canceled first); returns it as it was."""
        job = self.get_job(job_id)
        if job.state in (JobState.QUEUED, JobState.PROCESSING):
            job = self.cancel(job_id)
        with self.engine.begin() as c:
            c.execute(delete(db.jobs).where(db.jobs.c.id == job_id))
        return job

    # -- jobs: workers --------------------------------------------------------

    def claim(self, worker: str) -> Job | None:
        """Lease the oldest runnable job: queued, or processing with an expired lease."""
        now = time.time()
        self._expire_exhausted(now)
        runnable = or_(
            and_(db.jobs.c.state == JobState.QUEUED.value, db.jobs.c.not_before <= now),
            and_(
                db.jobs.c.state == JobState.PROCESSING.value,
                db.jobs.c.lease_until < now,
                db.jobs.c.tries < db.jobs.c.max_tries,
            ),
        )
        with self.engine.connect() as c:
            candidates = c.execute(
                select(db.jobs.c.id, db.jobs.c.tries)
                .where(runnable)
                .order_by(db.jobs.c.created_at)
                .limit(8)
            ).all()
        for job_id, tries in candidates:
            attempt = tries + 1
            with self.engine.begin() as c:
                taken = c.execute(
                    update(db.jobs)
                    .where(db.jobs.c.id == job_id, db.jobs.c.tries == tries, runnable)
                    .values(
                        state=JobState.PROCESSING.value,
                        lease_owner=worker,
                        lease_until=now + self.settings.lease_seconds,
                        tries=attempt,
                        started_at=func.coalesce(db.jobs.c.started_at, now),
                        updated_at=now,
                        frames_done=0,
                    )
                ).rowcount
                if taken:
                    detail = None if attempt == 1 else f"attempt {attempt}"
                    self._event(c, job_id, JobState.PROCESSING, attempt, worker, detail)
            if taken:
                return self.get_job(job_id)
        return None

    def _expire_exhausted(self, now: float) -> None:
        """Processing jobs whose lease ran out on their last try end in error."""
        with self.engine.connect() as c:
            lost = c.execute(
                select(db.jobs.c.id, db.jobs.c.tries, db.jobs.c.lease_owner).where(
                    db.jobs.c.state == JobState.PROCESSING.value,
                    db.jobs.c.lease_until < now,
                    db.jobs.c.tries >= db.jobs.c.max_tries,
                )
            ).all()
        for job_id, tries, owner in lost:
            reason = f"worker {owner} stopped answering (lease expired) on try {tries} of {tries}"
            self._transition(
                job_id,
                frm=(JobState.PROCESSING,),
                to=JobState.ERROR,
                attempt=tries,
                values={"error": reason, "finished_at": now, "lease_until": None},
                extra=[db.jobs.c.tries == tries, db.jobs.c.lease_until < now],
                detail=reason,
            )

    def _owned(self, job_id: str, worker: str, attempt: int) -> list:
        return [
            db.jobs.c.id == job_id,
            db.jobs.c.state == JobState.PROCESSING.value,
            db.jobs.c.lease_owner == worker,
            db.jobs.c.tries == attempt,
        ]

    def heartbeat(
        self,
        job_id: str,
        worker: str,
        attempt: int,
        *,
        frames_done: int | None = None,
        frames_total: int | None = None,
    ) -> bool:
        """Renew the lease (and record progress); False: the job is no longer this worker's."""
        now = time.time()
        values: dict[str, Any] = {"lease_until": now + self.settings.lease_seconds}
        if frames_done is not None:
            values["frames_done"] = frames_done
            values["updated_at"] = now
        if frames_total is not None:
            values["frames_total"] = frames_total
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    update(db.jobs).where(*self._owned(job_id, worker, attempt)).values(**values)
                ).rowcount
            )

    def finish(
        self,
        job_id: str,
        worker: str,
        attempt: int,
        *,
        outputs: list[str],
        report: dict[str, Any],
    ) -> bool:
        """processing -> finished, only by the worker holding this attempt's lease."""
        return self._transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=JobState.FINISHED,
            attempt=attempt,
            values={
                "outputs": outputs,
                "report": report,
                "finished_at": time.time(),
                "lease_until": None,
                "error": None,
                "frames_done": report.get("frames", 0),
            },
            extra=self._owned(job_id, worker, attempt)[2:],
            worker=worker,
        )

    def fail(self, job_id: str, worker: str, attempt: int, reason: str, *, retry: bool) -> bool:
        """A failed run: queued again (with a growing delay) while tries remain, else error."""
        job = self.get_job(job_id)
        now = time.time()
        if retry and attempt < job.max_tries:
            return self._transition(
                job_id,
                frm=(JobState.PROCESSING,),
                to=JobState.QUEUED,
                attempt=attempt,
                values={
                    "error": reason,
                    "lease_owner": None,
                    "lease_until": None,
                    "not_before": now + min(60.0, 0.5 * 2 ** (attempt - 1)),
                },
                extra=self._owned(job_id, worker, attempt)[2:],
                worker=worker,
                detail=reason,
            )
        if retry:
            reason = f"{reason} (failed {attempt} of {job.max_tries} tries)"
        return self._transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=JobState.ERROR,
            attempt=attempt,
            values={"error": reason, "finished_at": now, "lease_until": None},
            extra=self._owned(job_id, worker, attempt)[2:],
            worker=worker,
            detail=reason,
        )

    def release(self, job_id: str, worker: str, attempt: int) -> bool:
        """A worker shutting down gives its job back, without counting the try."""
        return self._transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=JobState.QUEUED,
            attempt=attempt,
            values={"lease_owner": None, "lease_until": None, "tries": attempt - 1},
            extra=self._owned(job_id, worker, attempt)[2:],
            worker=worker,
            detail="worker stopped; job given back",
        )

    # -- state changes, events and the webhook outbox ---------------------------

    def _transition(
        self,
        job_id: str,
        *,
        frm: tuple[JobState, ...],
        to: JobState,
        attempt: int,
        values: dict[str, Any],
        extra: list | None = None,
        worker: str | None = None,
        detail: str | None = None,
    ) -> bool:
        now = time.time()
        with self.engine.begin() as c:
            changed = c.execute(
                update(db.jobs)
                .where(
                    db.jobs.c.id == job_id,
                    db.jobs.c.state.in_([s.value for s in frm]),
                    *(extra or []),
                )
                .values(state=to.value, updated_at=now, **values)
            ).rowcount
            if changed:
                self._event(c, job_id, to, attempt, worker, detail)
        return bool(changed)

    def _event(
        self,
        c: Connection,
        job_id: str,
        state: JobState,
        attempt: int,
        worker: str | None,
        detail: str | None,
    ) -> None:
        now = time.time()
        c.execute(
            insert(db.job_events).values(
                job_id=job_id,
                state=state.value,
                attempt=attempt,
                worker=worker,
                detail=detail,
                at=now,
            )
        )
        row = c.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
        if row is None or not row.webhook_url:
            return
        body = json.dumps(
            {"type": "job.state", "state": state.value, "at": _iso(now), "job": _job(row).summary()}
        )
        c.execute(
            insert(db.deliveries).values(
                job_id=job_id,
                url=row.webhook_url,
                secret=row.webhook_secret,
                body=body,
                attempts=0,
                next_at=now,
                done=False,
            )
        )

    def due_deliveries(self, *, limit: int = 20) -> list[Delivery]:
        """Claim webhook deliveries that are due (each is leased for 30 s)."""
        now = time.time()
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.deliveries)
                .where(db.deliveries.c.done.is_(False), db.deliveries.c.next_at <= now)
                .order_by(db.deliveries.c.id)
                .limit(limit)
            ).all()
        claimed = []
        for row in rows:
            with self.engine.begin() as c:
                got = c.execute(
                    update(db.deliveries)
                    .where(
                        db.deliveries.c.id == row.id,
                        db.deliveries.c.attempts == row.attempts,
                        db.deliveries.c.done.is_(False),
                    )
                    .values(attempts=row.attempts + 1, next_at=now + 30)
                ).rowcount
            if got:
                claimed.append(
                    Delivery(row.id, row.job_id, row.url, row.secret, row.body, row.attempts + 1)
                )
        return claimed

    def delivery_done(self, delivery_id: int, *, error: str | None, retry_at: float | None) -> None:
        values: dict[str, Any] = {"last_error": error}
        if error is None:
            values.update(done=True, delivered_at=time.time())
        elif retry_at is None:
            values.update(done=True)  # gave up
        else:
            values.update(next_at=retry_at)
        with self.engine.begin() as c:
            c.execute(
                update(db.deliveries).where(db.deliveries.c.id == delivery_id).values(**values)
            )

    def deliveries(self, job_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.deliveries)
                .where(db.deliveries.c.job_id == job_id)
                .order_by(db.deliveries.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    # -- S3 watch rules ---------------------------------------------------------

    def put_watch_rule(self, rule: WatchRule) -> None:
        with self.engine.begin() as c:
            c.execute(delete(db.watch_rules).where(db.watch_rules.c.source == rule.source))
            c.execute(
                insert(db.watch_rules).values(
                    source=rule.source,
                    output=rule.output,
                    preset=rule.preset,
                    suffixes=rule.suffixes,
                    created_at=time.time(),
                )
            )

    def watch_rules(self) -> list[WatchRule]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.watch_rules)).all()
        return [WatchRule(r.source, r.output, r.preset, list(r.suffixes)) for r in rows]
