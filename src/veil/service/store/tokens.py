"""API tokens: created with a secret shown once, stored as its SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from veil.service import db
from veil.service.store.records import Clock, Conflict, NotFound, iso


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def create(self, name: str) -> str:
        """A new token's secret (shown once); only its SHA-256 is stored."""
        secret = "veil_" + secrets.token_urlsafe(32)
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(db.tokens).values(
                        name=name, hash=hash_token(secret), created_at=self.clock()
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"a token named {name!r} exists; revoke it or choose another") from exc
        return secret

    def revoke(self, name: str) -> None:
        with self.engine.begin() as c:
            done = c.execute(
                update(db.tokens)
                .where(db.tokens.c.name == name, db.tokens.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            ).rowcount
        if not done:
            raise NotFound(f"no active token named {name!r}")

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(db.tokens).order_by(db.tokens.c.created_at)).all()
        return [
            {"name": r.name, "created_at": iso(r.created_at), "revoked_at": iso(r.revoked_at)}
            for r in rows
        ]

    def name_of(self, secret: str) -> str | None:
        """The name of the active token with this secret, or None."""
        with self.engine.connect() as c:
            row = c.execute(
                select(db.tokens.c.name).where(
                    db.tokens.c.hash == hash_token(secret), db.tokens.c.revoked_at.is_(None)
                )
            ).first()
        return None if row is None else row.name
