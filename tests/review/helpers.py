"""Helpers for the review tests: the review clip, the service as the app sees it,
screenshots and annotation edits."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from evaluation.samples import DEFAULT_FACES, scene
from service.helpers import Api, ThreadWorker
from veil.media import write_video
from veil.service.outputs import job_outputs

Box = tuple[int, int, int, int]


CHROMIUM = os.environ.get("VEIL_CHROMIUM", "/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# the clip: 640x360, 24 frames at 12 fps; the two sample faces and a "plate"
WIDTH, HEIGHT, FRAMES, FPS = 640, 360, 24, 12


PLATE = 48  # px: a checkerboard the detector does not find, moving right and down


@dataclass(frozen=True)
class ReviewClip:
    path: Path
    faces: list[list[Box]]  # per frame: the big face, then the small one (xyxy)
    plates: list[Box]  # per frame: the checkerboard


def plate_box(frame: int) -> Box:
    t = frame / (FRAMES - 1)
    x, y = round(60 + 92 * t), round(282 + 12 * t)
    return x, y, x + PLATE, y + PLATE


def make_review_clip(path: Path) -> ReviewClip:
    yy, xx = np.mgrid[0:PLATE, 0:PLATE]
    checker = (((yy // 6) + (xx // 6)) % 2 * 255).astype(np.uint8)[..., None]
    faces: list[list[Box]] = []

    def frames() -> Iterator[np.ndarray]:
        for i in range(FRAMES):
            frame, boxes = scene(WIDTH, HEIGHT, DEFAULT_FACES, i / (FRAMES - 1))
            x0, y0, x1, y1 = plate_box(i)
            frame[y0:y1, x0:x1] = checker
            faces.append(boxes)
            yield frame

    write_video(path, frames(), [Fraction(i, FPS) for i in range(FRAMES)], 0, audio_hz=None)
    return ReviewClip(path, faces, [plate_box(i) for i in range(FRAMES)])


@dataclass
class ReviewApi(Api):
    worker: ThreadWorker | None = None


def analyzed(api: Api, clip: Path) -> str:
    """Upload and analyze through the API; the finished job's ID."""
    job = api.upload_job(clip, mode="analyze")
    done = api.wait_state(job["id"], "finished", "error", timeout=120)
    assert done["state"] == "finished", done
    return job["id"]


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save a screenshot to docs/screenshots/ where it is missing or VEIL_SCREENSHOTS=1.

    The pictures hold times and job IDs, so rewriting them on every run would
    leave the work tree changed after each ``make test``.
    """
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("document.getElementById('toast').classList.remove('show')")
    data = page.screenshot(animations="disabled", full_page=full_page)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("VEIL_SCREENSHOTS") == "1" or not path.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


def with_extras(api: Api, job_id: str, change: Callable[[dict], None]) -> None:
    """Rewrite a finished analysis's annotations (``change`` edits the JSON in place), as if
    the analysis had written them so: for what today's analysis does not write yet.
    """
    job = api.store.jobs.get(job_id)
    outputs = job_outputs(api.settings, job).items()
    [output] = [o for name, o in outputs if name.endswith("_annotations.json")]
    assert output.path is not None
    data = json.loads(output.path.read_text())
    change(data)
    output.path.write_text(json.dumps(data))


def box_of(face_id: int, frame: int, box: Box) -> dict:
    """An annotations face from a pixel box of the review clip."""
    x0, y0, x1, y1 = box
    return {
        "index": frame,
        "id": face_id,
        "x": x0 / WIDTH,
        "y": y0 / HEIGHT,
        "width": (x1 - x0) / WIDTH,
        "height": (y1 - y0) / HEIGHT,
        "confidence": 0.3,
    }


PICTURES_LOADED = """async () => {
  const urls = new Set([...document.querySelectorAll('.tl-tile, .tl-head img')].map((e) =>
    e.tagName === 'IMG' ? e.src : getComputedStyle(e).backgroundImage.slice(5, -2)));
  await Promise.all([...urls].map((u) => new Promise((done) => {
    const img = new Image();
    img.onload = img.onerror = done;
    img.src = u;
  })));
  return urls.size;
}"""


def pictures_loaded(page) -> int:
    """Wait until every picture of the timeline is loaded; how many images there are."""
    return page.evaluate(PICTURES_LOADED)
