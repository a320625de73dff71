"""The API's documentation, offline: Swagger UI at /docs, ReDoc at /redoc.

Their files come from the ``fastapi-offline`` wheel and are served by veil
(``/docs-static``). The pages also carry a Content-Security-Policy allowing
only this server, so nothing they might reference elsewhere (ReDoc's logo is
on a CDN) is ever fetched.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).with_name("static")
PREFIX = "/docs-static"
ONLY_HERE = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)


def install_docs(app: FastAPI) -> None:
    """Add /docs and /redoc (create the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-static")
    openapi = app.openapi_url or "/openapi.json"

    def only_here(page: HTMLResponse) -> HTMLResponse:
        page.headers["Content-Security-Policy"] = ONLY_HERE
        return page

    def swagger() -> HTMLResponse:
        return only_here(
            get_swagger_ui_html(
                openapi_url=openapi,
                title=f"{app.title} - API",
                swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
                swagger_css_url=f"{PREFIX}/swagger-ui.css",
                swagger_favicon_url=f"{PREFIX}/favicon.png",
            )
        )

    def redoc() -> HTMLResponse:
        return only_here(
            get_redoc_html(
                openapi_url=openapi,
                title=f"{app.title} - API",
                redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                redoc_favicon_url=f"{PREFIX}/favicon.png",
                with_google_fonts=False,
            )
        )

    app.add_api_route("/docs", swagger, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
