"""The memory a hostile client costs ``veil serve``: the attacks of issue #14, measured;
and, with ``trust``, issue #22's probes of tenants, reviews and the audit trail
(:mod:`trust_probes`).

    python bench/attack_service.py
    python bench/attack_service.py trust

Starts ``veil serve --workers 0`` on a free loopback port with a fresh data
folder, samples its resident memory every 20 ms, and runs each attack:

- six 50 MB JSON bodies sent at once without a token;
- a 12000x12000 PNG (a few hundred KB) uploaded with a token;
- a 20000x20000 PNG uploaded with a token.

Prints the memory before and the peak during each attack, the answers, and
whether files were left behind. Timings are not the point; memory is.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(side: int) -> bytes:
    """A valid side x side black PNG, compressed to a few hundred KB."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (3 * side + 1)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


class Peak:
    """The highest resident memory of a process while in the ``with`` block."""

    def __init__(self, process: psutil.Process) -> None:
        self.process, self._stop = process, threading.Event()
        self.before = self.peak = 0

    def __enter__(self) -> Peak:
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)
        self._stop.set()
        self._thread.join()


def mb(n: int) -> str:
    return f"{n / 1024**2:.0f} MB"


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="veil-attack-"))
    env = {**os.environ, "VEIL_DATA_DIR": str(data)}
    veil = [sys.executable, "-m", "veil"]
    made = subprocess.run([*veil, "token", "create", "attacker"], env=env, capture_output=True)
    token = made.stdout.decode().strip()
    port = free_port()
    server = subprocess.Popen(
        [*veil, "serve", "--workers", "0", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        process = psutil.Process(server.pid)
        time.sleep(1)
        body = b'{"name": "' + b"a" * (50 * 1024**2) + b'"}'
        with Peak(process) as peak, ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _: _post(f"{url}/v1/presets", body, None), range(6)))
        print(
            f"six 50 MB bodies, no token: {mb(peak.before)} -> {mb(peak.peak)} peak, "
            f"answers {sorted(set(statuses))}"
        )
        for side in (12_000, 20_000):
            picture = png(side)
            with Peak(process) as peak:
                status = _post(f"{url}/v1/uploads?filename=big.png", picture, token)
            left = [p for p in (data / "uploads").rglob("*") if p.is_file()]
            print(
                f"{side}x{side} PNG ({len(picture) // 1024} KB): {mb(peak.before)} -> "
                f"{mb(peak.peak)} peak, "
                f"answer {status}, {len(left)} file(s) left behind"
            )
    finally:
        server.terminate()
        server.wait(30)
    return 0


def _post(url: str, body: bytes, token: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return httpx.post(url, content=body, headers=headers, timeout=120).status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__  # type: ignore[return-value]  # the server hung up


if __name__ == "__main__":
    if sys.argv[1:] == ["trust"]:
        import trust_probes

        sys.exit(trust_probes.main())
    sys.exit(main())
