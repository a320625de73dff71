"""Signed, expiring links for what a browser loads without headers.

``<video src>``, ``<img src>`` and download links cannot send the API token,
so the review API hands out links signed with a key kept in the data folder
(``review/link.key``): HMAC-SHA256 over the job, the file and the expiry time.
A link names one file of one job and stops working when it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import quote

from veil.atomic import write_atomic

PREFIX = "/v1/review/files"
LIFETIME_SECONDS = 12 * 3600
_lock = threading.Lock()


def _key(data_dir: Path) -> bytes:
    path = data_dir / "review" / "link.key"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, secrets.token_hex(32).encode())
            os.chmod(path, 0o600)
        return path.read_bytes().strip()


def _signature(key: bytes, job_id: str, name: str, expires: int) -> str:
    message = f"{job_id}\n{name}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(data_dir: Path, job_id: str, name: str, lifetime: float = LIFETIME_SECONDS) -> str:
    """The path (with query) that serves ``name`` of ``job_id`` until it expires."""
    # rounded up to the hour: a link stays the same for a while, so browsers cache the file
    expires = (int(time.time() + lifetime) // 3600 + 1) * 3600
    sig = _signature(_key(data_dir), job_id, name, expires)
    return f"{PREFIX}/{quote(job_id)}/{quote(name)}?expires={expires}&sig={sig}"


def verify(data_dir: Path, job_id: str, name: str, expires: int, sig: str) -> bool:
    if expires < time.time():
        return False
    expected = _signature(_key(data_dir), job_id, name, expires)
    return hmac.compare_digest(expected, sig)
