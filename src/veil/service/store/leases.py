"""Workers' side of jobs: claim with a lease, heartbeat, finish, fail, give back.

A worker claims a job by taking a lease (``lease_owner``, ``lease_until``) and
renews it with heartbeats. Each claim increments ``tries``; the worker keeps
that number as its *attempt* and every later write names it, so a worker that
lost its lease (it stalled, or the job was canceled) cannot change the job any
more: its heartbeat returns False and its ``finish`` is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from veil.service import db
from veil.service.store.jobs import JobStore
from veil.service.store.records import Clock, Job, JobState


class LeaseStore:
    def __init__(self, engine: Engine, clock: Clock, jobs: JobStore, lease_seconds: float) -> None:
        self.engine, self.clock = engine, clock
        self.jobs = jobs
        self.lease_seconds = lease_seconds

    def claim(self, worker: str) -> Job | None:
        """Lease the oldest runnable job: queued, or processing with an expired lease."""
        now = self.clock()
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
                        lease_until=now + self.lease_seconds,
                        tries=attempt,
                        started_at=func.coalesce(db.jobs.c.started_at, now),
                        updated_at=now,
                        frames_done=0,
                    )
                ).rowcount
                if taken:
                    detail = None if attempt == 1 else f"attempt {attempt}"
                    self.jobs.record(c, job_id, JobState.PROCESSING, attempt, worker, detail, now)
            if taken:
                return self.jobs.get(job_id)
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
            self.jobs.transition(
                job_id,
                frm=(JobState.PROCESSING,),
                to=JobState.ERROR,
                attempt=tries,
                values={"error": reason, "finished_at": now, "lease_until": None},
                extra=[db.jobs.c.tries == tries, db.jobs.c.lease_until < now],
                detail=reason,
            )

    @staticmethod
    def _held_by(worker: str, attempt: int) -> list:
        return [db.jobs.c.lease_owner == worker, db.jobs.c.tries == attempt]

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
        now = self.clock()
        values: dict[str, Any] = {"lease_until": now + self.lease_seconds}
        if frames_done is not None:
            values["frames_done"] = frames_done
            values["updated_at"] = now
        if frames_total is not None:
            values["frames_total"] = frames_total
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    update(db.jobs)
                    .where(
                        db.jobs.c.id == job_id,
                        db.jobs.c.state == JobState.PROCESSING.value,
                        *self._held_by(worker, attempt),
                    )
                    .values(**values)
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
        return self.jobs.transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=JobState.FINISHED,
            attempt=attempt,
            values={
                "outputs": outputs,
                "report": report,
                "finished_at": self.clock(),
                "lease_until": None,
                "error": None,
                "frames_done": report.get("frames", 0),
            },
            extra=self._held_by(worker, attempt),
            worker=worker,
        )

    def fail(self, job_id: str, worker: str, attempt: int, reason: str, *, retry: bool) -> bool:
        """A failed run: queued again (with a growing delay) while tries remain, else error."""
        job = self.jobs.get(job_id)
        now = self.clock()
        values: dict[str, Any] = {"error": reason, "lease_until": None}
        if retry and attempt < job.max_tries:
            to = JobState.QUEUED
            values.update(lease_owner=None, not_before=now + min(60.0, 0.5 * 2 ** (attempt - 1)))
        else:
            to = JobState.ERROR
            if retry:
                reason = values["error"] = f"{reason} (failed {attempt} of {job.max_tries} tries)"
            values["finished_at"] = now
        return self.jobs.transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=to,
            attempt=attempt,
            values=values,
            extra=self._held_by(worker, attempt),
            worker=worker,
            detail=reason,
        )

    def release(self, job_id: str, worker: str, attempt: int) -> bool:
        """A worker shutting down gives its job back, without counting the try."""
        return self.jobs.transition(
            job_id,
            frm=(JobState.PROCESSING,),
            to=JobState.QUEUED,
            attempt=attempt,
            values={"lease_owner": None, "lease_until": None, "tries": attempt - 1},
            extra=self._held_by(worker, attempt),
            worker=worker,
            detail="worker stopped; job given back",
        )
