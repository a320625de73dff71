"""The live detector thread: faces found on the newest frame, never a queue of work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from veil.detect import DetectorConfig, FaceDetector
from veil.live.faces import LiveFaces
from veil.live.stats import LiveStats
from veil.media import VideoPicture


@dataclass
class _DetectJob:
    rgb: np.ndarray
    scale: float
    time: float
    arrival: float


class DetectorThread:
    """Runs the detector on each frame fed to it while idle, and updates the faces known.

    The source thread calls :meth:`feed` (only while :attr:`idle`); :meth:`run`
    is the thread, until ``stop`` is set and no frame is waiting.
    """

    def __init__(
        self,
        detector: FaceDetector,
        config: DetectorConfig,
        faces: LiveFaces,
        stats: LiveStats,
        clock: Callable[[], float],
    ) -> None:
        self.detector, self.faces, self.stats, self.clock = detector, faces, stats, clock
        use_full = config.upscale > 1 or config.input_size == 0
        self._side = 0 if use_full else config.input_size
        self._idle = threading.Event()
        self._idle.set()
        self._ready = threading.Event()
        self._job: _DetectJob | None = None

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def feed(self, picture: VideoPicture, t: float, arrival: float) -> None:
        # the copy is made here, before the emitter may redact the picture in place
        small = picture.rgb(self._side)
        self._idle.clear()
        self._job = _DetectJob(small, picture.width / small.shape[1], t, arrival)
        self._ready.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set() or self._ready.is_set():
            if not self._ready.wait(0.1):
                continue
            self._ready.clear()
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
            self._idle.set()
