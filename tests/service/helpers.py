"""Helpers for the service tests: the API on a thread, worker threads and processes, a fake
clock, a webhook receiver, the SeaweedFS client."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from evaluation.samples import MovingFace, make_sample_video
from helpers import free_port, wait_until
from veil.apps import service_app
from veil.service.api.server import server as http_server
from veil.service.runner import JobRunner
from veil.service.settings import ServiceSettings
from veil.service.store import Store
from veil.service.worker import run_worker

Box = tuple[int, int, int, int]
FACE = [MovingFace(size=70, start=(40, 30), end=(130, 45))]


def wait_for_health(url: str, timeout: float = 60.0) -> None:
    """Until the server at ``url`` answers ``/health``."""

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout)


@dataclass(frozen=True)
class Clip:
    path: Path
    boxes: list[list[Box]]


def make_clip(path: Path, frames: int = 8) -> Clip:
    """A 320x180 clip with one moving face, no audio: cheap to redact."""
    return Clip(path, make_sample_video(path, 320, 180, frames, 8, FACE, audio=False))


class FakeClock:
    """A clock that moves only when told: lease tests run without sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Api:
    url: str
    token: str
    store: Store
    settings: ServiceSettings
    client: httpx.Client

    def wait_state(self, job_id: str, *states: str, timeout: float = 60) -> dict:
        def done() -> dict | None:
            job = self.client.get(f"/v1/jobs/{job_id}").json()
            return job if job["state"] in states else None

        return wait_until(done, timeout)

    def upload_job(self, path: Path, **params: Any) -> dict:
        response = self.client.post(
            "/v1/jobs/upload", params={"filename": path.name, **params}, content=path.read_bytes()
        )
        assert response.status_code == 202, response.text
        return response.json()


@contextlib.contextmanager
def serve_app(settings: ServiceSettings) -> Iterator[str]:
    """The API in a uvicorn server on a thread, on a free loopback port, as ``veil serve``."""
    port = free_port()
    server = http_server(service_app(settings), settings, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, 0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class ThreadWorker:
    """A worker loop on a thread of the test process (the detector loads once)."""

    settings: ServiceSettings
    runner: JobRunner = field(init=False)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.runner = JobRunner(Store(self.settings), self.settings, worker="thread-worker")

    def start(self) -> ThreadWorker:
        self.thread = threading.Thread(
            target=run_worker,
            args=(self.settings,),
            kwargs={"stop": self.stop, "runner": self.runner, "webhooks": False},
            daemon=True,
        )
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.runner.abort.set()
        if self.thread is not None:
            self.thread.join(30)


def worker_process(
    settings: ServiceSettings, log: Path, frame_delay: float | None = None
) -> subprocess.Popen:
    """A real ``python -m veil.service.worker`` process (each frame slowed, if asked)."""
    env = {**os.environ, **settings.env(), "OMP_WAIT_POLICY": "PASSIVE"}
    command = [sys.executable, "-m", "veil.service.worker"]
    if frame_delay is not None:
        command = [
            sys.executable,
            str(Path(__file__).with_name("slow_worker.py")),
            str(frame_delay),
        ]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out)


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- a webhook receiver ---------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Hook:
    """Collects POSTs; the first ``fail_first`` answers are HTTP 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[Received] = []
        self.answers = 0
        self.fail_first = fail_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.answers += 1
                if hook.answers <= hook.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.received.append(Received(dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="any",
            aws_secret_access_key="any",
            config=Config(s3={"addressing_style": "path"}),
        )
