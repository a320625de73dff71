"""Job callbacks: each state change is POSTed as JSON, signed with HMAC-SHA256, retried.

Headers sent with every delivery::

    X-Veil-Event: job.state
    X-Veil-Delivery: <delivery id>
    X-Veil-Timestamp: <unix seconds>
    X-Veil-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body and
compares in constant time (:func:`verify`); rejecting old timestamps stops replays.
A delivery that fails (no answer, or not 2xx) is retried after 1, 2, 4... times
``webhook_backoff`` seconds, ``webhook_attempts`` times in all.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from veil.service.settings import ServiceSettings
from veil.service.store import Delivery, Store

log = logging.getLogger("veil.service")


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def default_secret(settings: ServiceSettings) -> str:
    """VEIL_WEBHOOK_SECRET, else a key generated once in ``<data>/webhook.secret``."""
    if settings.webhook_secret:
        return settings.webhook_secret
    path = Path(settings.data_dir) / "webhook.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()


class Dispatcher:
    """Delivers due webhooks; any number of processes may run one."""

    def __init__(self, store: Store, settings: ServiceSettings) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver(self, delivery: Delivery) -> None:
        import httpx

        secret = delivery.secret or default_secret(self.settings)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "veil-webhooks",
            "X-Veil-Event": "job.state",
            "X-Veil-Delivery": str(delivery.id),
            "X-Veil-Timestamp": timestamp,
            "X-Veil-Signature": sign(secret, timestamp, delivery.body),
        }
        error: str | None = None
        try:
            response = httpx.post(delivery.url, content=delivery.body, headers=headers, timeout=10)
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        retry_at = None
        if error is not None and delivery.attempts < self.settings.webhook_attempts:
            retry_at = time.time() + self.settings.webhook_backoff * 2 ** (delivery.attempts - 1)
        if error is not None:
            log.info("webhook %s for job %s: %s", delivery.url, delivery.job_id, error)
        self.store.deliveries.done(delivery.id, error=error, retry_at=retry_at)

    def run_once(self) -> int:
        due = self.store.deliveries.due()
        for delivery in due:
            self.deliver(delivery)
        return len(due)

    def start(self, interval: float = 0.25) -> Dispatcher:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.run_once()
                except Exception:  # keep delivering after a database hiccup
                    log.warning("webhook dispatcher", exc_info=True)

        self._thread = threading.Thread(target=loop, name="webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
