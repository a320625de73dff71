"""Who may do what: the three roles, the caller of a request, and what the caller may see.

- ``admin``: everything, every job; writes presets, tokens and the policy.
- ``operator``: uploads and jobs (submit, cancel, retry, delete), reviews.
- ``reviewer``: reads jobs, reviews them and redacts from the review, within the policy.

A job, an upload or a review belongs to the token that made it and, if that
token has a team, to the team. Anyone else is told it does not exist (404):
naming a job ID someone else owns reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.sql import ColumnCollection


class Role(StrEnum):
    REVIEWER = "reviewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """An admin may do what an operator may, who may do what a reviewer may."""
        return self.rank >= other.rank


@dataclass(frozen=True)
class Caller:
    """The token a request came with."""

    name: str
    role: Role = Role.OPERATOR
    team: str | None = None

    def sees(self, owner: str | None, team: str | None) -> bool:
        """May this caller see a thing made by ``owner`` (shared with ``team``)?"""
        if self.role == Role.ADMIN:
            return True
        return owner == self.name or (team is not None and team == self.team)

    def visible(self, columns: ColumnCollection) -> ColumnElement[bool]:
        """The same rule as a SQL condition on a table with ``token_name`` and ``team``."""
        if self.role == Role.ADMIN:
            return true()
        mine = columns.token_name == self.name
        return or_(mine, columns.team == self.team) if self.team is not None else mine
