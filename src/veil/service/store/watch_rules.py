"""S3 watch rules: which bucket prefixes' pushed events become jobs, and where they go."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from veil.service import db
from veil.service.store.records import Clock, WatchRule


class WatchRuleStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def put(self, rule: WatchRule) -> None:
        with self.engine.begin() as c:
            c.execute(delete(db.watch_rules).where(db.watch_rules.c.source == rule.source))
            c.execute(
                insert(db.watch_rules).values(
                    source=rule.source,
                    output=rule.output,
                    preset=rule.preset,
                    suffixes=rule.suffixes,
                    created_at=self.clock(),
                )
            )

    def list(self) -> list[WatchRule]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.watch_rules)).all()
        return [WatchRule(r.source, r.output, r.preset, list(r.suffixes)) for r in rows]
