"""Uploads: a row per file being received or received, its size and what it turned out to be.

A body being received is written under a lease (``writing_until``) taken with a
compare-and-set on the offset, so two chunks sent for the same offset cannot
interleave their bytes: the second is refused at once. The lease is short and
renewed while bytes arrive (:meth:`UploadStore.renew`): a server that dies
mid-chunk leaves a lease that runs out within seconds, not an hour.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, case, delete, func, insert, or_, select, update

from veil.service import db
from veil.service.access import Caller
from veil.service.store.records import Clock, NotFound, Upload


class UploadStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def create(
        self,
        *,
        filename: str,
        size: int | None,
        token_name: str | None,
        team: str | None = None,
    ) -> Upload:
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
                    team=team,
                    created_at=self.clock(),
                )
            )
        return self.get(upload_id)

    def get(self, upload_id: str, caller: Caller | None = None) -> Upload:
        """The upload; NotFound also when ``caller`` may not see it."""
        with self.engine.connect() as c:
            row = c.execute(select(db.uploads).where(db.uploads.c.id == upload_id)).first()
        upload = None if row is None else Upload(**row._mapping)
        hidden = caller is not None and upload is not None
        if upload is None or (hidden and not caller.sees(upload.token_name, upload.team)):
            raise NotFound(f"no upload {upload_id!r}")
        return upload

    def start_chunk(self, upload_id: str, *, offset: int, hold: float) -> bool:
        """Take the lock to write at ``offset``; False: the offset moved, or a chunk is coming."""
        now = self.clock()
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    update(db.uploads)
                    .where(
                        db.uploads.c.id == upload_id,
                        db.uploads.c.received == offset,
                        db.uploads.c.complete.is_(False),
                        or_(db.uploads.c.writing_until.is_(None), db.uploads.c.writing_until < now),
                    )
                    .values(writing_until=now + hold)
                ).rowcount
            )

    def renew(self, upload_id: str, *, hold: float) -> None:
        """Extend a lease being held (bytes are still arriving)."""
        with self.engine.begin() as c:
            c.execute(
                update(db.uploads)
                .where(db.uploads.c.id == upload_id, db.uploads.c.writing_until.is_not(None))
                .values(writing_until=self.clock() + hold)
            )

    def usage(self, token_name: str) -> tuple[int, int]:
        """(bytes kept or declared, uploads not complete) of one token's uploads."""
        size = func.coalesce(db.uploads.c.size, db.uploads.c.received)
        incomplete = func.sum(case((db.uploads.c.complete.is_(False), 1), else_=0))
        query = select(func.coalesce(func.sum(size), 0), func.coalesce(incomplete, 0)).where(
            db.uploads.c.token_name == token_name
        )
        with self.engine.connect() as c:
            total, open_ = c.execute(query).one()
        return int(total), int(open_)

    def abandoned(self, made_before: float) -> list[Upload]:
        """Whole-file uploads (no declared size) made before ``made_before``, never
        completed, whose lease ran out: the server receiving them died."""
        now = self.clock()
        query = select(db.uploads).where(
            db.uploads.c.complete.is_(False),
            db.uploads.c.size.is_(None),
            db.uploads.c.created_at < made_before,
            or_(db.uploads.c.writing_until.is_(None), db.uploads.c.writing_until < now),
        )
        with self.engine.connect() as c:
            return [Upload(**r._mapping) for r in c.execute(query).all()]

    def ids(self) -> set[str]:
        with self.engine.connect() as c:
            return set(c.execute(select(db.uploads.c.id)).scalars())

    def end_chunk(self, upload_id: str, *, received: int | None) -> None:
        """Release the lock; record the new offset (None: the chunk failed, keep the old one)."""
        values: dict[str, object] = {"writing_until": None}
        if received is not None:
            values["received"] = received
        with self.engine.begin() as c:
            c.execute(update(db.uploads).where(db.uploads.c.id == upload_id).values(**values))

    def complete(self, upload_id: str, *, kind: str, size: int) -> Upload:
        with self.engine.begin() as c:
            c.execute(
                update(db.uploads)
                .where(db.uploads.c.id == upload_id)
                .values(complete=True, kind=kind, received=size, size=size, writing_until=None)
            )
        return self.get(upload_id)

    def delete(self, upload_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(db.uploads).where(db.uploads.c.id == upload_id))

    def created_before(self, t: float) -> list[Upload]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.uploads).where(db.uploads.c.created_at < t)).all()
        return [Upload(**r._mapping) for r in rows]
