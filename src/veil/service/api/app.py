"""``create_app(settings)``: the job API as a FastAPI application (OpenAPI at /docs).

The review app and the live streams' pages are added by ``veil serve``
(:func:`veil.cli.service.web_app`): they use this API, it does not know them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from veil.errors import VeilError
from veil.service.api.routes import events, health, jobs, presets, uploads
from veil.service.files import TooLarge
from veil.service.settings import ServiceSettings
from veil.service.store import Conflict, NotFound, Store
from veil.service.webhooks import Dispatcher


def create_app(settings: ServiceSettings, *, webhooks: bool = True) -> FastAPI:
    """The API over one store; ``webhooks`` also delivers callbacks from this process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings)
        app.state.store = store
        app.state.settings = settings
        dispatcher = Dispatcher(store, settings).start() if webhooks else None
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            store.close()

    app = FastAPI(
        title="veil",
        summary="Self-hosted face redaction: jobs, presets, uploads and storage events.",
        version="1",
        lifespan=lifespan,
    )

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(TooLarge)
    async def too_large(_request: Request, exc: TooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(VeilError)
    async def invalid(_request: Request, exc: VeilError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    for module in (health, uploads, jobs, presets, events):
        app.include_router(module.router)
    return app
