"""The policy: one row, written by admins, read by every job submission and by the review app."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from veil.service import db
from veil.service.policy import Policy
from veil.service.store.records import Clock

ROW = 1


class PolicyStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def get(self) -> Policy:
        """The policy in force (the defaults until an admin sets one)."""
        with self.engine.connect() as c:
            row = c.execute(select(db.policy.c.value).where(db.policy.c.id == ROW)).first()
        return Policy() if row is None else Policy.model_validate(row.value)

    def put(self, policy: Policy, who: str | None) -> Policy:
        values = {
            "value": policy.model_dump(mode="json"),
            "updated_by": who,
            "updated_at": self.clock(),
        }
        with self.engine.begin() as c:
            if not c.execute(
                update(db.policy).where(db.policy.c.id == ROW).values(**values)
            ).rowcount:
                c.execute(insert(db.policy).values(id=ROW, **values))
        return self.get()
