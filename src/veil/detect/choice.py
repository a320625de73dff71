"""Which runtime runs a detector's model on this machine: a short self-check, cached.

On the CPU, onnxruntime and OpenVINO (when installed) both run the model;
which is faster depends on the processor, the thread count and the
libraries' versions. The first time a model is loaded on a machine, each is
run on a check image the size of a detection frame: a runtime whose outputs
differ from onnxruntime's CPU provider by more than ``ATOL + RTOL * |value|``
anywhere is refused, and another runtime is chosen only where it is clearly
faster (see :func:`self_check`). onnxruntime's CPU provider is always a
candidate, so there is always a choice.

The choice, and the model with its input stage fused in, are kept in the
cache folder (``$VEIL_CACHE_DIR``, else ``$XDG_CACHE_HOME/veil``, else
``~/.cache/veil``): ``runtime-choice.json`` and ``models/``. An entry's key
is a digest of everything that could change the answer: the model's bytes,
the runtimes' versions, the processor (model name and flags) and the thread
count. When any of them changes the key does,
and the check runs again; deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.atomic import write_atomic
from veil.detect.config import DetectorConfig
from veil.detect.runners import (
    ONNXRUNTIME,
    OPENVINO,
    ModelRunner,
    open_runner,
    openvino_available,
    pixel_input,
    usable_cores,
    uses_gpu,
)

# Outputs of another runtime may differ from onnxruntime's CPU provider by at
# most this much (OpenVINO in float32 differed by 2e-5 at most on both models).
ATOL = 1e-3
RTOL = 1e-3
# Bump when the fused model or the check changes meaning, so old entries are not used.
_FORMAT = 1
_TIMED_RUNS = 3
# Another runtime must beat onnxruntime by this share everywhere to be chosen:
# the check takes a second, and a close call could go either way under load.
MARGIN = 0.1
# The sizes timed: a 720p frame at the default detection size, padded as the
# model sees it, and a search window near a known face (a face brought to 80 px
# in 3 face sizes). Other sizes are not checked, so that one check per model and
# thread count serves every setting.
FRAME = (736, 1280)
WINDOW = (256, 256)
# (runtime, run) -> (wall, CPU) seconds of one run: see measure().
Timer = Callable[[str, Callable[[], object]], tuple[float, float]]


def cache_dir() -> Path:
    """Where built models and runtime choices are kept (see the module's docstring)."""
    if os.environ.get("VEIL_CACHE_DIR"):
        return Path(os.environ["VEIL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veil"


def load_runner(
    model: bytes,
    bgr_mean: Sequence[float] | None,
    outputs: Sequence[str],
    config: DetectorConfig,
    cache: Path | None = None,
    timer: Timer | None = None,
) -> ModelRunner:
    """``model`` ready to run on the runtime ``config`` asks for, or the fastest one.

    Args:
        model: the network as shipped (float32 NCHW input).
        bgr_mean: for a network trained on BGR minus this mean (see :func:`pixel_input`).
        outputs: the output names to return, in order.
        config: ``runtime`` ("auto", "onnxruntime" or "openvino"), ``device``, ``threads``.
        cache: the cache folder (default :func:`cache_dir`).
        timer: times the self-check's runs (default :func:`measure`).
    """
    folder = cache_dir() if cache is None else cache
    fused = fused_model(model, bgr_mean, folder)
    threads = config.threads or usable_cores()
    if config.runtime != "auto":
        return open_runner(fused, outputs, config.runtime, config.device, threads)
    if uses_gpu(config.device) or not openvino_available():
        return open_runner(fused, outputs, ONNXRUNTIME, config.device, threads)
    key = choice_key(fused, threads, FRAME)
    entry = read_choices(folder).get(key)
    chosen = entry.get("runtime") if isinstance(entry, dict) else None
    if chosen == OPENVINO:
        try:
            return open_runner(fused, outputs, OPENVINO, "cpu", threads)
        except Exception:  # it worked at the check; whatever broke it since, fall back
            return open_runner(fused, outputs, ONNXRUNTIME, "cpu", threads)
    if chosen == ONNXRUNTIME:
        return open_runner(fused, outputs, ONNXRUNTIME, "cpu", threads)
    runner, record = self_check(fused, outputs, threads, FRAME, timer or measure)
    write_choice(folder, key, record)
    return runner


def fused_model(model: bytes, bgr_mean: Sequence[float] | None, folder: Path) -> bytes:
    """:func:`pixel_input` of ``model``, built once and kept in ``folder/models``.

    Building needs the ``onnx`` package, whose import costs more start-up
    time than reading the built file.
    """
    digest = hashlib.sha256(model)
    digest.update(json.dumps([_FORMAT, list(bgr_mean or [])]).encode())
    path = folder / "models" / f"{digest.hexdigest()[:32]}.onnx"
    try:
        return path.read_bytes()
    except OSError:
        pass
    fused = pixel_input(model, bgr_mean)
    # a read-only cache only costs the build on the next start
    with contextlib.suppress(OSError):
        write_atomic(path, fused)
    return fused


def processor() -> str:
    """The processor's model name and instruction-set flags (what kernels a runtime picks)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        import platform

        return f"{platform.machine()} {platform.processor()}"
    wanted = {"model name", "flags", "Features", "CPU part"}
    return "\n".join(sorted({line for line in lines if line.split(":")[0].strip() in wanted}))


def choice_key(fused: bytes, threads: int, shape: tuple[int, int]) -> str:
    """The digest naming one self-check's answer (see the module's docstring)."""
    versions = {}
    for package in ("onnxruntime", "openvino"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    parts = [_FORMAT, hashlib.sha256(fused).hexdigest(), versions, processor(), threads, shape]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def check_image(shape: tuple[int, int]) -> NDArray[np.uint8]:
    """A fixed pseudo-random (1, H, W, 3) image: the same on every machine and every run."""
    return np.random.default_rng(0).integers(0, 256, (1, *shape, 3), dtype=np.uint8)


def outputs_agree(reference: list[NDArray], candidate: list[NDArray]) -> bool:
    """Whether every output value is within ``ATOL + RTOL * |reference|``."""
    return len(reference) == len(candidate) and all(
        a.shape == b.shape and np.allclose(b, a, rtol=RTOL, atol=ATOL)
        for a, b in zip(reference, candidate, strict=True)
    )


def measure(runtime: str, run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (every thread of this process) that ``run()`` takes.

    ``runtime`` names what is timed, for a :data:`Timer` that needs to know.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def self_check(
    fused: bytes,
    outputs: Sequence[str],
    threads: int,
    shape: tuple[int, int],
    timer: Timer = measure,
) -> tuple[ModelRunner, dict]:
    """The runtime to use: onnxruntime, unless another agrees with it and is clearly faster.

    Each candidate is timed on a detection frame and on a search window; one
    other than onnxruntime is chosen only if it is at least ``MARGIN`` faster
    in both wall and CPU time at both sizes (a runtime whose threads keep the
    cores busy would slow the video codec running beside it), and then the
    one with the lowest frame time.

    Returns:
        That runner, and what was found (for the cache): the runtime chosen,
        each candidate's median milliseconds, and why any was refused.
    """
    images = {"frame": check_image(shape), "window": check_image(WINDOW)}
    reference = open_runner(fused, outputs, ONNXRUNTIME, "cpu", threads)
    expected = reference.run(images["frame"])
    runners: dict[str, ModelRunner] = {ONNXRUNTIME: reference}
    refused: dict[str, str] = {}
    try:
        candidate = open_runner(fused, outputs, OPENVINO, "cpu", threads)
        if outputs_agree(expected, candidate.run(images["frame"])):
            runners[OPENVINO] = candidate
        else:
            refused[OPENVINO] = "outputs differ from onnxruntime's"
    except Exception as exc:  # any failure of the optional runtime means: not this one
        refused[OPENVINO] = f"{type(exc).__name__}: {exc}"[:300]
    ms = {name: {} for name in runners}
    for size, image in images.items():
        for runner in runners.values():
            runner.run(image)  # the first run at a size prepares it
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
        for _ in range(_TIMED_RUNS):
            for name, runner in runners.items():
                samples[name].append(timer(name, functools.partial(runner.run, image)))
        for name, pairs in samples.items():
            ms[name][size] = {
                "wall": 1000 * statistics.median(p[0] for p in pairs),
                "cpu": 1000 * statistics.median(p[1] for p in pairs),
            }
    base = ms[ONNXRUNTIME]
    faster = [
        name
        for name, figures in ms.items()
        if name == ONNXRUNTIME
        or all(
            figures[size][kind] <= (1 - MARGIN) * base[size][kind]
            for size in images
            for kind in ("wall", "cpu")
        )
    ]
    chosen = min(faster, key=lambda name: ms[name]["frame"]["wall"])
    record = {"runtime": chosen, "ms": ms, "refused": refused, "shape": list(shape)}
    return runners[chosen], record


def read_choices(folder: Path) -> dict[str, dict]:
    """The cached choices; an unreadable or damaged file counts as none."""
    try:
        data = json.loads((folder / "runtime-choice.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_choice(folder: Path, key: str, record: dict) -> None:
    """Add one choice to the cache file (whole or not at all; a read-only cache is skipped)."""
    choices = read_choices(folder)
    choices[key] = record
    with contextlib.suppress(OSError):
        write_atomic(folder / "runtime-choice.json", json.dumps(choices, indent=1).encode())
