"""Signed, short-lived links for what a browser loads without headers.

``<video src>``, ``<img src>`` and download links cannot send the API token,
so the review API hands out links signed with a key kept in the data folder
(``review/link.key``): HMAC-SHA256 over the job, the file, the token the link
was made for, and the expiry time. A link names one file of one job; it stops
working when it expires (10 to 15 minutes after it was made) and as soon as
its token is revoked or may no longer see the job (checked on every use), and
when its holder signs out: each token has a sign-out epoch (a file under
``review/signouts/``, named by the token name's SHA-256) that every signature
covers, and signing out moves it on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from veil.atomic import write_atomic
from veil.review.service_port import key_file

PREFIX = "/v1/review/files"
LIFETIME_SECONDS = 10 * 60
# expiries are rounded up to this: a link stays the same for a while, so browsers cache
ROUNDING_SECONDS = 5 * 60


def _key(data_dir: Path) -> bytes:
    return key_file(data_dir / "review" / "link.key", lambda: secrets.token_hex(32).encode())


def _epoch_file(data_dir: Path, token: str) -> Path:
    return data_dir / "review" / "signouts" / hashlib.sha256(token.encode()).hexdigest()


def _epoch(data_dir: Path, token: str) -> str:
    path = _epoch_file(data_dir, token)
    return path.read_text() if path.is_file() else "0"


def sign_out(data_dir: Path, token: str) -> None:
    """Every link signed for ``token`` so far stops working."""
    path = _epoch_file(data_dir, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, secrets.token_hex(16).encode())


def _signature(data_dir: Path, job_id: str, name: str, token: str, expires: int) -> str:
    epoch = _epoch(data_dir, token)
    message = f"{job_id}\n{name}\n{token}\n{expires}\n{epoch}".encode()
    return hmac.new(_key(data_dir), message, hashlib.sha256).hexdigest()


def sign(
    data_dir: Path, job_id: str, name: str, token: str, lifetime: float = LIFETIME_SECONDS
) -> str:
    """The path (with query) that serves ``name`` of ``job_id`` to ``token``'s holder."""
    expires = (int(time.time() + lifetime) // ROUNDING_SECONDS + 1) * ROUNDING_SECONDS
    sig = _signature(data_dir, job_id, name, token, expires)
    return (
        f"{PREFIX}/{quote(job_id)}/{quote(name)}?by={quote(token, safe='')}"
        f"&expires={expires}&sig={sig}"
    )


def verify(data_dir: Path, job_id: str, name: str, token: str, expires: int, sig: str) -> bool:
    """Signed for this job, file and token, and not expired (the token is checked apart)."""
    if expires < time.time():
        return False
    expected = _signature(data_dir, job_id, name, token, expires)
    return hmac.compare_digest(expected, sig)
