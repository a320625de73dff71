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

Each delivery has a total deadline (``webhook_deadline``), however slowly the
receiver answers, and each receiver URL is served by its own task: one slow
receiver delays only its own later deliveries, never another's. The address
delivered to is the one checked (:func:`veil.service.addresses.webhook_target`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import threading
import time

from veil.errors import VeilError
from veil.service.addresses import webhook_target
from veil.service.secrets import Secrets, key_file
from veil.service.settings import ServiceSettings
from veil.service.store import Delivery, Job, NotFound, Store

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
    made = key_file(settings.data_dir / "webhook.secret", lambda: secrets.token_hex(32).encode())
    return made.decode()


class Dispatcher:
    """Delivers due webhooks from a thread; any number of processes may run one."""

    def __init__(self, store: Store, settings: ServiceSettings) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def secret(self, job: Job, url: str) -> str:
        """The job's own secret, else its preset's (for the preset's URL), else the default."""
        if job.webhook_secret:
            return Secrets(self.settings).open(job.webhook_secret)
        if job.preset:
            try:
                preset = self.store.presets.get(job.preset)
            except NotFound:
                preset = None
            if preset is not None and preset.webhook_secret and preset.webhook_url == url:
                return Secrets(self.settings).open(preset.webhook_secret)
        return default_secret(self.settings)

    async def deliver(self, delivery: Delivery) -> None:
        import httpx

        error: str | None = None
        retry = True
        try:
            job = await asyncio.to_thread(self.store.jobs.get, delivery.job_id)
            allow = (await asyncio.to_thread(self.store.policy.get)).webhook_allow
            target = await asyncio.to_thread(webhook_target, delivery.url, allow)
            secret = await asyncio.to_thread(self.secret, job, delivery.url)
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "veil-webhooks",
                "X-Veil-Event": "job.state",
                "X-Veil-Delivery": str(delivery.id),
                "X-Veil-Timestamp": timestamp,
                "X-Veil-Signature": sign(secret, timestamp, delivery.body),
            }
            if target.host_header:
                headers["Host"] = target.host_header
            extensions = {"sni_hostname": target.server_name} if target.server_name else None
            async with httpx.AsyncClient(timeout=self.settings.webhook_deadline) as client:
                response = await asyncio.wait_for(
                    client.post(
                        target.url,
                        content=delivery.body,
                        headers=headers,
                        auth=target.auth,
                        extensions=extensions,
                    ),
                    self.settings.webhook_deadline,
                )
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except NotFound:
            error, retry = "the job was deleted", False
        except VeilError as exc:  # the URL may not be called (any more): do not retry
            error, retry = str(exc), False
        except TimeoutError:
            error = f"no answer within {self.settings.webhook_deadline:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        retry_at = None
        if error is not None and retry and delivery.attempts < self.settings.webhook_attempts:
            retry_at = time.time() + self.settings.webhook_backoff * 2 ** (delivery.attempts - 1)
        if error is not None:
            log.info("webhook for job %s: %s", delivery.job_id, error)
        done = self.store.deliveries.done
        await asyncio.to_thread(done, delivery.id, error=error, retry_at=retry_at)

    async def _serve(self, url: str, batch: list[Delivery], busy: dict[str, asyncio.Task]) -> None:
        """Deliver to one URL, in order, until it has nothing due."""
        try:
            while batch and not self._stop.is_set():
                for delivery in batch:
                    await self.deliver(delivery)
                batch = await asyncio.to_thread(self.store.deliveries.due, only_url=url)
        finally:
            busy.pop(url, None)

    async def _loop(self, interval: float) -> None:
        busy: dict[str, asyncio.Task] = {}
        while not self._stop.is_set():
            try:
                due = await asyncio.to_thread(self.store.deliveries.due, skip_urls=set(busy))
            except Exception:  # keep delivering after a database hiccup
                log.warning("webhook dispatcher", exc_info=True)
                due = []
            by_url: dict[str, list[Delivery]] = {}
            for delivery in due:
                by_url.setdefault(delivery.url, []).append(delivery)
            for url, batch in by_url.items():
                busy[url] = asyncio.create_task(self._serve(url, batch, busy))
            await asyncio.sleep(interval)
        if busy:
            await asyncio.wait(list(busy.values()), timeout=self.settings.webhook_deadline + 1)

    def start(self, interval: float = 0.25) -> Dispatcher:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._loop(interval)), name="webhooks", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_deadline + 5)
