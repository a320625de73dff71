"""Data hygiene: no server paths shown, secrets sealed and stored once, credentials masked,
originals deleted with their last job, short-lived links, one chunk per offset, any name."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx

from helpers import wait_until
from service.helpers import Api, Clip, FakeClock, Hook, ThreadWorker
from veil.live.stats import LiveStats
from veil.review import links
from veil.service.jobs import purge_originals
from veil.service.policy import Policy
from veil.service.schemas import PresetPublic
from veil.service.settings import ServiceSettings
from veil.service.store import JobSpec, Store, StoredPreset
from veil.service.webhooks import verify
from veil.urls import mask_text, masked


def test_no_server_path_reaches_a_client(api: Api, worker: ThreadWorker, clip: Clip):
    hook = Hook()
    api.store.policy.put(Policy(webhook_allow=[hook.url]), "test")
    data = str(api.settings.data_dir.resolve())
    try:
        job = api.upload_job(clip.path, webhook_url=hook.url)
        done = api.wait_state(job["id"], "finished", "error")
        wait_until(lambda: len(hook.received) >= 3, 30)
        upload = api.client.post(
            "/v1/uploads", params={"filename": "clip.mp4"}, content=b"not a video"
        )
        gone = api.client.post(
            "/v1/uploads", params={"filename": "x.mp4"}, content=clip.path.read_bytes()
        )
        (api.settings.uploads_dir / gone.json()["id"] / "x.mp4").unlink()
        broken = api.client.post("/v1/jobs", json={"input": {"upload_id": gone.json()["id"]}})
        failed = api.wait_state(broken.json()["id"], "error", "finished")
    finally:
        hook.close()
    shown = [
        json.dumps(done),
        api.client.get(f"/v1/jobs/{job['id']}/report").text,
        api.client.get(f"/v1/jobs/{job['id']}/audit").text,
        api.client.get(f"/v1/jobs/{job['id']}/events").text,
        api.client.get(f"/v1/jobs/{job['id']}/outputs/walk_report.json").text,
        upload.text,
        json.dumps(failed),
        *(r.body.decode() for r in hook.received),
    ]
    for text in shown:
        assert data not in text and "/tmp/" not in text, text[:300]
    assert "no longer on the server" in failed["error"]


def test_webhook_secrets_are_sealed_and_stored_once(api: Api, worker: ThreadWorker, clip: Clip):
    secret = "per-job-s3cr3t-9f8e7d"
    preset_secret = "preset-s3cr3t-1a2b3c"
    hook = Hook()
    api.store.policy.put(Policy(webhook_allow=[hook.url]), "test")
    body = {"webhook_url": hook.url, "webhook_secret": preset_secret}
    assert api.client.put("/v1/presets/hooked", json=body).status_code == 200
    try:
        own = api.client.post(
            "/v1/uploads", params={"filename": "walk.mp4"}, content=clip.path.read_bytes()
        ).json()
        request = {"input": {"upload_id": own["id"]}, "webhook_url": hook.url}
        first = api.client.post("/v1/jobs", json={**request, "webhook_secret": secret}).json()
        second = api.client.post(
            "/v1/jobs", json={"input": {"upload_id": own["id"]}, "preset": "hooked"}
        ).json()
        for j in (first, second):
            api.wait_state(j["id"], "finished", "error")
        wait_until(lambda: len(hook.received) >= 6, 30)
    finally:
        hook.close()
    by_job: dict[str, list] = {}
    for r in hook.received:
        by_job.setdefault(r.json()["job"]["id"], []).append(r)
    for job_id, key in ((first["id"], secret), (second["id"], preset_secret)):
        for r in by_job[job_id]:
            h = {k.lower(): v for k, v in r.headers.items()}
            assert verify(key, h["x-veil-timestamp"], r.body, h["x-veil-signature"])
    files = [p for p in api.settings.data_dir.glob("veil.db*") if p.is_file()]
    raw = b"".join(p.read_bytes() for p in files)
    assert secret.encode() not in raw and preset_secret.encode() not in raw
    with api.store.engine.connect() as c:
        columns = [r[1] for r in c.exec_driver_sql("pragma table_info(deliveries)")]
        sealed = c.exec_driver_sql(
            "select webhook_secret from jobs where webhook_secret is not null"
        ).all()
    assert "secret" not in columns
    assert len([x for x in sealed if x]) == 1  # the preset's secret is not copied into its job


def test_credentials_are_masked_wherever_a_url_is_shown():
    stats = LiveStats("lobby", "rtsp://admin:hunter2@10.0.0.5/stream", time.monotonic)
    assert "hunter2" not in json.dumps(stats.snapshot())
    assert stats.snapshot()["source"] == "rtsp://admin:***@10.0.0.5/stream"
    stored = StoredPreset("p", {}, {}, "https://u:pw@hooks.example/x?token=abc&n=1", None, 0, 0)
    shown = PresetPublic.from_stored(stored).webhook_url
    assert shown == "https://u:***@hooks.example/x?token=%2A%2A%2A&n=1"
    message = "rtsp://cam:pa55@cam.local/live: connection refused"
    assert "pa55" not in mask_text(message)
    assert masked("http://plain.example/a") == "http://plain.example/a"


def upload(api: Api, clip: Clip, name: str = "walk.mp4") -> dict:
    response = api.client.post(
        "/v1/uploads", params={"filename": name}, content=clip.path.read_bytes()
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_deleting_a_job_deletes_its_upload_unless_another_job_uses_it(api: Api, clip: Clip):
    own = upload(api, clip)
    folder = api.settings.uploads_dir / own["id"]
    first, second = (
        api.client.post("/v1/jobs", json={"input": {"upload_id": own["id"]}}).json()
        for _ in range(2)
    )
    assert api.client.delete(f"/v1/uploads/{own['id']}").status_code == 409  # still queued
    assert api.client.delete(f"/v1/jobs/{first['id']}").status_code == 204
    assert folder.is_dir() and api.client.get(f"/v1/uploads/{own['id']}").status_code == 200
    assert api.client.delete(f"/v1/jobs/{second['id']}").status_code == 204
    assert not folder.exists()
    assert api.client.get(f"/v1/uploads/{own['id']}").status_code == 404
    # an upload no job used can be deleted outright
    lone = upload(api, clip)
    assert api.client.delete(f"/v1/uploads/{lone['id']}").status_code == 204
    assert not (api.settings.uploads_dir / lone["id"]).exists()


def test_originals_are_deleted_after_the_retention_period(settings: ServiceSettings):
    clock = FakeClock()
    kept = replace(settings, retain_originals_days=2)
    store = Store(kept, clock)
    try:
        old = store.uploads.create(filename="a.mp4", size=None, token_name="t")
        busy = store.uploads.create(filename="b.mp4", size=None, token_name="t")
        for u in (old, busy):
            (kept.uploads_dir / u.id).mkdir(parents=True)
            (kept.uploads_dir / u.id / u.filename).write_bytes(b"original")
        source = {"kind": "upload", "upload_id": busy.id}
        store.jobs.submit(JobSpec("combined", source, "b.mp4", upload_id=busy.id))
        clock.advance(86400)
        assert purge_originals(store, kept) == []
        clock.advance(86400 * 1.5)
        assert purge_originals(store, kept) == [old.id]  # the other one's job has not run
    finally:
        store.close()
    assert not (kept.uploads_dir / old.id).exists()
    assert (kept.uploads_dir / busy.id / "b.mp4").is_file()


def test_signed_links_are_short_lived_and_die_with_their_token(api: Api, clip: Clip):
    own = upload(api, clip)
    job = api.client.post("/v1/jobs", json={"input": {"upload_id": own["id"]}}).json()
    link = links.sign(api.settings.data_dir, job["id"], "source", "tester")
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])
    assert expires - time.time() <= 15 * 60 + 1
    assert httpx.get(api.url + link, headers={"Range": "bytes=0-9"}).status_code == 206
    # signed for someone who may not see the job: refused
    api.store.tokens.create("stranger")
    foreign = links.sign(api.settings.data_dir, job["id"], "source", "stranger")
    assert httpx.get(api.url + foreign).status_code == 404
    api.store.tokens.revoke("tester")
    assert httpx.get(api.url + link).status_code == 403


def test_a_second_patch_at_the_same_offset_is_refused(api: Api, clip: Clip):
    data = clip.path.read_bytes()
    session = api.client.post(
        "/v1/uploads/sessions", params={"filename": "walk.mp4", "size": len(data)}
    ).json()
    url = f"/v1/uploads/{session['id']}"
    release = threading.Event()
    answers: dict[str, int] = {}

    def slow_body():
        yield data[:1000]
        release.wait(30)
        yield data[1000:]

    def first() -> None:
        with httpx.Client(base_url=api.url, headers=api.client.headers, timeout=60) as c:
            answers["first"] = c.patch(
                url, headers={"Upload-Offset": "0"}, content=slow_body()
            ).status_code

    thread = threading.Thread(target=first)
    thread.start()
    try:
        wait_until(lambda: api.store.uploads.get(session["id"]).writing_until is not None, 30)
        second = api.client.patch(url, headers={"Upload-Offset": "0"}, content=data)
        assert second.status_code == 409
    finally:
        release.set()
        thread.join(60)
    assert answers["first"] == 200
    stored = api.settings.uploads_dir / session["id"] / "walk.mp4"
    assert stored.read_bytes() == data


def test_any_unicode_file_name_works(api: Api, worker: ThreadWorker, clip: Clip):
    name = "Überwachung 監視 カメラ.mp4"
    job = api.upload_job(clip.path, filename=name)
    assert job["source_name"] == "Überwachung_監視_カメラ.mp4"
    done = api.wait_state(job["id"], "finished", "error")
    assert done["state"] == "finished", done["error"]
    output = "Überwachung_監視_カメラ_redacted.mp4"
    assert output in done["outputs"]
    video = api.client.get(f"/v1/jobs/{job['id']}/outputs/{output}")
    assert video.status_code == 200 and len(video.content) > 1000
    assert "filename*=UTF-8''" in video.headers["content-disposition"]
