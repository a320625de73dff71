"""Face photos and background footage for the scenario generator.

Faces are :class:`FacePhoto` values: an RGB head crop and the face box inside
it. The generator takes any list of them; this module only offers loaders:

- :func:`faces_from_folder`: photos with no labels (e.g. ``../shared/data/images/faces``).
  Faces are located with OpenCV's frontal Haar cascade (shipped with OpenCV),
  not with veil's detectors, so the ground truth does not come from the tool
  being scored; only faces of at least ``min_size`` px are taken, and a face
  whose head crop would include another found face is skipped.
- :func:`faces_from_manifest`: a labelled set in the ``wider-dev`` manifest
  layout; only the larger boxes, and only those whose head crop contains no
  other labelled box (WIDER images are crowded, and a neighbour's face would be
  an unlabelled face in the scene).
- :func:`astronaut_face`: ``skimage.data.astronaut()`` (NASA, public domain), the
  fallback that needs nothing but scikit-image.

Backgrounds are :class:`BackgroundClip` values: a few seconds of real frames
(:func:`empty_runs`) or a synthetic texture (:func:`synthetic_background`).
Real footage must not contain faces of its own, which would be unlabelled
faces: :func:`empty_runs` keeps only the stretches of a clip that match its
first frame, which must show an empty scene (for the default clip,
``intel/one-by-one-person-detection_full.mp4``, an empty room: checked by eye).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.media import read_frames

Box = tuple[float, float, float, float]

# The head crop around a face box: its width and height in face-box units, and
# how far its centre sits above the face centre (hair is above, the chin below).
HEAD_WIDTH = 1.5
HEAD_HEIGHT = 1.7
HEAD_RAISE = 0.1
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# The astronaut's face in skimage.data.astronaut() (same box as evaluation.samples).
ASTRONAUT_FACE = (180.0, 57.0, 271.0, 178.0)
DEFAULT_BACKGROUND = "videos/intel/one-by-one-person-detection_full.mp4"


@dataclass(frozen=True, eq=False)
class FacePhoto:
    """A head crop to paste and the face box (xyxy, px) inside it."""

    rgb: NDArray[np.uint8]
    box: Box
    source: str

    @property
    def face_height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True, eq=False)
class BackgroundClip:
    """Consecutive frames of background footage at ``fps``."""

    frames: tuple[NDArray[np.uint8], ...]
    fps: float
    source: str

    def frame_at(self, seconds: float) -> NDArray[np.uint8]:
        """The frame shown at ``seconds``; past the end the clip plays backwards."""
        n = len(self.frames)
        i = int(seconds * self.fps)
        period = max(2 * n - 2, 1)
        i %= period
        return self.frames[i if i < n else period - i]


def head_crop(image: NDArray[np.uint8], box: Box, source: str) -> FacePhoto | None:
    """The head around face ``box`` of ``image``, clipped to the image; None if tiny."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - HEAD_RAISE * h
    hx0 = max(int(np.floor(cx - HEAD_WIDTH * w / 2)), 0)
    hy0 = max(int(np.floor(cy - HEAD_HEIGHT * h / 2)), 0)
    hx1 = min(int(np.ceil(cx + HEAD_WIDTH * w / 2)), image.shape[1])
    hy1 = min(int(np.ceil(cy + HEAD_HEIGHT * h / 2)), image.shape[0])
    if hx1 - hx0 < 8 or hy1 - hy0 < 8:
        return None
    crop = np.ascontiguousarray(image[hy0:hy1, hx0:hx1])
    return FacePhoto(crop, (x0 - hx0, y0 - hy0, x1 - hx0, y1 - hy0), source)


def _head_region(box: Box) -> Box:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - HEAD_RAISE * h
    return (
        cx - HEAD_WIDTH * w / 2,
        cy - HEAD_HEIGHT * h / 2,
        cx + HEAD_WIDTH * w / 2,
        cy + HEAD_HEIGHT * h / 2,
    )


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _isolated(boxes: Sequence[Box], others: Sequence[Box]) -> list[Box]:
    """The boxes whose head region contains no other box."""
    keep = []
    for box in boxes:
        region = _head_region(box)
        if not any(other is not box and _overlaps(region, other) for other in others):
            keep.append(box)
    return keep


def _read_rgb(path: Path) -> NDArray[np.uint8] | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _cascade(name: str) -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))


