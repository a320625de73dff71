"""Fixtures for the review app: a real service with a worker, a clip, Debian's Chromium.

The service (API + review app + one worker thread running the real pipeline)
is shared by the tests of a module, on a free loopback port. The browser is
the system's Chromium driven by Playwright; without either, browser tests skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import httpx
import pytest

from review.helpers import CHROMIUM, CHROMIUM_ARGS, ReviewApi, ReviewClip, make_review_clip
from service.helpers import ThreadWorker, serve_app
from veil.service.settings import ServiceSettings
from veil.service.store import Store


@pytest.fixture(scope="session")
def review_clip(tmp_path_factory: pytest.TempPathFactory) -> ReviewClip:
    return make_review_clip(tmp_path_factory.mktemp("review-clip") / "street.mp4")


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
