"""The webhook outbox: a delivery is written in the transaction of the state change it reports.

Any process may deliver: each due delivery is claimed by bumping its attempt
count (compare-and-set) and leasing it for 30 s.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from veil.service import db
from veil.service.store.records import Clock, Delivery, Job, JobState, iso

CLAIM_SECONDS = 30


class DeliveryStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def enqueue(self, c: Connection, job: Job, state: JobState, now: float) -> None:
        """Within the caller's transaction: one delivery of ``state`` to the job's webhook."""
        if not job.webhook_url:
            return
        body = json.dumps(
            {"type": "job.state", "state": state.value, "at": iso(now), "job": job.summary()}
        )
        c.execute(
            insert(db.deliveries).values(
                job_id=job.id,
                url=job.webhook_url,
                body=body,
                attempts=0,
                next_at=now,
                done=False,
            )
        )

    def due(
        self, *, limit: int = 20, skip_urls: Collection[str] = (), only_url: str | None = None
    ) -> list[Delivery]:
        """Claim webhook deliveries that are due (each is leased for 30 s), oldest first;
        none to ``skip_urls``, or only to ``only_url``."""
        now = self.clock()
        query = select(db.deliveries).where(
            db.deliveries.c.done.is_(False), db.deliveries.c.next_at <= now
        )
        if skip_urls:
            query = query.where(db.deliveries.c.url.not_in(list(skip_urls)))
        if only_url is not None:
            query = query.where(db.deliveries.c.url == only_url)
        with self.engine.connect() as c:
            rows = c.execute(query.order_by(db.deliveries.c.id).limit(limit)).all()
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
                    .values(attempts=row.attempts + 1, next_at=now + CLAIM_SECONDS)
                ).rowcount
            if got:
                claimed.append(Delivery(row.id, row.job_id, row.url, row.body, row.attempts + 1))
        return claimed

    def done(self, delivery_id: int, *, error: str | None, retry_at: float | None) -> None:
        values: dict[str, Any] = {"last_error": error}
        if error is None:
            values.update(done=True, delivered_at=self.clock())
        elif retry_at is None:
            values.update(done=True)  # gave up
        else:
            values.update(next_at=retry_at)
        with self.engine.begin() as c:
            c.execute(
                update(db.deliveries).where(db.deliveries.c.id == delivery_id).values(**values)
            )

    def of_job(self, job_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.deliveries)
                .where(db.deliveries.c.job_id == job_id)
                .order_by(db.deliveries.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]
