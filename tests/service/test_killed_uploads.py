"""A ``veil serve`` killed while receiving uploads (issue #22, failure 6): the chunk's write
lease dies with it, so the upload resumes from its offset after a restart, and a whole-file
upload it was receiving is deleted, row and partial file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from service.conftest import Clip, free_port, wait_for_health, wait_until
from veil.service.access import Role
from veil.service.settings import ServiceSettings
from veil.service.store import NotFound, Store

IDLE = 2.0  # seconds a body may stall; the write lease is 2 * IDLE + 1


def serve(data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "VEIL_IDLE_SECONDS": str(IDLE)}
    command = [sys.executable, "-m", "veil", "serve", "--data", str(data), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--workers", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_health(f"http://127.0.0.1:{port}")
    return proc


def stalled_body(first: bytes, stop: threading.Event) -> Iterator[bytes]:
    yield first
    stop.wait(30)  # the server is killed meanwhile


def send_in_background(request: dict) -> None:
    def run() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it: the point
            httpx.request(**request, timeout=30)

    threading.Thread(target=run, daemon=True).start()


def test_a_killed_server_leaves_no_lock_and_no_half_upload(tmp_path: Path, clip: Clip):
    data, port = tmp_path / "data", free_port()
    settings = ServiceSettings(data_dir=data)
    store = Store(settings)
    token = store.tokens.create("op", Role.OPERATOR)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    body = clip.path.read_bytes()
    proc = serve(data, port)
    try:
        session = httpx.post(
            f"{url}/v1/uploads/sessions",
            params={"filename": "walk.mp4", "size": len(body)},
            headers=auth,
        ).json()
        half = len(body) // 2
        first = httpx.patch(
            f"{url}/v1/uploads/{session['id']}",
            content=body[:half],
            headers={**auth, "Upload-Offset": "0"},
        )
        assert first.status_code == 200 and first.json()["received"] == half
        stops = []
        for request in (
            {"method": "PATCH", "url": f"{url}/v1/uploads/{session['id']}",
             "headers": {**auth, "Upload-Offset": str(half)}},
            {"method": "POST", "url": f"{url}/v1/uploads", "params": {"filename": "w.mp4"},
             "headers": auth},
        ):  # fmt: skip
            stop = threading.Event()
            stops.append(stop)
            request["content"] = stalled_body(body[half : half + 1000], stop)
            send_in_background(request)
        whole = wait_until(
            lambda: [u for u in store.uploads.created_before(2e9) if u.size is None], 10
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        time.sleep(2 * (2 * IDLE + 1) + 1)  # its leases run out, and a lease more has passed
        proc = serve(data, port)
        offset = httpx.get(f"{url}/v1/uploads/{session['id']}", headers=auth).json()["received"]
        rest = httpx.patch(
            f"{url}/v1/uploads/{session['id']}",
            content=body[offset:],
            headers={**auth, "Upload-Offset": str(offset)},
        )
        assert rest.status_code == 200, rest.text
        assert rest.json()["complete"]

        def gone() -> bool:
            try:
                store.uploads.get(whole[0].id)
            except NotFound:
                return not (settings.uploads_dir / whole[0].id).exists()
            return False

        wait_until(gone, 20)
    finally:
        for stop in locals().get("stops", []):
            stop.set()
        proc.kill()
        proc.wait(10)
        store.close()
