"""Limits before work: who is asking, and how much they send, are checked before a body is read.

An ASGI middleware in front of the whole application:

- every ``/v1/`` request but the signed review links needs a valid token, checked
  from the headers alone: a request without one gets 401 before a byte of its body
  is read;
- a body announced larger than its limit (``Content-Length``) is refused at once
  with 413; one that streams past it is cut off with 413 when it does;
- a body that stalls (no bytes for ``idle_seconds``) ends with 408.

Uploads have the upload size limit; every other body ``max_body_bytes``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veil.service.api.deps import authenticate
from veil.service.settings import ServiceSettings
from veil.service.store import Store

# requests whose body is a file: POST /v1/uploads, POST /v1/jobs/upload, PATCH /v1/uploads/ID
_UPLOAD = re.compile(r"^/v1/(uploads|jobs/upload|uploads/[^/]+)$")
_OPEN = ("/v1/review/files/",)  # signed links: the signature is the credential


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit} bytes")


class Guard:
    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app, self.settings = app, settings

    def limit(self, scope: Scope) -> int:
        if scope["method"] in ("POST", "PATCH") and _UPLOAD.match(scope["path"]):
            return self.settings.max_upload_bytes
        return self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        try:
            if path.startswith("/v1/") and not path.startswith(_OPEN):
                store: Store = scope["app"].state.store
                caller = await anyio.to_thread.run_sync(
                    authenticate, store, headers.get("authorization")
                )
                scope.setdefault("state", {})["caller"] = caller
            limit = self.limit(scope)
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                raise BodyTooLarge(limit) if length.isdigit() else HTTPException(400, "bad length")
        except HTTPException as exc:
            await _answer(send, exc)
            return
        await self.app(scope, self._bounded(receive, limit), send)

    def _bounded(self, receive: Receive, limit: int) -> Receive:
        received = 0
        complete = False
        idle = self.settings.idle_seconds

        async def bounded() -> Message:
            nonlocal received, complete
            if complete:  # the body is in: what remains is waiting for the client to leave
                return await receive()
            try:
                with anyio.fail_after(idle):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, f"no request data for {idle:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        return bounded


async def _answer(send: Send, exc: HTTPException) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
    start: dict[str, Any] = {"type": "http.response.start", "status": exc.status_code}
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
