"""In-process meeting point of running sessions and the HTTP router: no I/O.

A :class:`FrameBroadcaster` holds the newest JPEG of a stream for MJPEG
clients (only the newest: a slow client skips frames, it never queues them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


class FrameBroadcaster:
    """Newest encoded frame of a stream, with a sequence number to wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: bytes | None = None
        self._seq = 0
        self._clients = 0
        self._closed = False

    @property
    def wanted(self) -> bool:
        """True while someone is watching (so frames are worth encoding)."""
        return self._clients > 0

    def publish(self, frame: bytes) -> None:
        with self._cond:
            self._frame, self._seq = frame, self._seq + 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_next(self, after: int, timeout: float) -> tuple[int, bytes | None]:
        """The first frame newer than sequence ``after`` (or the same, on timeout/close)."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > after or self._closed, timeout)
            return self._seq, (self._frame if self._seq > after else None)

    @property
    def closed(self) -> bool:
        return self._closed

    def attach(self) -> None:
        with self._cond:
            self._clients += 1

    def detach(self) -> None:
        with self._cond:
            self._clients -= 1


@dataclass
class HubEntry:
    snapshot: Callable[[], dict]
    mjpeg: FrameBroadcaster | None


class LiveHub:
    """Running sessions by name, for the router of the same process."""

    def __init__(self) -> None:
        self._entries: dict[str, HubEntry] = {}
        self._lock = threading.Lock()

    def add(self, name: str, snapshot: Callable[[], dict], mjpeg: FrameBroadcaster | None) -> None:
        with self._lock:
            self._entries[name] = HubEntry(snapshot, mjpeg)

    def remove(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def get(self, name: str) -> HubEntry | None:
        with self._lock:
            return self._entries.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)
