"""``GET /health``: open, for load balancers and process supervisors."""

from __future__ import annotations

from fastapi import APIRouter

from veil.service.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> dict:
    """Answers when the API and its database work; no token needed."""
    counts = store.jobs.count()
    return {"status": "ok", "jobs": counts}
