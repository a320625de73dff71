"""No SSRF: inputs only from allow-listed prefixes (on normalised URLs), webhooks only to
public addresses, each delivery bounded in time and never held up by another receiver."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import wait_until
from service.helpers import Api, Hook
from veil.errors import VeilError
from veil.service.addresses import check_url_allowed, check_webhook_url, normalise
from veil.service.policy import Policy
from veil.service.settings import ServiceSettings
from veil.service.store import JobSpec, Store
from veil.service.webhooks import Dispatcher

ALLOWED = ServiceSettings(url_allowlist=("http://media.example/media/",))


@pytest.mark.parametrize(
    "url",
    [
        "http://media.example/media/%2e%2e/private/x.mp4",
        "http://media.example/media/%2E%2E%2Fprivate/x.mp4",
        "http://media.example/media/..%2fprivate/x.mp4",
        "http://media.example/media/../private/x.mp4",
        "http://media.example/media/.%2e/private/x.mp4",
        "http://media.example/media%2f..%2fprivate/x.mp4",
        "http://media.example/media\\..\\private\\x.mp4",
        "http://media.example/media-private/x.mp4",
        "http://media.example:8080/media/x.mp4",
        "https://media.example/media/x.mp4",
        "http://user:pw@media.example/media/x.mp4",
        "http://media.example.evil/media/x.mp4",
        "http://media.example@evil.example/media/x.mp4",
        "file:///media/x.mp4",
        "http://media.example/media/x.mp4\r\nHost: evil",
    ],
)
def test_escaping_the_allow_list_is_refused(url: str):
    with pytest.raises(VeilError):
        check_url_allowed(url, ALLOWED)


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        ("http://media.example/media/x.mp4", "http://media.example/media/x.mp4"),
        ("HTTP://MEDIA.EXAMPLE:80/media/x.mp4", "http://media.example/media/x.mp4"),
        ("http://media.example/media/./a/../x.mp4", "http://media.example/media/x.mp4"),
        ("http://media.example/media/a%20b.mp4?v=1", "http://media.example/media/a%20b.mp4?v=1"),
        ("http://media.example/media/%C3%9C.mp4", "http://media.example/media/%C3%9C.mp4"),
    ],
)
def test_what_is_fetched_is_the_normal_form_that_was_checked(url: str, fetched: str):
    assert check_url_allowed(url, ALLOWED) == fetched


def test_normal_forms_compare_whole_segments():
    media = normalise("http://h/media")
    assert normalise("http://h/media/a.mp4").under(media)
    assert not normalise("http://h/mediaX/a.mp4").under(media)
    assert normalise("http://h/anything").under(normalise("http://h/"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1/presets",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "ftp://93.184.215.14/hook",
        "gopher://93.184.215.14/",
    ],
)
def test_webhooks_to_private_addresses_are_refused(url: str):
    with pytest.raises(VeilError):
        check_webhook_url(url, [])


def test_an_admin_may_allow_a_private_prefix():
    check_webhook_url("http://127.0.0.1:9000/hooks/veil", ["http://127.0.0.1:9000/hooks/"])
    with pytest.raises(VeilError):
        check_webhook_url("http://127.0.0.1:9000/other", ["http://127.0.0.1:9000/hooks/"])
    check_webhook_url("http://93.184.215.14/hook", [])  # a public address (no DNS needed)


def test_the_api_refuses_webhooks_to_itself(api: Api):
    own = f"{api.url}/v1/presets"
    job = api.client.post("/v1/jobs", json={"input": {"s3": "s3://b/a.mp4"}, "webhook_url": own})
    assert job.status_code == 422 and "loopback" in job.json()["detail"]
    preset = api.client.put("/v1/presets/p", json={"webhook_url": own})
    assert preset.status_code == 422
    upload = api.client.post(
        "/v1/jobs/upload", params={"filename": "a.mp4", "webhook_url": own}, content=b"0"
    )
    assert upload.status_code == 422
    assert [p for p in api.settings.uploads_dir.rglob("*") if p.is_file()] == []


class Drip:
    """A receiver that answers one byte every ``every`` seconds, forever."""

    def __init__(self, every: float = 1.0) -> None:
        self.stop = threading.Event()
        drip = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                    if drip.stop.wait(every):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slow"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_a_slow_receiver_neither_stalls_others_nor_holds_its_delivery(settings: ServiceSettings):
    quick = replace(settings, webhook_deadline=3.0, webhook_attempts=1)
    store = Store(quick)
    slow, good = Drip(), Hook()
    store.policy.put(Policy(webhook_allow=[slow.url, good.url]), "test")
    dispatcher = Dispatcher(store, quick)
    try:
        for url in (slow.url, good.url, slow.url, good.url):
            source = {"kind": "s3", "bucket": "b", "key": "a.mp4"}
            store.jobs.submit(JobSpec("combined", source, "a.mp4", webhook_url=url))
        started = time.monotonic()
        dispatcher.start(interval=0.05)
        wait_until(lambda: len(good.received) == 2, 30)
        good_done = time.monotonic() - started
        slow_jobs = [d for j in store.jobs.list() for d in store.deliveries.of_job(j.id)]
        wait_until(lambda: all(d["done"] for d in _all(store)), 60)
        slow_errors = [d["last_error"] for d in _all(store) if d["url"] == slow.url]
    finally:
        dispatcher.stop()
        slow.close()
        good.close()
        store.close()
    assert slow_jobs
    # the good receiver got both while the first slow delivery was still dripping
    assert good_done < quick.webhook_deadline, good_done
    assert slow_errors == ["no answer within 3 s"] * 2


def _all(store: Store) -> list[dict]:
    return [d for j in store.jobs.list() for d in store.deliveries.of_job(j.id)]
