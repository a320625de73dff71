"""The live emitter thread: every frame redacted, then written; gaps filled.

No frame is written before it has been redacted: this thread is the only path
to the outputs, and it redacts every frame with the faces known at that
instant. Before the first detection, and whenever the last one is more than
``max_detection_age`` seconds from a frame, the frame is covered whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from fractions import Fraction

import cv2

from veil.live.config import LiveConfig, OutputConfig
from veil.live.faces import LiveFaces
from veil.live.frames import LiveFrame, SourceRate
from veil.live.hub import FrameBroadcaster
from veil.live.queues import Closed, DropOldestQueue
from veil.live.sinks import hls_muxer, push_muxer, recording_muxer
from veil.live.stats import LiveStats
from veil.media import VideoPicture
from veil.media.live_output import EncodedOutputs
from veil.pipeline.render import redact_picture
from veil.types import MediaInfo

_JPEG_QUALITY = 80


def cover_whole(picture: VideoPicture) -> None:
    """Hide everything: each plane reduced to 1/32 and scaled back (in place)."""
    for plane in picture.planes():
        height, width = plane.shape
        small = cv2.resize(
            plane, (max(1, width // 32), max(1, height // 32)), interpolation=cv2.INTER_AREA
        )
        plane[:] = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


class EmitterThread:
    """Takes frames from the queue, redacts and writes each; repeats the last one in a gap."""

    def __init__(
        self,
        config: LiveConfig,
        queue: DropOldestQueue[LiveFrame],
        rate: SourceRate,
        faces: LiveFaces,
        stats: LiveStats,
        mjpeg: FrameBroadcaster | None,
        clock: Callable[[], float],
        stop: threading.Event,
    ) -> None:
        self.config, self.queue, self.rate, self.faces = config, queue, rate, faces
        self.stats, self.mjpeg, self.clock, self.stop = stats, mjpeg, clock, stop
        self._outputs: EncodedOutputs | None = None

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
        return EncodedOutputs(muxers, self.config.pipeline.encoder, self.rate.value, gop)

    def run(self) -> None:
        cfg = self.config
        while not self.rate.wait(0.1):
            if self.stop.is_set() and not self.rate.known:
                return
        self._outputs = self._open_outputs()
        period = 1 / float(self.rate.value)
        last: LiveFrame | None = None
        last_wall = next_repeat = 0.0
        try:
            while True:
                try:
                    item = self.queue.get(timeout=period / 2)
                except Closed:
                    break
                now = self.clock()
                if item is None:
                    # a gap: keep the output going with the last redacted frame
                    if last is not None and now - last_wall >= cfg.stall and not self.stop.is_set():
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
                    picture.width,
                    picture.height,
                    self.rate.value,
                    Fraction(1, 90000),
                    0,
                    Fraction(0),
                    0,
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
