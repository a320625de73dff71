"""The web applications, composed from the parts that serve HTTP.

The job API (:mod:`veil.service.api`), the review app (:mod:`veil.review`) and
the live streams' pages (:mod:`veil.live.http`) each know nothing of the others;
this module is the one place that puts them together. The CLI and the tests
take their applications from here.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI

from veil.live.http import live_router
from veil.live.hub import LiveHub
from veil.review import install as install_review
from veil.service.api import create_app
from veil.service.api.deps import get_caller
from veil.service.settings import ServiceSettings


def service_app(settings: ServiceSettings, *, webhooks: bool = True) -> FastAPI:
    """Everything ``veil serve`` answers: the job API, the review app, the live pages."""
    app = create_app(settings, webhooks=webhooks)
    # HLS written by `veil live --hls <data>/live`, with a page at /live/<name>: the
    # streams show unredacted moments' statistics and video, so any valid token is needed
    app.include_router(live_router(settings.data_dir / "live"), dependencies=[Depends(get_caller)])
    install_review(app)  # the review API (/v1/review) and the browser app at /
    return app


def live_app(hls_root: Path | None, hub: LiveHub) -> FastAPI:
    """What ``veil live --http`` answers: the live router over this process's streams."""
    app = FastAPI(title="veil live")
    app.include_router(live_router(hls_root, hub))
    return app
