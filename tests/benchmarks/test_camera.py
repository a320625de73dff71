"""The virtual camera of the real-faces evaluation: ground truth follows the pixels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation.camera import (
    ID_STRIDE,
    frame_truth,
    photos_from_manifest,
    plan_move,
    render_shot,
    to_frame,
    visible_share,
    window_at,
    write_film,
)
from evaluation.scenarios import GroundTruth
from veil.media import read_frames


def test_to_frame_maps_window_to_frame() -> None:
    window = (100.0, 50.0, 420.0, 230.0)  # 320 x 180, shown at 960 x 540: 3x
    assert to_frame(window, window, 960, 540) == (0.0, 0.0, 960.0, 540.0)
    assert to_frame((110.0, 60.0, 130.0, 90.0), window, 960, 540) == (30.0, 30.0, 90.0, 120.0)


@pytest.mark.parametrize(
    ("box", "share"),
    [
        ((10, 10, 20, 20), 1.0),
        ((-5, 10, 5, 20), 0.5),
        ((955, 535, 965, 545), 0.25),
        ((-9, 0, -1, 5), 0.0),
    ],
)
def test_visible_share(box: tuple[float, ...], share: float) -> None:
    assert visible_share(box, 960, 540) == pytest.approx(share)  # type: ignore[arg-type]


def test_windows_stay_inside_the_photo() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        w, h = int(rng.integers(300, 900)), int(rng.integers(300, 900))
        move = plan_move(rng, w, h, 16 / 9)
        for k in range(40):
            x0, y0, x1, y1 = window_at(move, k / 39, k / 25, 16 / 9)
            assert x0 >= -1e-6 and y0 >= -1e-6 and x1 <= w + 1e-6 and y1 <= h + 1e-6
            assert (x1 - x0) / (y1 - y0) == pytest.approx(16 / 9)


def _labelled_folder(tmp_path: Path) -> Path:
    """A photo with two bright squares as 'faces' and one ignore box."""
    image = np.full((360, 640, 3), 40, np.uint8)
    boxes = [[100, 120, 40, 40], [400, 200, 60, 60]]
    for x, y, w, h in boxes:
        image[y : y + h, x : x + w] = 230
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.png"), image)
    manifest = [
        {
            "image": "images/a.png",
            "width": 640,
            "height": 360,
            "boxes": boxes,
            "ignore": [[10, 10, 20, 20]],
        }
    ]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_truth_follows_the_rendered_pixels(tmp_path: Path) -> None:
    photo = photos_from_manifest(_labelled_folder(tmp_path))[0]
    rgb = cv2.cvtColor(cv2.imread(str(photo.path)), cv2.COLOR_BGR2RGB)
    move = plan_move(np.random.default_rng(0), photo.width, photo.height, 16 / 9)
    for frame, window in render_shot(rgb, move, 10, 960, 540):
        for face in frame_truth(photo, 0, window, 960, 540):
            if face.id > len(photo.boxes) or face.visible < 1:
                continue
            x0, y0, x1, y1 = (round(v) for v in face.box)
            inner = frame[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3]
            assert inner.mean() > 220  # the bright square is where its box says
            ring = frame[max(y0 - 6, 0) : y0 - 3, x0:x1]
            assert ring.size == 0 or ring.mean() < 60


def test_film_writes_video_and_truth(tmp_path: Path) -> None:
    photos = photos_from_manifest(_labelled_folder(tmp_path))
    video, truth_path = write_film(photos * 2, tmp_path / "out", seed=1)
    truth = GroundTruth.read(truth_path)
    frames = list(read_frames(video))
    assert len(frames) == len(truth.frames) == 80
    assert frames[0].rgb.shape == (540, 960, 3)
    ids = {f.id for frame in truth.frames for f in frame}
    # the second shot's faces are other identities; the ignore box is never scored
    assert {1, 2, ID_STRIDE + 1, ID_STRIDE + 2} <= ids
    assert all(f.visible == 0 for frame in truth.frames for f in frame if f.id % ID_STRIDE == 3)
