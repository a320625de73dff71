"""``create_app(settings)``: the job API as a FastAPI application.

The API's documentation (/docs, /redoc) works offline (:mod:`veil.service.api.docs`). The review
app and the live streams' pages are added beside it by :func:`veil.apps.service_app`:
they use this API, it does not know them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from veil.errors import VeilError
from veil.service.api.docs import install_docs
from veil.service.api.guard import Guard
from veil.service.api.routes import admin, events, health, jobs, presets, uploads
from veil.service.files import TooLarge, public_message
from veil.service.jobs import Janitor
from veil.service.rights import Forbidden, OverQuota
from veil.service.settings import ServiceSettings
from veil.service.store import Conflict, NotFound, Store
from veil.service.webhooks import Dispatcher

log = logging.getLogger("veil.service")


def finite(value: Any) -> Any:
    """``value`` with every float that JSON cannot carry (NaN, infinities) as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def create_app(settings: ServiceSettings, *, webhooks: bool = True) -> FastAPI:
    """The API over one store; ``webhooks`` also delivers callbacks from this process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings)
        app.state.store = store
        app.state.settings = settings
        dispatcher = Dispatcher(store, settings).start() if webhooks else None
        janitor = Janitor(store, settings).start()  # its first round cleans at start
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            janitor.stop()
            store.close()

    app = FastAPI(
        title="veil",
        summary="Self-hosted face redaction: jobs, presets, uploads, reviews and storage events.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)

    def answering(status: int):
        async def answer(_request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": public_message(str(exc))}, status_code=status)

        return answer

    # the most specific class wins: Forbidden and OverQuota are VeilErrors
    for error, status in (
        (NotFound, 404), (Conflict, 409), (TooLarge, 413), (Forbidden, 403), (OverQuota, 429),
        (VeilError, 422),
    ):  # fmt: skip
        app.add_exception_handler(error, answering(status))

    @app.exception_handler(RequestValidationError)
    async def unprocessable(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the errors quote what was sent: NaN, Infinity and 1e999 must not break the answer
        return JSONResponse({"detail": finite(jsonable_encoder(exc.errors()))}, 422)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        # a bug: logged in full here, and the client learns nothing about the server
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error (logged on the server)"}, 500)

    for module in (health, uploads, jobs, presets, events, admin):
        app.include_router(module.router)
    app.add_middleware(Guard, settings=settings)
    return app
