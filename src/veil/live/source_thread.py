"""The live source thread: frames decoded into the queue, stream times, reconnection."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

from veil.errors import VeilError
from veil.live.config import LiveConfig
from veil.live.detection import DetectorThread
from veil.live.faces import LiveFaces
from veil.live.frames import LiveFrame, SourceRate
from veil.live.queues import DropOldestQueue
from veil.live.sources import SourceSpec
from veil.live.stats import LiveStats
from veil.media.live_input import LiveInput, SourceLost
from veil.urls import mask_text

log = logging.getLogger(__name__)

# A network source whose timestamps stray this far from the wall clock is re-anchored.
_MAX_DRIFT = 2.0


class StreamTimeline:
    """Source timestamps -> stream seconds, increasing across reconnections."""

    def __init__(self, started: float, paced: bool, free_running: bool) -> None:
        self.started, self.paced, self.free_running = started, paced, free_running
        self.last: float | None = None
        self._offset: float | None = None
        self._prev_pts: float | None = None

    def restart(self) -> None:
        """A new connection (or a file's next loop): re-anchor at the next frame."""
        self._offset, self._prev_pts = None, None

    def time(self, pts: float | None, now: float, step: float) -> float:
        if pts is None:
            pts = (self._prev_pts + step) if self._prev_pts is not None else 0.0
        if self._offset is None or self._jumped(pts, now, step):
            if self.free_running:
                base = 0.0 if self.last is None else self.last + step
            else:
                base = now - self.started
                if self.last is not None:
                    base = max(base, self.last + step)
            self._offset = base - pts
        self._prev_pts = pts
        t = pts + self._offset
        if self.last is not None and t <= self.last:
            t = self.last + step / 2
        self.last = t
        return t

    def _jumped(self, pts: float, now: float, step: float) -> bool:
        if self._prev_pts is not None and (
            pts < self._prev_pts - step or pts > self._prev_pts + 10
        ):
            return True  # a discontinuity (stream restarted, MPEG-TS wrap)
        if self.paced or self.free_running:
            return False
        return abs(pts + self._offset - (now - self.started)) > _MAX_DRIFT


class SourceThread:
    """Reads the source into the queue, feeding the idle detector; reconnects a lost stream.

    A file ends the session at its end (or loops); a network source is retried
    with a growing back-off until the session stops.
    """

    def __init__(
        self,
        config: LiveConfig,
        spec: SourceSpec,
        queue: DropOldestQueue[LiveFrame],
        rate: SourceRate,
        timeline: StreamTimeline,
        faces: LiveFaces,
        stats: LiveStats,
        detector: DetectorThread,
        clock: Callable[[], float],
        stop: threading.Event,
    ) -> None:
        self.config, self.spec, self.queue, self.rate = config, spec, queue, rate
        self.timeline, self.faces, self.stats, self.detector = timeline, faces, stats, detector
        self.clock, self.stop = clock, stop

    def run(self) -> None:
        cfg, spec = self.config, self.spec
        backoff, down_since, reason = cfg.reconnect_min, None, ""
        ever_connected = False
        try:
            while not self.stop.is_set():
                try:
                    with spec.open(cfg.open_timeout, cfg.read_timeout) as stream:
                        self._connected(stream.rate, ever_connected, down_since, reason)
                        ever_connected, down_since = True, None
                        backoff = cfg.reconnect_min
                        ended = self._read(stream)
                    if self.stop.is_set():
                        break
                    if spec.kind == "file":
                        if not cfg.loop or not ended:
                            break
                        self.timeline.restart()
                        continue
                    raise SourceLost(f"{spec.url}: stream ended")
                except SourceLost as exc:
                    if spec.kind == "file":
                        raise VeilError(str(exc)) from exc
                    why = mask_text(str(exc))  # a camera URL's password stays out of logs
                    if self.stats.connected or down_since is None:
                        down_since, reason = self.clock(), why
                        self.stats.connected = False
                        log.warning("%s: source lost (%s); reconnecting", cfg.name, why)
                    else:
                        log.info(
                            "%s: reconnect failed (%s); next try in %.1f s", cfg.name, why, backoff
                        )
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, cfg.reconnect_max)
        finally:
            self.stats.connected = False
            self.queue.close()
            self.stop.set()  # the end of a file: the emitter still drains the queue

    def _connected(
        self, rate: Fraction, reconnect: bool, down_since: float | None, reason: str
    ) -> None:
        if not self.rate.known:
            self.stats.source_fps = round(float(rate), 3)
            if self.config.hold_frames is not None:
                hold = max(0.2, self.config.hold_frames / float(rate))
                self.faces.motion = replace(self.faces.motion, hold=hold)
            self.rate.set(rate)
        self.timeline.restart()
        self.stats.connected = True
        if reconnect:
            self.stats.reconnects += 1
        if down_since is not None:
            gap = self.clock() - down_since
            self.stats.gap(down_since, gap, reason)
            log.warning("%s: source back after a %.1f s gap (%s)", self.config.name, gap, reason)

    def _read(self, stream: LiveInput) -> bool:
        """Queue the stream's frames; True at its end, False when stopped."""
        step = 1 / float(self.rate.value)
        paced_file = self.spec.kind == "file" and self.config.realtime
        every = max(1, self.config.pipeline.detect_every)
        last_fed = -every
        for picture, pts in stream.pictures():
            if self.stop.is_set():
                return False
            now = self.clock()
            t = self.timeline.time(pts, now, step)
            if paced_file:
                wait = self.stats.started + t - now
                if wait > 0 and self.stop.wait(wait):
                    return False
                now = self.clock()
            self.stats.frame_in()
            if self.detector.idle and picture.index - last_fed >= every:
                last_fed = picture.index
                self.detector.feed(picture, t, now)
            dropped = self.queue.put(LiveFrame(picture, t, now), timeout=None)
            if dropped:
                self.stats.drop(dropped)
        return True
