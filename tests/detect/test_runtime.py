"""The same faces whatever runs the model, and the start-up choice of runtime.

Detections from OpenVINO must match onnxruntime's CPU provider within the
tolerance the self-check uses (boxes within half a pixel, scores within
1e-3); the choice is made once per machine and kept in the cache folder.
No timing is asserted: the self-check's timer is a fake one here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from veil.detect import MODEL_NAMES, DetectorConfig, load_detector
from veil.detect import choice as choice_module
from veil.detect.centerface import dynamic_model
from veil.detect.centerface import weights_path as centerface_weights
from veil.detect.choice import (
    ATOL,
    RTOL,
    check_image,
    load_runner,
    outputs_agree,
    read_choices,
)
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
from veil.errors import VeilError

needs_openvino = pytest.mark.skipif(not openvino_available(), reason="openvino not installed")


def frames() -> list[np.ndarray]:
    """The astronaut as a photo, and shrunk onto a grey 720p frame (a ~36 px face)."""
    small = cv2.resize(data.astronaut(), None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 128, np.uint8)
    frame[500 : 500 + small.shape[0], 900 : 900 + small.shape[1]] = small
    return [data.astronaut(), frame]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fused_input_feeds_the_network_what_the_old_preprocessing_did(name: str) -> None:
    rgb = frames()[0]
    if name == "retinaface":
        model, mean = model_bytes(retinaface_weights()), BGR_MEAN
        blob = cv2.dnn.blobFromImage(rgb, 1.0, None, mean, swapRB=True)
    else:
        model, mean = dynamic_model(centerface_weights()), None
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
    plain = open_session(model, "cpu", 1)
    expected = plain.run(None, {plain.get_inputs()[0].name: blob})
    fused = open_session(pixel_input(model, mean), "cpu", 1)
    got = fused.run(None, {"pixels": rgb[None]})

    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@needs_openvino
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_openvino_finds_the_same_faces_as_onnxruntime(name: str) -> None:
    config = DetectorConfig(name=name, threads=1)
    reference = load_detector(replace(config, runtime=ONNXRUNTIME))
    other = load_detector(replace(config, runtime=OPENVINO))
    assert (reference.runtime, other.runtime) == (ONNXRUNTIME, OPENVINO)

    for frame in frames():
        for upscale in (1.0, 2.0):
            a = reference.detect(frame, upscale=upscale)
            b = other.detect(frame, upscale=upscale)
            assert len(a) == len(b) > 0
            np.testing.assert_allclose(b.xyxy, a.xyxy, atol=0.5)
            np.testing.assert_allclose(b.score, a.score, atol=1e-3)
            np.testing.assert_allclose(b.landmarks, a.landmarks, atol=0.5)


class FakeTimer:
    """Runs what is timed, and says each runtime took ``ms`` (wall and CPU alike)."""

    def __init__(self, ms: dict[str, float]) -> None:
        self.ms = ms
        self.calls: list[str] = []

    def __call__(self, runtime: str, run) -> tuple[float, float]:
        run()
        self.calls.append(runtime)
        return self.ms[runtime] / 1000, self.ms[runtime] / 1000


def retinaface_runner(config: DetectorConfig, cache: Path, timer: FakeTimer | None = None):
    return load_runner(
        model_bytes(retinaface_weights()),
        BGR_MEAN,
        RetinaFaceDetector.outputs,
        config,
        cache=cache,
        timer=timer or FakeTimer({ONNXRUNTIME: 10, OPENVINO: 10}),
    )


@needs_openvino
@pytest.mark.parametrize("faster", [ONNXRUNTIME, OPENVINO])
def test_auto_takes_the_faster_runtime_and_remembers_it(tmp_path: Path, faster: str) -> None:
    config = DetectorConfig(device="cpu", threads=1, input_size=480)
    slower = OPENVINO if faster == ONNXRUNTIME else ONNXRUNTIME
    timer = FakeTimer({faster: 5, slower: 20})

    assert retinaface_runner(config, tmp_path, timer).runtime == faster
    (entry,) = read_choices(tmp_path).values()
    assert entry["runtime"] == faster
    assert entry["ms"][faster]["frame"]["wall"] == pytest.approx(5)
    assert entry["ms"][slower]["window"]["cpu"] == pytest.approx(20)

    # the next start-up reads the answer instead of timing again
    again = FakeTimer({faster: 5, slower: 20})
    assert retinaface_runner(config, tmp_path, again).runtime == faster
    assert again.calls == []
    # and the built model was kept
    assert len(list((tmp_path / "models").glob("*.onnx"))) == 1


@needs_openvino
def test_a_close_call_keeps_onnxruntime(tmp_path: Path) -> None:
    config = DetectorConfig(device="cpu", threads=1, input_size=480)

    assert retinaface_runner(
        config, tmp_path, FakeTimer({ONNXRUNTIME: 10, OPENVINO: 9.5})
    ).runtime == (ONNXRUNTIME)


@pytest.mark.slow
@needs_openvino
def test_a_changed_machine_or_setting_checks_again(tmp_path: Path) -> None:
    config = DetectorConfig(device="cpu", threads=1, input_size=480)
    retinaface_runner(config, tmp_path)
    timer = FakeTimer({ONNXRUNTIME: 10, OPENVINO: 10})

    retinaface_runner(replace(config, threads=2), tmp_path, timer)

    assert timer.calls
    assert len(read_choices(tmp_path)) == 2


@needs_openvino
def test_a_damaged_cache_is_checked_again_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "runtime-choice.json").write_text("{not json")
    config = DetectorConfig(device="cpu", threads=1, input_size=480)

    assert retinaface_runner(config, tmp_path).runtime in (ONNXRUNTIME, OPENVINO)
    assert len(read_choices(tmp_path)) == 1


def break_openvino(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    """From now on OpenVINO fails to load, with ``message``; onnxruntime still works."""
    real_open = choice_module.open_runner

    def openvino_broken(model, outputs, runtime, device, threads):
        if runtime == OPENVINO:
            raise RuntimeError(message)
        return real_open(model, outputs, runtime, device, threads)

    monkeypatch.setattr(choice_module, "open_runner", openvino_broken)


def test_a_runtime_that_fails_falls_back_to_onnxruntime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(choice_module, "openvino_available", lambda: True)
    break_openvino(monkeypatch, "no CPU plugin")
    config = DetectorConfig(device="cpu", threads=1, input_size=480)

    assert retinaface_runner(config, tmp_path).runtime == ONNXRUNTIME
    (entry,) = read_choices(tmp_path).values()
    assert "no CPU plugin" in entry["refused"][OPENVINO]


@needs_openvino
def test_a_remembered_openvino_that_no_longer_loads_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = DetectorConfig(device="cpu", threads=1, input_size=480)
    assert retinaface_runner(
        config, tmp_path, FakeTimer({ONNXRUNTIME: 20, OPENVINO: 5})
    ).runtime == (OPENVINO)
    break_openvino(monkeypatch, "plugin gone")

    assert retinaface_runner(config, tmp_path).runtime == ONNXRUNTIME


def test_outputs_that_differ_beyond_the_tolerance_are_refused() -> None:
    reference = [np.linspace(-50, 50, 1000, dtype=np.float32).reshape(10, 100)]
    close = [reference[0] + (ATOL + RTOL * np.abs(reference[0])) * 0.9]
    far = [reference[0].copy()]
    far[0].flat[500] += 0.01  # where the value is near 0, so the tolerance is about ATOL

    assert outputs_agree(reference, close)
    assert not outputs_agree(reference, far)
    assert not outputs_agree(reference, [reference[0][:5]])


def test_the_check_image_is_the_same_every_time() -> None:
    assert np.array_equal(check_image((64, 96)), check_image((64, 96)))
    assert check_image((64, 96)).shape == (1, 64, 96, 3)


def test_an_unknown_runtime_names_the_valid_ones() -> None:
    with pytest.raises(VeilError, match="auto, onnxruntime, openvino"):
        open_runner(b"", ["x"], "tensorrt", "cpu", 1)


def test_an_explicit_runtime_is_used_without_a_check(tmp_path: Path) -> None:
    config = DetectorConfig(device="cpu", threads=1, input_size=480, runtime=ONNXRUNTIME)
    timer = FakeTimer({ONNXRUNTIME: 10, OPENVINO: 10})

    assert retinaface_runner(config, tmp_path, timer).runtime == ONNXRUNTIME
    assert timer.calls == []
    assert not (tmp_path / "runtime-choice.json").exists()
