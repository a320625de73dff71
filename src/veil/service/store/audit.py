"""The audit trail: each job's append-only, hash-chained log of who did what, and when.

Entry ``n`` stores ``hash = SHA-256(prev || canonical JSON of the entry)``
where ``prev`` is entry ``n-1``'s hash, so changing or dropping an entry breaks
every hash after it (:func:`chain_ok`). Entries outlive their job: deleting a
job is itself an entry.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from veil.service import db
from veil.service.store.records import AuditEvent, Clock

GENESIS = "0" * 64
# the trail of the service's own settings: tokens, the policy, presets (admins read it at
# GET /v1/audit); no job ID (32 hex digits) is ever this
SERVICE_TRAIL = "service"


def entry_hash(prev: str, job_id: str, seq: int, at: float, who: str | None, action: str,
               details: dict[str, Any]) -> str:  # fmt: skip
    body = json.dumps(
        {"job": job_id, "seq": seq, "at": at, "who": who, "action": action, "details": details},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev + body).encode()).hexdigest()


def chain_ok(events: list[AuditEvent]) -> bool:
    prev = GENESIS
    for e in events:
        if e.prev != prev or e.hash != entry_hash(
            prev, e.job_id, e.seq, e.at, e.who, e.action, e.details
        ):
            return False
        prev = e.hash
    return True


class AuditStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def append(
        self, job_id: str, who: str | None, action: str, details: dict[str, Any] | None = None
    ) -> AuditEvent:
        """Add an entry after the job's last one (concurrent appends retry on the next seq)."""
        details = json.loads(json.dumps(details or {}))  # as it will read back
        for _ in range(50):
            last = self._last(job_id)
            seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
            at = self.clock()
            digest = entry_hash(prev, job_id, seq, at, who, action, details)
            event = AuditEvent(job_id, seq, at, who, action, details, prev, digest)
            try:
                with self.engine.begin() as c:
                    c.execute(
                        insert(db.audit_events).values(
                            job_id=job_id,
                            seq=seq,
                            at=at,
                            who=who,
                            action=action,
                            details=details,
                            prev=prev,
                            hash=digest,
                        )
                    )
            except IntegrityError:  # another entry took this seq: chain after it
                continue
            return event
        raise RuntimeError(f"job {job_id}: could not append to the audit trail")

    def _last(self, job_id: str) -> AuditEvent | None:
        events = self._select(job_id, last=True)
        return events[0] if events else None

    def of_job(self, job_id: str) -> list[AuditEvent]:
        return self._select(job_id, last=False)

    def _select(self, job_id: str, *, last: bool) -> list[AuditEvent]:
        order = db.audit_events.c.seq.desc() if last else db.audit_events.c.seq
        query = select(db.audit_events).where(db.audit_events.c.job_id == job_id).order_by(order)
        with self.engine.connect() as c:
            rows = c.execute(query.limit(1) if last else query).all()
        return [
            AuditEvent(r.job_id, r.seq, r.at, r.who, r.action, r.details, r.prev, r.hash)
            for r in rows
        ]
