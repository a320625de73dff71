"""Signed, short-lived links for what a browser loads without headers.

``<video src>``, ``<img src>`` and download links cannot send the API token,
so the review API hands out links signed with a key kept in the data folder
(``review/link.key``): HMAC-SHA256 over the job, the file, the token the link
was made for, and the expiry time. A link names one file of one job; it stops
working when it expires (10 to 15 minutes after it was made) and as soon as
its token is revoked or may no longer see the job (checked on every use).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from veil.service.secrets import key_file

PREFIX = "/v1/review/files"
LIFETIME_SECONDS = 10 * 60
# expiries are rounded up to this: a link stays the same for a while, so browsers cache
ROUNDING_SECONDS = 5 * 60


def _key(data_dir: Path) -> bytes:
    return key_file(data_dir / "review" / "link.key", lambda: secrets.token_hex(32).encode())


def _signature(key: bytes, job_id: str, name: str, token: str, expires: int) -> str:
    message = f"{job_id}\n{name}\n{token}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(
    data_dir: Path, job_id: str, name: str, token: str, lifetime: float = LIFETIME_SECONDS
) -> str:
    """The path (with query) that serves ``name`` of ``job_id`` to ``token``'s holder."""
    expires = (int(time.time() + lifetime) // ROUNDING_SECONDS + 1) * ROUNDING_SECONDS
    sig = _signature(_key(data_dir), job_id, name, token, expires)
    return (
        f"{PREFIX}/{quote(job_id)}/{quote(name)}?by={quote(token, safe='')}"
        f"&expires={expires}&sig={sig}"
    )


def verify(data_dir: Path, job_id: str, name: str, token: str, expires: int, sig: str) -> bool:
    """Signed for this job, file and token, and not expired (the token is checked apart)."""
    if expires < time.time():
        return False
    expected = _signature(_key(data_dir), job_id, name, token, expires)
    return hmac.compare_digest(expected, sig)
