"""API tokens: created with a secret shown once, stored as its SHA-256, revocable.

Each token has a role (admin, operator, reviewer) and optionally a team.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from veil.errors import VeilError
from veil.service import db
from veil.service.access import Caller, Role
from veil.service.store.records import Clock, Conflict, NotFound, iso

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}", re.ASCII)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def create(self, name: str, role: Role = Role.OPERATOR, team: str | None = None) -> str:
        """A new token's secret (shown once); only its SHA-256 is stored.

        Names and teams are plain ASCII (no control, invisible or right-to-left
        characters to make two look alike), and unique regardless of case: no "Alice"
        beside "alice", no team "Records" beside "records".
        """
        for what, value in (("token name", name), ("team", team)):
            if value is not None and not NAME.fullmatch(value):
                raise VeilError(
                    f"{what} {value!r}: letters, digits and . _ @ - only, starting with a "
                    "letter or digit, at most 128"
                )
        self._no_twin(name, team)
        secret = "veil_" + secrets.token_urlsafe(32)
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(db.tokens).values(
                        name=name,
                        hash=hash_token(secret),
                        role=Role(role).value,
                        team=team or None,
                        created_at=self.clock(),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"a token named {name!r} exists; revoke it or choose another") from exc
        return secret

    def _no_twin(self, name: str, team: str | None) -> None:
        with self.engine.connect() as c:
            rows = c.execute(select(db.tokens.c.name, db.tokens.c.team)).all()
        for row in rows:
            if row.name != name and row.name.lower() == name.lower():
                raise Conflict(f"token {name!r} differs from token {row.name!r} only in case")
            if team and row.team and row.team != team and row.team.lower() == team.lower():
                raise Conflict(f"team {team!r} differs from team {row.team!r} only in case")

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
            {
                "name": r.name,
                "role": r.role,
                "team": r.team,
                "created_at": iso(r.created_at),
                "revoked_at": iso(r.revoked_at),
            }
            for r in rows
        ]

    def caller(self, secret: str) -> Caller | None:
        """The active token with this secret, or None."""
        return self._active(db.tokens.c.hash == hash_token(secret))

    def active(self, name: str) -> Caller | None:
        """The active token of this name, or None (revoked, or never made)."""
        return self._active(db.tokens.c.name == name)

    def _active(self, condition: Any) -> Caller | None:
        with self.engine.connect() as c:
            row = c.execute(
                select(db.tokens.c.name, db.tokens.c.role, db.tokens.c.team).where(
                    condition, db.tokens.c.revoked_at.is_(None)
                )
            ).first()
        return None if row is None else Caller(row.name, Role(row.role), row.team)
