"""Fixtures for the review app: a real service with a worker, a clip, Debian's Chromium.

The service (API + review app + one worker thread running the real pipeline)
is shared by the tests of a module, on a free loopback port. The browser is
the system's Chromium driven by Playwright; without either, browser tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import httpx
import numpy as np
import pytest

from evaluation.samples import DEFAULT_FACES, scene
from service.conftest import Api, ThreadWorker, serve_app
from veil.media import write_video
from veil.service.outputs import job_outputs
from veil.service.settings import ServiceSettings
from veil.service.store import Store

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


@pytest.fixture(scope="session")
def review_clip(tmp_path_factory: pytest.TempPathFactory) -> ReviewClip:
    return make_review_clip(tmp_path_factory.mktemp("review-clip") / "street.mp4")


@dataclass
class ReviewApi(Api):
    worker: ThreadWorker | None = None


@pytest.fixture(scope="module")
def review_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewApi]:
    """``veil serve`` as the tests run it: the API and the app on a free port, one worker."""
    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("review-data"),
        lease_seconds=2.0,  # progress reaches the store every 0.5 s
        poll_seconds=0.05,
        max_upload_bytes=16 * 1024**2,
        webhook_secret="test-secret",
    )
    store = Store(settings)
    token = store.tokens.create("reviewer")
    worker = ThreadWorker(settings).start()
    try:
        with (
            serve_app(settings) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as client,
        ):
            yield ReviewApi(url, token, store, settings, client, worker)
    finally:
        worker.close()
        store.close()


def analyzed(api: Api, clip: Path) -> str:
    """Upload and analyze through the API; the finished job's ID."""
    job = api.upload_job(clip, mode="analyze")
    done = api.wait_state(job["id"], "finished", "error", timeout=120)
    assert done["state"] == "finished", done
    return job["id"]


# -- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (never a browser Playwright downloads)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, accept_downloads=True, device_scale_factor=1
    )
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


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
