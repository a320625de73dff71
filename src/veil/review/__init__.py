"""The review app: see every face, choose who is hidden, fix what the detector missed.

:func:`install` adds the review API (``/v1/review``) to the service's FastAPI
app and serves the browser app at ``/``: plain HTML, CSS and ES modules from
``static/`` (under ``/static/``), with no build step and nothing loaded from
the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Add the review API, the app's page at ``/`` and its files at ``/static/``."""
    from veil.review.routes import router

    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="review-static")
