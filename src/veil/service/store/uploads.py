"""Uploads: a row per file being received or received, its size and what it turned out to be."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, delete, insert, select, update

from veil.service import db
from veil.service.store.records import Clock, NotFound, Upload


class UploadStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def create(self, *, filename: str, size: int | None, token_name: str | None) -> Upload:
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
                    created_at=self.clock(),
                )
            )
        return self.get(upload_id)

    def get(self, upload_id: str) -> Upload:
        with self.engine.connect() as c:
            row = c.execute(select(db.uploads).where(db.uploads.c.id == upload_id)).first()
        if row is None:
            raise NotFound(f"no upload {upload_id!r}")
        return Upload(**row._mapping)

    def received(self, upload_id: str, *, before: int, after: int) -> bool:
        """Record a chunk; False if another request moved the offset meanwhile."""
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    update(db.uploads)
                    .where(db.uploads.c.id == upload_id, db.uploads.c.received == before)
                    .values(received=after)
                ).rowcount
            )

    def complete(self, upload_id: str, *, kind: str, size: int) -> Upload:
        with self.engine.begin() as c:
            c.execute(
                update(db.uploads)
                .where(db.uploads.c.id == upload_id)
                .values(complete=True, kind=kind, received=size, size=size)
            )
        return self.get(upload_id)

    def delete(self, upload_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(db.uploads).where(db.uploads.c.id == upload_id))
