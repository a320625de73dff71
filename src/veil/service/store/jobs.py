"""Jobs: submit, read, the users' actions, and every state change with its event.

Every change is one short transaction whose ``WHERE`` states what must still be
true (compare-and-set), so any number of API and worker processes can share
one SQLite file (WAL) or one PostgreSQL database without further locking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from veil.service import db
from veil.service.access import Caller
from veil.service.store.deliveries import DeliveryStore
from veil.service.store.records import (
    FINAL_STATES,
    Clock,
    Conflict,
    Job,
    JobSpec,
    JobState,
    NotFound,
    job_from_row,
)


class JobStore:
    def __init__(
        self, engine: Engine, clock: Clock, deliveries: DeliveryStore, max_tries: int
    ) -> None:
        self.engine, self.clock = engine, clock
        self.deliveries = deliveries
        self.max_tries = max_tries

    # -- submit and read --------------------------------------------------------------

    def submit(self, spec: JobSpec) -> tuple[Job, bool]:
        """Queue a job; (job, True), or (the existing job, False) if its unique key is taken."""
        now = self.clock()
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
            "team": spec.team,
            "upload_id": spec.upload_id,
            "annotations_upload_id": spec.annotations_upload_id,
            "frames_done": 0,
            "tries": 0,
            "max_tries": self.max_tries,
            "not_before": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as c:
                c.execute(insert(db.jobs).values(**values))
                self.record(c, job_id, JobState.QUEUED, 0, None, None, now)
        except IntegrityError:
            if spec.unique_key is None:
                raise
            existing = self.by_key(spec.unique_key)
            if existing is None:  # deleted in between: try once more
                return self.submit(spec)
            return existing, False
        return self.get(job_id), True

    def by_key(self, unique_key: str) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(select(db.jobs).where(db.jobs.c.unique_key == unique_key)).first()
        return None if row is None else job_from_row(row)

    def get(self, job_id: str, caller: Caller | None = None) -> Job:
        """The job; NotFound also when ``caller`` may not see it."""
        with self.engine.connect() as c:
            row = c.execute(select(db.jobs).where(db.jobs.c.id == job_id)).first()
        job = None if row is None else job_from_row(row)
        if job is None or (caller is not None and not caller.sees(job.token_name, job.team)):
            raise NotFound(f"no job {job_id!r}")
        return job

    def using(self, upload_id: str) -> list[Job]:
        """The jobs whose input or annotations is this upload."""
        uses = or_(db.jobs.c.upload_id == upload_id, db.jobs.c.annotations_upload_id == upload_id)
        with self.engine.connect() as c:
            return [job_from_row(r) for r in c.execute(select(db.jobs).where(uses)).all()]

    def list(
        self,
        *,
        visible_to: Caller | None = None,
        states: Iterable[str] = (),
        preset: str | None = None,
        token_name: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:
        query = select(db.jobs)
        if visible_to is not None:
            query = query.where(visible_to.visible(db.jobs.c))
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
        return [job_from_row(r) for r in rows]

    def count(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.jobs.c.state, func.count()).group_by(db.jobs.c.state)).all()
        return {state: n for state, n in rows}

    def events(self, job_id: str | None = None) -> list[dict[str, Any]]:
        query = select(db.job_events).order_by(db.job_events.c.id)
        if job_id is not None:
            query = query.where(db.job_events.c.job_id == job_id)
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(query).all()]

    # -- the users' actions -------------------------------------------------------------

    def cancel(self, job_id: str) -> Job:
        """Queued or processing -> canceled; a worker notices at its next heartbeat."""
        job = self.get(job_id)
        if job.state in FINAL_STATES:
            raise Conflict(f"job {job_id} is {job.state.value}; only queued or processing jobs")
        if not self.transition(
            job_id,
            frm=(JobState.QUEUED, JobState.PROCESSING),
            to=JobState.CANCELED,
            attempt=job.tries,
            values={"finished_at": self.clock(), "lease_owner": None, "lease_until": None},
        ):
            return self.cancel(job_id)  # it changed meanwhile; look again
        return self.get(job_id)

    def retry(self, job_id: str) -> Job:
        """A job that ended in error or was canceled is queued again, with fresh tries."""
        job = self.get(job_id)
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
        if not self.transition(
            job_id, frm=(job.state,), to=JobState.QUEUED, attempt=0, values=values
        ):
            raise Conflict(f"job {job_id} changed meanwhile; look again")
        return self.get(job_id)

    def delete(self, job_id: str) -> Job:
        """Remove a job (a running one is canceled first); returns it as it was."""
        job = self.get(job_id)
        if job.state in (JobState.QUEUED, JobState.PROCESSING):
            job = self.cancel(job_id)
        with self.engine.begin() as c:
            c.execute(delete(db.jobs).where(db.jobs.c.id == job_id))
        return job

    # -- state changes and their events -------------------------------------------------

    def transition(
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
        """``frm`` -> ``to`` if the job is still in ``frm`` (and ``extra`` holds); False if not."""
        now = self.clock()
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
                self.record(c, job_id, to, attempt, worker, detail, now)
        return bool(changed)

    def record(
        self,
        c: Connection,
        job_id: str,
        state: JobState,
        attempt: int,
        worker: str | None,
        detail: str | None,
        now: float,
    ) -> None:
        """Within the caller's transaction: the state change's event and its webhook."""
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
        if row is not None:
            self.deliveries.enqueue(c, job_from_row(row), state, now)
