"""What one detector call costs, by runtime and input size, in one run.

    python bench/bench_detector.py [--threads 2] [--repeat 15]
        [--int8 ../shared/data/images/wider-dev]

For each model (RetinaFace, CenterFace) and each of veil's input sizes (a 720p
frame at the default 1280 px, a tile of the 2x enlarged pass, a search window
near a known face) it times, interleaved call by call so that the machine's
drift hits all alike:

- ``before``: the network as shipped, with the frame turned into a float
  blob in Python (OpenCV's ``blobFromImage`` / NumPy), on onnxruntime's CPU provider;
- ``onnxruntime``: the model with its input stage fused in (what veil runs);
- ``openvino f32``: the same on OpenVINO, in float32 (when installed);
- ``openvino bf16``: OpenVINO's default on CPUs with bfloat16 (not used: it
  loses faces, see the README);
- ``int8``: with ``--int8 FOLDER``, the model statically quantised by
  onnxruntime's tools, calibrated on the images in FOLDER (not used either).

It prints median wall and CPU milliseconds per call and each one's ratio to
``before`` (median of the call-by-call ratios) as a markdown table. Compare
the ratios, not the absolute figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from veil.detect.boxes import resize_padded
from veil.detect.centerface import CenterFaceDetector, dynamic_model
from veil.detect.centerface import weights_path as centerface_weights
from veil.detect.retinaface import BGR_MEAN, RetinaFaceDetector, model_bytes
from veil.detect.retinaface import weights_path as retinaface_weights
from veil.detect.runners import (
    ONNXRUNTIME,
    OPENVINO,
    open_runner,
    open_session,
    openvino_available,
    pixel_input,
)

# (height, width) as the model sees them, padded to 32: a 1280x720 frame, a
# tile of the enlarged pass on it (390x475 enlarged 2x), a search window.
SIZES = {"720p frame": (736, 1280), "2x tile": (800, 960), "search window": (256, 256)}
Run = Callable[[np.ndarray], object]


def before(model: bytes, mean: tuple[float, ...] | None, threads: int) -> Run:
    """The network as shipped, fed a float blob made in Python (veil's earlier code)."""
    session = open_session(model, "cpu", threads)
    name = session.get_inputs()[0].name
    if mean is None:
        return lambda rgb: session.run(
            None, {name: np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)}
        )
    return lambda rgb: session.run(
        None, {name: cv2.dnn.blobFromImage(rgb, 1.0, None, mean, swapRB=True)}
    )


def fused(
    model: bytes,
    mean: tuple[float, ...] | None,
    outputs: tuple[str, ...],
    runtime: str,
    threads: int,
) -> Run:
    runner = open_runner(pixel_input(model, mean), outputs, runtime, "cpu", threads)
    return lambda rgb: runner.run(rgb[None])


def openvino_bf16(model: bytes, mean: tuple[float, ...] | None, threads: int) -> Run:
    import openvino

    core = openvino.Core()
    compiled = core.compile_model(
        core.read_model(pixel_input(model, mean), b""),
        "CPU",
        {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "bf16"},
    )
    request = compiled.create_infer_request()
    return lambda rgb: request.infer({0: rgb[None]})


def int8(model: bytes, mean: tuple[float, ...] | None, threads: int, images: Path) -> Run:
    """The network quantised to int8 (QDQ, per-channel weights), calibrated on ``images``."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    entries = json.loads((images / "manifest.json").read_text())

    class Frames(CalibrationDataReader):
        """Each image enlarged to 1280 px wide, as the detector sees a 720p frame."""

        def __init__(self, input_name: str) -> None:
            self.blobs = (self.blob(images / entry["image"]) for entry in entries)
            self.input_name = input_name

        def blob(self, path: Path) -> np.ndarray:
            bgr = cv2.imread(str(path))
            factor = 1280 / bgr.shape[1]
            bgr = cv2.resize(bgr, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            rgb, _, _ = resize_padded(np.ascontiguousarray(bgr[..., ::-1]), 1.0)
            if mean is None:
                return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
            return cv2.dnn.blobFromImage(rgb, 1.0, None, mean, swapRB=True)

        def get_next(self) -> dict | None:
            blob = next(self.blobs, None)
            return None if blob is None else {self.input_name: blob}

    with tempfile.TemporaryDirectory() as tmp:
        plain, prepared, quantised = (Path(tmp) / n for n in ("a.onnx", "b.onnx", "c.onnx"))
        # per-channel weights need opset 13 (both exports are older)
        onnx.save(version_converter.convert_version(onnx.load_from_string(model), 13), plain)
        quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
        input_name = onnx.load(str(prepared)).graph.input[0].name
        quantize_static(
            str(prepared),
            str(quantised),
            Frames(input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        return before(quantised.read_bytes(), mean, threads)


def timed(runs: dict[str, Run], image: np.ndarray, repeat: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU ms of each run, and each one's median ratio to the first."""
    for run in runs.values():
        run(image)  # the first call at a size prepares it
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run(image)
            samples[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    first = next(iter(samples.values()))
    return {
        name: {
            "wall": 1000 * statistics.median(s[0] for s in pairs),
            "cpu": 1000 * statistics.median(s[1] for s in pairs),
            "speed-up": statistics.median(a[0] / b[0] for a, b in zip(first, pairs, strict=True)),
        }
        for name, pairs in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--int8", type=Path, help="calibrate an int8 model on this image set")
    args = parser.parse_args()
    models = {
        "retinaface": (model_bytes(retinaface_weights()), BGR_MEAN, RetinaFaceDetector),
        "centerface": (dynamic_model(centerface_weights()), None, CenterFaceDetector),
    }
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.repeat}\n")
    print("| model | input | runtime | wall ms | CPU ms | speed-up (wall) |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for name, (model, mean, detector) in models.items():
        outputs = detector.outputs
        runs = {
            "before": before(model, mean, args.threads),
            ONNXRUNTIME: fused(model, mean, outputs, ONNXRUNTIME, args.threads),
        }
        if openvino_available():
            runs[f"{OPENVINO} f32"] = fused(model, mean, outputs, OPENVINO, args.threads)
            runs[f"{OPENVINO} bf16"] = openvino_bf16(model, mean, args.threads)
        if args.int8:
            runs["int8"] = int8(model, mean, args.threads, args.int8)
        for label, shape in SIZES.items():
            image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
            for runtime, row in timed(runs, image, args.repeat).items():
                print(
                    f"| {name} | {label} {shape[1]}x{shape[0]} | {runtime} | {row['wall']:.1f} | "
                    f"{row['cpu']:.1f} | {row['speed-up']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
