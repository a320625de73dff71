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
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

import cv2
import numpy as np

from veil.atomic import atomic_path
from veil.detect import FaceDetector
from veil.errors import VeilError
from veil.live.config import LiveConfig, OutputConfig
from veil.live.faces import LiveFaces
from veil.live.hub import FrameBroadcaster, LiveHub
from veil.live.queues import Closed, DropOldestQueue
from veil.live.sinks import hls_muxer, push_muxer, recording_muxer
from veil.live.sources import SourceSpec, parse_source
from veil.live.stats import LiveStats
from veil.media import VideoPicture
from veil.media.live_input import LiveInput, SourceLost
from veil.media.live_output import EncodedOutputs
from veil.pipeline.render import redact_picture
from veil.types import MediaInfo
from veil.urls import mask_text

log = logging.getLogger(__name__)

# A network source whose timestamps stray this far from the wall clock is re-anchored.
_MAX_DRIFT = 2.0
_JPEG_QUALITY = 80


@dataclass
class LiveFrame:
    picture: VideoPicture
    time: float  # stream seconds
    arrival: float  # clock() when decoded


@dataclass
class _DetectJob:
    rgb: np.ndarray
    scale: float
    time: float
    arrival: float


class _Timeline:
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


def cover_whole(picture: VideoPicture) -> None:
    """Hide everything: each plane reduced to 1/32 and scaled back (in place)."""
    for plane in picture.planes():
        height, width = plane.shape
        small = cv2.resize(
            plane, (max(1, width // 32), max(1, height // 32)), interpolation=cv2.INTER_AREA
        )
        plane[:] = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


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
        self.config, self.detector, self.hub, self.on_stats = config, detector, hub, on_stats
        self.clock = clock
        self.spec: SourceSpec = parse_source(config.source, config.rtsp_transport)
        self.stats = LiveStats(config.name, config.source, clock)
        self.faces = LiveFaces(config.motion)
        self.mjpeg = FrameBroadcaster() if config.outputs.mjpeg else None
        paced = self.spec.kind != "file" or config.realtime
        self._queue: DropOldestQueue[LiveFrame] = DropOldestQueue(
            config.queue_frames, block=not paced
        )
        self._timeline = _Timeline(self.stats.started, paced, free_running=not paced)
        self._stop = threading.Event()
        self._rate_known = threading.Event()
        self._rate = Fraction(25)
        self._detect_idle = threading.Event()
        self._detect_idle.set()
        self._detect_ready = threading.Event()
        self._job: _DetectJob | None = None
        self._errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        self._outputs: EncodedOutputs | None = None
        detector_config = config.pipeline.detector
        use_full = detector_config.upscale > 1 or detector_config.input_size == 0
        self._detect_side = 0 if use_full else detector_config.input_size

    # -- control ---------------------------------------------------------------

    def start(self) -> LiveSession:
        if self.hub is not None:
            self.hub.add(self.config.name, self.stats.snapshot, self.mjpeg)
        for target, name in (
            (self._source_loop, "source"),
            (self._detect_loop, "detector"),
            (self._emit_loop, "emitter"),
            (self._monitor_loop, "monitor"),
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

    # -- source ------------------------------------------------------------------

    def _source_loop(self) -> None:
        cfg, spec = self.config, self.spec
        backoff, down_since, reason = cfg.reconnect_min, None, ""
        ever_connected = False
        try:
            while not self._stop.is_set():
                try:
                    with spec.open(cfg.open_timeout, cfg.read_timeout) as stream:
                        self._connected(stream.rate, ever_connected, down_since, reason)
                        ever_connected, down_since = True, None
                        backoff = cfg.reconnect_min
                        ended = self._read(stream)
                    if self._stop.is_set():
                        break
                    if spec.kind == "file":
                        if not cfg.loop or not ended:
                            break
                        self._timeline.restart()
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
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, cfg.reconnect_max)
        finally:
            self.stats.connected = False
            self._queue.close()
            self._stop.set()  # the end of a file: the emitter still drains the queue

    def _connected(
        self, rate: Fraction, reconnect: bool, down_since: float | None, reason: str
    ) -> None:
        if not self._rate_known.is_set():
            self._rate = rate
            self.stats.source_fps = round(float(rate), 3)
            if self.config.hold_frames is not None:
                hold = max(0.2, self.config.hold_frames / float(rate))
                self.faces.motion = replace(self.faces.motion, hold=hold)
            self._rate_known.set()
        self._timeline.restart()
        self.stats.connected = True
        if reconnect:
            self.stats.reconnects += 1
        if down_since is not None:
            gap = self.clock() - down_since
            self.stats.gap(down_since, gap, reason)
            log.warning("%s: source back after a %.1f s gap (%s)", self.config.name, gap, reason)

    def _read(self, stream: LiveInput) -> bool:
        """Queue the stream's frames; True at its end, False when stopped."""
        step = 1 / float(self._rate)
        paced_file = self.spec.kind == "file" and self.config.realtime
        every = max(1, self.config.pipeline.detect_every)
        last_fed = -every
        for picture, pts in stream.pictures():
            if self._stop.is_set():
                return False
            now = self.clock()
            t = self._timeline.time(pts, now, step)
            if paced_file:
                wait = self.stats.started + t - now
                if wait > 0 and self._stop.wait(wait):
                    return False
                now = self.clock()
            self.stats.frame_in()
            if self._detect_idle.is_set() and picture.index - last_fed >= every:
                last_fed = picture.index
                self._feed_detector(picture, t, now)
            dropped = self._queue.put(LiveFrame(picture, t, now), timeout=None)
            if dropped:
                self.stats.drop(dropped)
        return True

    # -- detector ----------------------------------------------------------------

    def _feed_detector(self, picture: VideoPicture, t: float, arrival: float) -> None:
        # the copy is made here, before the emitter may redact the picture in place
        small = picture.rgb(self._detect_side)
        self._detect_idle.clear()
        self._job = _DetectJob(small, picture.width / small.shape[1], t, arrival)
        self._detect_ready.set()

    def _detect_loop(self) -> None:
        while not self._stop.is_set() or self._detect_ready.is_set():
            if not self._detect_ready.wait(0.1):
                continue
            self._detect_ready.clear()
            job, self._job = self._job, None
            if job is None:
                continue
            started = self.clock()
            detections = self.detector.detect(job.rgb)
            if job.scale != 1:
                detections = detections.scaled(job.scale)
            self.faces.update(job.time, detections)
            done = self.clock()
            self.stats.detection(done - started, done - job.arrival, len(detections))
            self._detect_idle.set()

    # -- emitter -----------------------------------------------------------------

    def _open_outputs(self) -> EncodedOutputs | None:
        out: OutputConfig = self.config.outputs
        muxers = []
        if out.record is not None:
            muxers.append(recording_muxer(out.record, out.segment, self.config.name))
        if out.hls_root is not None:
            muxers.append(
                hls_muxer(out.hls_root / self.config.name, out.hls_time, out.hls_list_size)
            )
        if out.push is not None:
            muxers.append(push_muxer(out.push))
        if not muxers:
            return None
        gop = min(out.gop, out.hls_time) if out.hls_root is not None else out.gop
        return EncodedOutputs(muxers, self.config.pipeline.encoder, self._rate, gop)

    def _emit_loop(self) -> None:
        cfg = self.config
        while not self._rate_known.wait(0.1):
            if self._stop.is_set() and not self._rate_known.is_set():
                return
        self._outputs = self._open_outputs()
        period = 1 / float(self._rate)
        last: LiveFrame | None = None
        last_wall = next_repeat = 0.0
        try:
            while True:
                try:
                    item = self._queue.get(timeout=period / 2)
                except Closed:
                    break
                now = self.clock()
                if item is None:
                    # a gap: keep the output going with the last redacted frame
                    if (
                        last is not None
                        and now - last_wall >= cfg.stall
                        and not self._stop.is_set()
                    ):
                        while now >= next_repeat:
                            last.time += period
                            self._emit(last, repeated=True)
                            next_repeat += period
                    continue
                if cfg.delay > 0:
                    wait = item.arrival + cfg.delay - now
                    if wait > 0:
                        time.sleep(wait)
                if last is not None and item.time <= last.time:
                    item.time = last.time + period / 2
                self._emit(item, repeated=False)
                last, last_wall = item, self.clock()
                # once a gap is noticed (after ``stall``), repeats fill it from here on,
                # so the output's timeline has no hole
                next_repeat = last_wall + period
        finally:
            if self._outputs is not None:
                self._outputs.close()
            if self.mjpeg is not None:
                self.mjpeg.close()

    def _emit(self, frame: LiveFrame, repeated: bool) -> None:
        picture = frame.picture
        whole = False
        if not repeated:
            if self.faces.covered(frame.time, self.config.max_detection_age):
                info = MediaInfo(
                    picture.width, picture.height, self._rate, Fraction(1, 90000), 0, Fraction(0), 0
                )
                redact_picture(
                    picture, self.faces.boxes_at(frame.time), info, self.config.pipeline.redaction
                )
            else:
                cover_whole(picture)
                whole = True
        # ---- below this line the picture is redacted ----
        if self._outputs is not None:
            self._outputs.write(picture, frame.time)
        if self.mjpeg is not None and self.mjpeg.wanted:
            bgr = cv2.cvtColor(picture.rgb(), cv2.COLOR_RGB2BGR)
            ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
            if ok:
                self.mjpeg.publish(jpeg.tobytes())
        latency = None if repeated else self.clock() - frame.arrival
        self.stats.frame_out(latency, repeated, whole)

    # -- monitor -------------------------------------------------------------------

    def _monitor_loop(self) -> None:
        cfg = self.config
        deadline = None if cfg.duration is None else self.stats.started + cfg.duration
        next_report = self.stats.started + cfg.stats_every
        while not self._stop.is_set():
            now = self.clock()
            if deadline is not None and now >= deadline:
                self.stop()
                break
            if now >= next_report:
                next_report += cfg.stats_every
                self._report()
            wake = min(next_report, deadline or next_report)
            self._stop.wait(max(0.01, wake - now))
        # wait for the emitter to finish, then report the final figures
        for thread in self._threads[:3]:
            thread.join()
        self._report()

    def _report(self) -> None:
        snapshot = self.stats.snapshot()
        if self.config.outputs.hls_root is not None:
            folder = self.config.outputs.hls_root / self.config.name
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / "stats.json") as tmp:
                tmp.write_text(json.dumps(snapshot))
        if self.on_stats is not None:
            self.on_stats(snapshot)
