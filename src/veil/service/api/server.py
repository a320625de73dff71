"""The HTTP server ``veil serve`` runs the application in: uvicorn, with idle connections closed.

uvicorn closes a keep-alive connection idle between requests, but waits forever
for the first request on a connection, or for the rest of a request head sent a
byte at a time. :class:`HeadDeadline` gives every request head ``idle_seconds``
to arrive; a stalled body is the guard's to end (:mod:`veil.service.api.guard`).
"""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from veil.service.settings import ServiceSettings


class HeadDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head is late."""

    head_seconds = 30.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete and self._deadline:
            self._deadline.cancel()  # a request head arrived
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.head_seconds, self._late)

    def _late(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


def server(app: FastAPI, settings: ServiceSettings, host: str, port: int) -> uvicorn.Server:
    protocol = type("HeadDeadline", (HeadDeadline,), {"head_seconds": settings.idle_seconds})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config)
