"""Run a producer a bounded number of items ahead of its consumer, in a thread.

FFmpeg's decoders and onnxruntime release the GIL, so decoding the next
frames overlaps detection and encoding of the current ones. The queue bound
keeps memory constant whatever the video's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Yield ``items`` as produced by a background thread, at most ``depth`` ahead.

    An exception in the producer is raised in the consumer at the same point
    in the sequence. Closing the consumer early stops the producer.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Queue ``item`` unless the consumer has gone; True if queued."""
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    break
            else:
                put(_DONE)
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failure(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="veil-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class SerialWorker:
    """Runs submitted calls one after another in a background thread.

    At most ``depth`` calls wait; ``submit`` blocks beyond that, so the caller
    cannot run ahead without bound. The first exception a call raises is
    raised again by the next ``submit`` or by leaving the ``with`` block, and
    the calls after it are skipped.
    """

    def __init__(self, depth: int = 4) -> None:
        self._calls: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="veil-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is _DONE:
                return
            if self._error is None:
                try:
                    call()
                except BaseException as error:  # re-raised in the submitting thread
                    self._error = error

    def submit(self, call: Callable[[], object]) -> None:
        if self._error is not None:
            raise self._error
        self._calls.put(call)

    def __enter__(self) -> SerialWorker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._calls.put(_DONE)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error
