"""Stored presets: an Azure preset JSON as given, plus veil's detector and encoder options."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from veil.service import db
from veil.service.store.records import Clock, Conflict, NotFound, StoredPreset


class PresetStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def put(
        self,
        *,
        name: str,
        azure: dict[str, Any],
        options: dict[str, Any],
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        create_only: bool = False,
    ) -> StoredPreset:
        now = self.clock()
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
        return self.get(name)

    def get(self, name: str) -> StoredPreset:
        with self.engine.connect() as c:
            row = c.execute(select(db.presets).where(db.presets.c.name == name)).first()
        if row is None:
            raise NotFound(f"no preset named {name!r}")
        return StoredPreset(**row._mapping)

    def list(self) -> list[StoredPreset]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.presets).order_by(db.presets.c.name)).all()
        return [StoredPreset(**r._mapping) for r in rows]

    def delete(self, name: str) -> None:
        with self.engine.begin() as c:
            if not c.execute(delete(db.presets).where(db.presets.c.name == name)).rowcount:
                raise NotFound(f"no preset named {name!r}")
