"""A live session: source thread -> emitter thread, with a detector thread on the side.

No frame is written before it has been redacted: the emitter is the only
path to the outputs, and it redacts every frame with the faces known at that
instant (:class:`~veil.live.faces.LiveFaces`). It never waits for the
detector. Before the first detection, and whenever the last one is more than
``max_detection_age`` seconds from a frame (the detector has fallen behind or
failed), the frame is covered whole: failing closed, not open.

Stream time: every frame gets a time in seconds since the session started,
increasing across reconnections (a reconnected source is re-anchored to the
wall clock), so recordings and HLS play straight through gaps. During a gap
the emitter repeats the last redacted frame at the source rate.

One class per thread: :class:`~veil.live.source_thread.SourceThread`,
:class:`~veil.live.detection.DetectorThread`,
:class:`~veil.live.emitter.EmitterThread` and :class:`MonitorThread`; the
session builds what they share and starts and ends them together.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from veil.atomic import atomic_path
from veil.detect import FaceDetector
from veil.live.config import LiveConfig
from veil.live.detection import DetectorThread
from veil.live.emitter import EmitterThread
from veil.live.faces import LiveFaces
from veil.live.frames import LiveFrame, SourceRate
from veil.live.hub import FrameBroadcaster, LiveHub
from veil.live.queues import DropOldestQueue
from veil.live.source_thread import SourceThread, StreamTimeline
from veil.live.sources import SourceSpec, parse_source
from veil.live.stats import LiveStats

log = logging.getLogger(__name__)


class MonitorThread:
    """Ends the session when its duration has passed; reports statistics every few seconds."""

    def __init__(
        self,
        config: LiveConfig,
        stats: LiveStats,
        on_stats: Callable[[dict], None] | None,
        clock: Callable[[], float],
        stop: threading.Event,
    ) -> None:
        self.config, self.stats, self.on_stats, self.clock, self.stop = (
            config, stats, on_stats, clock, stop
        )  # fmt: skip

    def run(self, workers: list[threading.Thread]) -> None:
        """Until the session stops; then, once ``workers`` have ended, the final figures."""
        cfg = self.config
        deadline = None if cfg.duration is None else self.stats.started + cfg.duration
        next_report = self.stats.started + cfg.stats_every
        while not self.stop.is_set():
            now = self.clock()
            if deadline is not None and now >= deadline:
                self.stop.set()
                break
            if now >= next_report:
                next_report += cfg.stats_every
                self.report()
            wake = min(next_report, deadline or next_report)
            self.stop.wait(max(0.01, wake - now))
        # wait for the emitter to finish, then report the final figures
        for thread in workers:
            thread.join()
        self.report()

    def report(self) -> None:
        snapshot = self.stats.snapshot()
        if self.config.outputs.hls_root is not None:
            folder = self.config.outputs.hls_root / self.config.name
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / "stats.json") as tmp:
                tmp.write_text(json.dumps(snapshot))
        if self.on_stats is not None:
            self.on_stats(snapshot)


class LiveSession:
    """Runs one live stream until stopped, the duration passes, or a file ends.

    Example:
        >>> session = LiveSession(LiveConfig(source="rtsp://127.0.0.1:8554/cam"), detector)
        >>> session.start()
        >>> session.wait()          # raises the error that ended it, if any
    """

    def __init__(
        self,
        config: LiveConfig,
        detector: FaceDetector,
        hub: LiveHub | None = None,
        on_stats: Callable[[dict], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config, self.hub, self.clock = config, hub, clock
        self.spec: SourceSpec = parse_source(config.source, config.rtsp_transport)
        self.stats = LiveStats(config.name, config.source, clock)
        self.faces = LiveFaces(config.motion)
        self.mjpeg = FrameBroadcaster() if config.outputs.mjpeg else None
        paced = self.spec.kind != "file" or config.realtime
        self._queue: DropOldestQueue[LiveFrame] = DropOldestQueue(
            config.queue_frames, block=not paced
        )
        self._stop = threading.Event()
        rate = SourceRate()
        self.detector = DetectorThread(
            detector, config.pipeline.detector, self.faces, self.stats, clock
        )
        timeline = StreamTimeline(self.stats.started, paced, free_running=not paced)
        self.source = SourceThread(
            config, self.spec, self._queue, rate, timeline, self.faces, self.stats,
            self.detector, clock, self._stop,
        )  # fmt: skip
        self.emitter = EmitterThread(
            config, self._queue, rate, self.faces, self.stats, self.mjpeg, clock, self._stop
        )
        self.monitor = MonitorThread(config, self.stats, on_stats, clock, self._stop)
        self._errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> LiveSession:
        if self.hub is not None:
            self.hub.add(self.config.name, self.stats.snapshot, self.mjpeg)
        workers = [self.source.run, lambda: self.detector.run(self._stop), self.emitter.run]
        for target, name in (
            *zip(workers, ("source", "detector", "emitter"), strict=True),
            (lambda: self.monitor.run(self._threads[:3]), "monitor"),
        ):
            thread = threading.Thread(target=self._guard(target), name=f"veil-live-{name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Finish: the frames already queued are still redacted and written."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end; True when ended. Raises what ended it, if an error."""
        deadline = None if timeout is None else self.clock() + timeout
        for thread in self._threads:
            left = None if deadline is None else max(0.0, deadline - self.clock())
            thread.join(left)
            if thread.is_alive():
                return False
        if self.hub is not None:
            self.hub.remove(self.config.name)
        if self._errors:
            raise self._errors[0]
        return True

    def snapshot(self) -> dict:
        return self.stats.snapshot()

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported by wait(); every thread then stops
                log.debug("live thread failed", exc_info=True)
                self._errors.append(exc)
                self.stats.error = str(exc)
                self._stop.set()
                self._queue.close()
                if self.mjpeg is not None:
                    self.mjpeg.close()

        return run