def _has_eye(eyes: cv2.CascadeClassifier, grey: NDArray[np.uint8], box: Box) -> bool:
    x0, y0, x1, y1 = (int(v) for v in box)
    upper = grey[y0 : (y0 + y1) // 2 + 1, x0:x1]
    size = max((x1 - x0) // 10, 8)
    return len(eyes.detectMultiScale(upper, 1.1, 4, minSize=(size, size))) > 0


def faces_from_folder(folder: Path, min_size: int = 80) -> list[FacePhoto]:
    """Frontal faces of at least ``min_size`` px in the photos of ``folder``.

    Found with OpenCV's frontal-face Haar cascade, and kept only where its eye
    cascade finds an eye in the upper half of the box (drops the cascade's
    false alarms on fabric and walls).
    """
    cascade = _cascade("haarcascade_frontalface_default.xml")
    eyes = _cascade("haarcascade_eye.xml")
    photos = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            continue
        rgb = _read_rgb(path)
        if rgb is None:
            continue
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        found = cascade.detectMultiScale(grey, 1.1, 8, minSize=(min_size, min_size))
        boxes: list[Box] = [
            (float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in found
        ]
        faces = [box for box in boxes if _has_eye(eyes, grey, box)]
        for box in _isolated(faces, boxes):
            photo = head_crop(rgb, box, f"{path.name}@{int(box[0])},{int(box[1])}")
            if photo is not None:
                photos.append(photo)
    return photos


def faces_from_manifest(folder: Path, min_size: float = 64.0) -> list[FacePhoto]:
    """Labelled faces of at least ``min_size`` px (larger side) from a manifest set."""
    manifest = json.loads((folder / "manifest.json").read_text())
    photos = []
    for entry in manifest:
        boxes: list[Box] = [(x, y, x + w, y + h) for x, y, w, h in entry["boxes"]]
        ignored: list[Box] = [(x, y, x + w, y + h) for x, y, w, h in entry.get("ignore", [])]
        big = [b for b in boxes if max(b[2] - b[0], b[3] - b[1]) >= min_size]
        if not big:
            continue
        rgb = _read_rgb(folder / entry["image"])
        if rgb is None:
            continue
        for box in _isolated(big, boxes + ignored):
            photo = head_crop(rgb, box, f"{entry['image']}@{int(box[0])},{int(box[1])}")
            if photo is not None:
                photos.append(photo)
    return photos


def astronaut_face() -> FacePhoto:
    """The face of ``skimage.data.astronaut()`` (needs scikit-image)."""
    from skimage import data

    photo = head_crop(data.astronaut(), ASTRONAUT_FACE, "skimage.data.astronaut")
    assert photo is not None
    return photo


def load_faces(data: Path | None) -> list[FacePhoto]:
    """Every face the shared data offers, or the astronaut when there is none."""
    photos: list[FacePhoto] = []
    if data is not None:
        if (data / "images" / "faces").is_dir():
            photos += faces_from_folder(data / "images" / "faces")
        if (data / "images" / "wider-dev" / "manifest.json").is_file():
            photos += faces_from_manifest(data / "images" / "wider-dev")
    return photos or [astronaut_face()]


def empty_runs(
    path: Path,
    min_seconds: float = 3.0,
    max_runs: int = 4,
    max_frames: int = 40,
    tolerance: float = 0.003,
) -> list[BackgroundClip]:
    """Stretches of ``path`` that look like its first frame (an empty scene).

    A frame belongs to a run when under ``tolerance`` of its pixels (on a
    192 px thumbnail) differ from the first frame by more than 40 grey levels
    in some channel. Runs of at least ``min_seconds`` are kept, up to
    ``max_runs`` of them and ``max_frames`` frames each.
    """
    runs: list[list[NDArray[np.uint8]]] = []
    current: list[NDArray[np.uint8]] = []
    reference = None
    fps = 25.0
    for frame in read_frames(path):
        if frame.index == 1:
            fps = 1 / float(frame.time) if frame.time > 0 else fps
        thumb = cv2.resize(frame.rgb, (192, 108), interpolation=cv2.INTER_AREA).astype(np.int16)
        if reference is None:
            reference = thumb
        changed = float((np.abs(thumb - reference).max(axis=2) > 40).mean())
        if changed < tolerance:
            if len(current) < max_frames:
                current.append(frame.rgb)
        else:
            if len(current) >= min_seconds * fps:
                runs.append(current)
                if len(runs) == max_runs:
                    break
            current = []
    if len(current) >= min_seconds * fps and len(runs) < max_runs:
        runs.append(current)
    return [BackgroundClip(tuple(run), fps, f"{path.name}#{i}") for i, run in enumerate(runs)]


def synthetic_background(width: int, height: int, seconds: float, seed: int) -> BackgroundClip:
    """A smooth texture with fine noise that pans sideways: the fallback background."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 225, size=(9, 17, 3), dtype=np.uint8)
    big = cv2.resize(coarse, (width * 2, height), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 6, size=big.shape)
    big = np.clip(big + grain, 0, 255).astype(np.uint8)
    fps = 10.0
    frames = tuple(
        np.ascontiguousarray(big[:, int(i * 4) % width : int(i * 4) % width + width])
        for i in range(int(seconds * fps) + 1)
    )
    return BackgroundClip(frames, fps, "synthetic")


def load_backgrounds(data: Path | None) -> list[BackgroundClip]:
    """Empty stretches of the default clip in ``data``; empty list if there is none."""
    if data is None or not (data / DEFAULT_BACKGROUND).is_file():
        return []
    return empty_runs(data / DEFAULT_BACKGROUND)
