"""A bounded frame queue that drops its oldest item when full: no I/O."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Closed(Exception):
    """The producer has finished and the queue is empty."""


class DropOldestQueue(Generic[T]):
    """FIFO of at most ``size`` items.

    ``put`` never waits when ``block`` is False: a full queue loses its oldest
    item (a live source must not be held up, and the newest frame is the one
    worth showing). With ``block`` True (a file read as fast as it can be
    processed) ``put`` waits for room instead and nothing is dropped.
    """

    def __init__(self, size: int, block: bool = False) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size, self.block = size, block
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: T, timeout: float | None = None) -> int:
        """Add ``item``; returns how many items were dropped to make room (0 or 1)."""
        with self._cond:
            if self.block:
                self._cond.wait_for(lambda: len(self._items) < self.size or self._closed, timeout)
            dropped = 0
            while len(self._items) >= self.size:
                self._items.popleft()
                dropped += 1
            self._items.append(item)
            self._cond.notify_all()
            return dropped

    def get(self, timeout: float) -> T | None:
        """The oldest item, or None after ``timeout`` seconds; Closed once drained."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            if self._items:
                item = self._items.popleft()
                self._cond.notify_all()
                return item
            if self._closed:
                raise Closed
            return None

    def close(self) -> None:
        """No more items will come; ``get`` raises Closed once the rest is taken."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)
