"""``GET /health``: open, for load balancers and process supervisors.

Without a token it says only that the API and its database answer; the job counts
(how busy the service is, what it holds) are for an admin's token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from veil.service.access import Role
from veil.service.api.deps import StoreDep, authenticate

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request, store: StoreDep) -> dict:
    """Answers when the API and its database work; no token needed (admins: job counts)."""
    counts = store.jobs.count()  # the database answers
    header = request.headers.get("authorization")
    caller = authenticate(store, header) if header else None
    if caller is not None and caller.role == Role.ADMIN:
        return {"status": "ok", "jobs": counts}
    return {"status": "ok"}
