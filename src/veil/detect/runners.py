"""The runtimes that run a model: onnxruntime, and OpenVINO where installed.

A detector's model is run by onnxruntime (CPU, or CUDA where asked for and
present) or by OpenVINO on the CPU, whichever :mod:`veil.detect.choice`
found faster on this machine for the same outputs. Both run the model with
its input stage fused in (:func:`pixel_input`): they take the frame's uint8
RGB pixels as they are, so no float copy of the frame is made in Python.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from veil.detect.config import RUNTIME_NAMES
from veil.errors import VeilError

_CPU = "CPUExecutionProvider"
_CUDA = "CUDAExecutionProvider"
ONNXRUNTIME = "onnxruntime"
OPENVINO = "openvino"
# The fused model's input: (N, H, W, 3) uint8 RGB, as frames are held.
PIXELS = "pixels"


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


def uses_gpu(device: str) -> bool:
    """Whether ``device`` puts onnxruntime on CUDA here (see :func:`providers_for`)."""
    return _CUDA in providers_for(device, ort.get_available_providers())


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


def pixel_input(model: bytes, bgr_mean: Sequence[float] | None = None) -> bytes:
    """``model`` with its input stage fused in: it takes (N, H, W, 3) uint8 RGB ``pixels``.

    The graph gains a transpose to NCHW, a cast to float and, for a network
    trained on BGR minus a mean (``bgr_mean``), the channel swap and the
    subtraction. The runtime does these on its own threads, with no float copy
    made in Python: a RetinaFace call on a 720p frame took 0.87 of the CPU
    time it took with OpenCV's ``blobFromImage`` (bench/bench_detector.py),
    and the values reaching the network are the same bits.
    """
    import onnx  # only when a model is built; the built model is cached by choice.py
    from onnx import TensorProto, helper, numpy_helper

    proto = onnx.load_from_string(model)
    graph = proto.graph
    network_input = graph.input[0]
    dims = network_input.type.tensor_type.shape.dim
    # (batch, height, width) keep the network's own symbolic names
    batch, height, width = (dims[i].dim_param or None for i in (0, 2, 3))
    pixels = helper.make_tensor_value_info(PIXELS, TensorProto.UINT8, [batch, height, width, 3])
    nodes = [
        helper.make_node("Transpose", [PIXELS], ["pixels_nchw"], perm=[0, 3, 1, 2]),
        helper.make_node(
            "Cast",
            ["pixels_nchw"],
            [network_input.name if bgr_mean is None else "pixels_float"],
            to=TensorProto.FLOAT,
        ),
    ]
    if bgr_mean is not None:
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array([2, 1, 0], np.int64), "rgb_to_bgr"),
                numpy_helper.from_array(
                    np.asarray(bgr_mean, np.float32).reshape(1, 3, 1, 1), "bgr_mean"
                ),
            ]
        )
        nodes += [
            helper.make_node("Gather", ["pixels_float", "rgb_to_bgr"], ["pixels_bgr"], axis=1),
            helper.make_node("Sub", ["pixels_bgr", "bgr_mean"], [network_input.name]),
        ]
    del graph.input[:]
    graph.input.append(pixels)
    for node in reversed(nodes):
        graph.node.insert(0, node)
    return proto.SerializeToString()


class ModelRunner(Protocol):
    """One loaded model: uint8 pixels in, the named outputs out, in order."""

    runtime: str

    def run(self, pixels: NDArray[np.uint8]) -> list[NDArray[np.float32]]: ...


class OnnxRuntimeRunner:
    """The model on an onnxruntime session (CPU, or CUDA where ``device`` asks)."""

    runtime = ONNXRUNTIME

    def __init__(self, model: bytes, outputs: Sequence[str], device: str, threads: int) -> None:
        self._session = open_session(model, device, threads)
        self._outputs = list(outputs)

    def run(self, pixels: NDArray[np.uint8]) -> list[NDArray[np.float32]]:
        return self._session.run(self._outputs, {PIXELS: pixels})


def openvino_available() -> bool:
    """Whether the OpenVINO runtime is installed (it is optional)."""
    return importlib.util.find_spec("openvino") is not None


class OpenVinoRunner:
    """The model compiled by OpenVINO for the CPU, in float32.

    OpenVINO would run in bfloat16 on CPUs that have it (this machine's
    EPYC does); that was faster but lost faces in ``make eval``, so the
    precision is pinned to float32, the same as onnxruntime's.
    """

    runtime = OPENVINO

    def __init__(self, model: bytes, outputs: Sequence[str], threads: int) -> None:
        import openvino  # optional: only where chosen or checked

        core = openvino.Core()
        compiled = core.compile_model(
            core.read_model(model, b""),
            "CPU",
            {
                "INFERENCE_NUM_THREADS": threads or usable_cores(),
                "INFERENCE_PRECISION_HINT": "f32",
                "PERFORMANCE_HINT": "LATENCY",
            },
        )
        by_name = {name: port for port in compiled.outputs for name in port.get_names()}
        self._ports = [by_name[name] for name in outputs]
        self._request = compiled.create_infer_request()
        # one request holds one call's buffers (an onnxruntime session may be
        # called from several threads at once; this is as safe)
        self._lock = threading.Lock()

    def run(self, pixels: NDArray[np.uint8]) -> list[NDArray[np.float32]]:
        with self._lock:
            results = self._request.infer({0: pixels})
            # the request reuses its output buffers on the next call: copy them out
            return [np.array(results[port]) for port in self._ports]


def open_runner(
    model: bytes, outputs: Sequence[str], runtime: str, device: str, threads: int
) -> ModelRunner:
    """``model`` (with :func:`pixel_input` applied) on the named runtime.

    Raises:
        VeilError: unknown runtime, OpenVINO asked for but not installed, or
            OpenVINO with a device other than the CPU.
    """
    if runtime == ONNXRUNTIME:
        return OnnxRuntimeRunner(model, outputs, device, threads)
    if runtime == OPENVINO:
        if not openvino_available():
            raise VeilError("runtime 'openvino' needs OpenVINO: pip install 'veil[openvino]'")
        if device == "cuda":
            raise VeilError("runtime 'openvino' runs on the CPU: use --device cpu or auto")
        return OpenVinoRunner(model, outputs, threads)
    raise VeilError(f"unknown runtime {runtime!r}: choose one of {', '.join(RUNTIME_NAMES)}")
