"""The REST API over real HTTP, with a worker running the real pipeline."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import numpy as np

from helpers import decode_frames, outside_mask, region_diff, shrink, wait_until
from service.helpers import Api, Clip, ThreadWorker, make_clip

ENCODE_NOISE = 4.0
BLURRED = 12.0


def assert_faces_hidden(original: Path, redacted: Path, boxes) -> None:
    before, after = decode_frames(original), decode_frames(redacted)
    assert len(after) == len(before)
    for index, (a, b) in enumerate(zip(before, after, strict=True)):
        for box in boxes[index]:
            assert region_diff(a, b, shrink(box)) > BLURRED, f"face visible in frame {index}"
        background = outside_mask(a.shape, boxes[index])
        assert np.abs(a.astype(int) - b.astype(int))[background].mean() < ENCODE_NOISE


def test_health_is_open(api: Api):
    response = httpx.get(f"{api.url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_missing_wrong_or_revoked_token_is_refused(api: Api):
    assert httpx.get(f"{api.url}/v1/jobs").status_code == 401
    wrong = {"Authorization": "Bearer veil_not-a-token"}
    assert httpx.get(f"{api.url}/v1/jobs", headers=wrong).status_code == 401
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert httpx.get(f"{api.url}/v1/presets", headers=basic).status_code == 401
    assert api.client.get("/v1/jobs").status_code == 200
    api.store.tokens.revoke("tester")
    assert api.client.get("/v1/jobs").status_code == 401
    # tokens are stored hashed: the secret itself is nowhere in the database
    assert api.token not in json.dumps(api.store.tokens.list())


def test_upload_job_progress_finished_download(
    api: Api, worker: ThreadWorker, clip: Clip, tmp_path: Path
):
    seen_progress: list[float] = []
    seen_partway = threading.Event()

    def hold(job, n: int) -> None:
        # the job waits after its first frame until its progress (which reaches
        # the store with each heartbeat) has been seen part-way
        seen_partway.wait(30)

    worker.runner.frame_hook = hold
    job = api.upload_job(clip.path)
    assert job["state"] in ("queued", "processing")
    assert job["source_name"] == "walk.mp4"

    def finished() -> dict | None:
        current = api.client.get(f"/v1/jobs/{job['id']}").json()
        seen_progress.append(current["progress"])
        if 0 < current["progress"] < 100:
            seen_partway.set()
        return current if current["state"] == "finished" else None

    done = wait_until(finished, 60, 0.05)
    assert any(0 < p < 100 for p in seen_progress), seen_progress
    assert done["progress"] == 100
    assert done["tries"] == 1
    assert sorted(done["outputs"]) == [
        "walk_annotations.json",
        "walk_redacted.mp4",
        "walk_report.json",
    ]
    listing = api.client.get(f"/v1/jobs/{job['id']}/outputs").json()
    assert [o["name"] for o in listing["outputs"]] == sorted(done["outputs"])

    video = api.client.get(f"/v1/jobs/{job['id']}/outputs/walk_redacted.mp4")
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    redacted = tmp_path / "redacted.mp4"
    redacted.write_bytes(video.content)
    assert_faces_hidden(clip.path, redacted, clip.boxes)

    report = api.client.get(f"/v1/jobs/{job['id']}/report").json()
    assert report["who"] == "tester"
    assert report["frames"] == len(clip.boxes)
    assert report["faces"] == 1
    assert report["damaged_frames"] == []
    assert report["settings"]["mode"] == "combined"
    assert report["timings"]["run_seconds"] > 0
    annotations = api.client.get(f"/v1/jobs/{job['id']}/outputs/walk_annotations.json").json()
    assert annotations["facesDetected"] == 1


def test_preset_crud_and_a_job_that_uses_it(api: Api, worker: ThreadWorker, clip: Clip):
    body = {
        "name": "review",
        "preset": {"version": "1.0", "options": {"mode": "analyze"}},
        "detector": {"threshold": 0.3},
    }
    created = api.client.post("/v1/presets", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["mode"] == "analyze"
    assert api.client.post("/v1/presets", json=body).status_code == 409
    assert [p["name"] for p in api.client.get("/v1/presets").json()] == ["review"]

    azure_v3 = {
        "@odata.type": "#Microsoft.Media.FaceDetectorPreset",
        "mode": "Combined",
        "blurType": "Black",
    }
    replaced = api.client.put("/v1/presets/review", json={"preset": azure_v3})
    assert replaced.status_code == 200
    assert replaced.json()["blur"] == "black"
    assert api.client.get("/v1/presets/review").json()["preset"] == azure_v3

    bad = api.client.put("/v1/presets/bad", json={"preset": {"mode": "combined", "blurTpye": "x"}})
    assert bad.status_code == 422
    assert "blurTpye" in bad.json()["detail"]
    assert api.client.put("/v1/presets/..%2Fx", json={"preset": {}}).status_code in (404, 422)

    api.client.put(
        "/v1/presets/review", json={"preset": {"version": "1.0", "options": {"mode": "analyze"}}}
    )
    job = api.upload_job(clip.path, preset="review")
    done = api.wait_state(job["id"], "finished", "error")
    assert done["state"] == "finished", done["error"]
    assert done["mode"] == "analyze"
    assert "walk_thumb000001.jpg" in done["outputs"]
    assert "walk_redacted.mp4" not in done["outputs"]

    assert api.client.delete("/v1/presets/review").status_code == 204
    assert api.client.get("/v1/presets/review").status_code == 404
    assert api.client.post(
        "/v1/jobs/upload", params={"filename": "a.mp4", "preset": "review"}, content=b"x"
    ).status_code == 404  # fmt: skip


def test_cancel_a_running_job_leaves_no_output(api: Api, worker: ThreadWorker, clip: Clip):
    canceled = threading.Event()
    # the job waits at its first frame until the test has canceled it
    worker.runner.frame_hook = lambda job, n: canceled.wait(30)
    job = api.upload_job(clip.path)
    api.wait_state(job["id"], "processing")
    wait_until(lambda: api.client.get(f"/v1/jobs/{job['id']}").json()["frames_done"] > 0)
    response = api.client.post(f"/v1/jobs/{job['id']}/cancel")
    canceled.set()
    assert response.status_code == 200
    assert response.json()["state"] == "canceled"
    # the worker notices, stops, and cleans its work folder: the last thing it does
    # with a job (JobRunner.run's finally), so nothing of it is written after this
    wait_until(lambda: not (api.settings.work_dir / job["id"]).exists(), 30)
    after = api.client.get(f"/v1/jobs/{job['id']}").json()
    assert after["state"] == "canceled"
    assert after["outputs"] == []
    assert not (api.settings.outputs_dir / job["id"]).exists()
    assert not list(api.settings.data_dir.rglob("*partial*"))
    assert api.client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 409
    # retry queues it again and it now finishes
    worker.runner.frame_hook = None
    assert api.client.post(f"/v1/jobs/{job['id']}/retry").json()["state"] == "queued"
    assert api.wait_state(job["id"], "finished", "error")["state"] == "finished"
    states = [e["state"] for e in api.client.get(f"/v1/jobs/{job['id']}/events").json()]
    assert states == ["queued", "processing", "canceled", "queued", "processing", "finished"]


def test_cancel_a_queued_job_and_delete(api: Api, clip: Clip):
    job = api.upload_job(clip.path)  # no worker: it stays queued
    assert api.client.post(f"/v1/jobs/{job['id']}/cancel").json()["state"] == "canceled"
    assert api.client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert api.client.get(f"/v1/jobs/{job['id']}").status_code == 404


def test_list_jobs_with_filters(api: Api, clip: Clip):
    api.client.put("/v1/presets/p1", json={"preset": {}})
    first = api.upload_job(clip.path)
    second = api.upload_job(clip.path, preset="p1")
    api.client.post(f"/v1/jobs/{first['id']}/cancel")
    listed = api.client.get("/v1/jobs").json()
    assert [j["id"] for j in listed["jobs"]] == [second["id"], first["id"]]
    queued = api.client.get("/v1/jobs", params={"state": "queued"}).json()["jobs"]
    assert [j["id"] for j in queued] == [second["id"]]
    both = api.client.get("/v1/jobs", params=[("state", "queued"), ("state", "canceled")])
    assert both.json()["count"] == 2
    assert api.client.get("/v1/jobs", params={"preset": "p1"}).json()["count"] == 1
    later = api.client.get("/v1/jobs", params={"created_after": second["created_at"]}).json()
    assert [j["id"] for j in later["jobs"]] == [second["id"]]
    assert api.client.get("/v1/jobs", params={"state": "bogus"}).status_code == 422


def test_path_traversal_is_refused(api: Api, clip: Clip):
    response = api.client.post(
        "/v1/uploads", params={"filename": "../../../etc/walk.mp4"}, content=clip.path.read_bytes()
    )
    assert response.status_code == 201, response.text
    upload = response.json()
    assert upload["filename"] == "walk.mp4"
    stored = list(api.settings.uploads_dir.rglob("walk.mp4"))
    assert stored == [api.settings.uploads_dir / upload["id"] / "walk.mp4"]
    nasty = api.client.post(
        "/v1/uploads", params={"filename": "..\\..\\a b.mp4"}, content=clip.path.read_bytes()
    )
    assert nasty.json()["filename"] == "a_b.mp4"
    job = api.client.post("/v1/jobs", json={"input": {"upload_id": upload["id"]}}).json()
    for name in ("../veil.db", "..%2Fveil.db", "%2e%2e%2fveil.db", "walk.mp4"):
        got = api.client.get(f"/v1/jobs/{job['id']}/outputs/{name}")
        assert got.status_code == 404, name
    assert api.client.get("/v1/jobs/..%2F..%2Fveil.db").status_code == 404


def test_oversize_and_non_media_uploads_are_refused(api: Api, tmp_path: Path):
    limit = api.settings.max_upload_bytes
    big = api.client.post("/v1/uploads", params={"filename": "big.mp4"}, content=b"0" * (limit + 1))
    assert big.status_code == 413

    def chunks():  # no Content-Length: the limit is counted while streaming
        for _ in range(limit // 65536 + 2):
            yield b"0" * 65536

    streamed = api.client.post("/v1/uploads", params={"filename": "big.mp4"}, content=chunks())
    assert streamed.status_code == 413
    assert api.client.post(
        "/v1/uploads/sessions", params={"filename": "big.mp4", "size": limit + 1}
    ).status_code == 413  # fmt: skip

    fake = api.client.post("/v1/uploads", params={"filename": "x.mp4"}, content=b"not a video")
    assert fake.status_code == 422
    assert "not a usable file" in fake.json()["detail"]
    script = api.client.post("/v1/uploads", params={"filename": "x.sh"}, content=b"#!/bin/sh")
    assert script.status_code == 415
    junk = api.client.post("/v1/jobs/upload", params={"filename": "x.mp4"}, content=b"no")
    assert junk.status_code == 422
    # nothing refused is left on disk or queued
    leftovers = [p for p in api.settings.uploads_dir.rglob("*") if p.is_file()]
    assert leftovers == []
    assert api.client.get("/v1/jobs").json()["count"] == 0


def test_chunked_upload_resumes(api: Api, worker: ThreadWorker, clip: Clip):
    data = clip.path.read_bytes()
    session = api.client.post(
        "/v1/uploads/sessions", params={"filename": "walk.mp4", "size": len(data)}
    ).json()
    url = f"/v1/uploads/{session['id']}"
    half = len(data) // 2
    first = api.client.patch(url, headers={"Upload-Offset": "0"}, content=data[:half])
    assert first.json()["received"] == half
    # a client that lost track asks where to resume; a wrong offset is refused
    assert api.client.get(url).json()["received"] == half
    assert api.client.patch(url, headers={"Upload-Offset": "0"}, content=data).status_code == 409
    last = api.client.patch(url, headers={"Upload-Offset": str(half)}, content=data[half:])
    assert last.json()["complete"] is True
    assert last.json()["kind"] == "video"
    job = api.client.post("/v1/jobs", json={"input": {"upload_id": session["id"]}}).json()
    assert api.wait_state(job["id"], "finished", "error")["state"] == "finished"


def test_redact_job_with_edited_annotations_and_ids(api: Api, worker: ThreadWorker, tmp_path: Path):
    clip = make_clip(tmp_path / "two.mp4", frames=6)
    analysis = api.upload_job(clip.path, mode="analyze")
    assert api.wait_state(analysis["id"], "finished", "error")["state"] == "finished"
    annotations = api.client.get(f"/v1/jobs/{analysis['id']}/outputs/two_annotations.json")
    ann = api.client.post(
        "/v1/uploads", params={"filename": "two_annotations.json"}, content=annotations.content
    ).json()
    assert ann["kind"] == "annotations"
    video = api.client.post(
        "/v1/uploads", params={"filename": "two.mp4"}, content=clip.path.read_bytes()
    ).json()
    body = {
        "input": {"upload_id": video["id"]},
        "mode": "redact",
        "annotations_upload_id": ann["id"],
        "ids": [1],
    }
    job = api.client.post("/v1/jobs", json=body).json()
    done = api.wait_state(job["id"], "finished", "error")
    assert done["state"] == "finished", done["error"]
    out = tmp_path / "out.mp4"
    out.write_bytes(api.client.get(f"/v1/jobs/{job['id']}/outputs/two_redacted.mp4").content)
    assert_faces_hidden(clip.path, out, clip.boxes)

    unknown = api.client.post("/v1/jobs", json={**body, "ids": [99]}).json()
    failed = api.wait_state(unknown["id"], "error", "finished")
    assert failed["state"] == "error"
    assert "99" in failed["error"]
    assert failed["tries"] == 1  # a user error is not retried
    no_annotations = api.client.post("/v1/jobs", json={**body, "annotations_upload_id": None})
    assert no_annotations.status_code == 422


def test_url_inputs_only_from_the_allow_list(api: Api, clip: Clip):
    response = api.client.post("/v1/jobs", json={"input": {"url": "http://127.0.0.1:9/x.mp4"}})
    assert response.status_code == 422
    assert "allow-list" in response.json()["detail"]


def test_url_input_on_the_allow_list_is_downloaded(
    settings, store, worker: ThreadWorker, clip: Clip
):
    import functools
    import threading
    from dataclasses import replace
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from service.helpers import serve_app

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(clip.path.parent))
    media = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=media.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{media.server_address[1]}/"
    allowed = replace(settings, url_allowlist=(base,))
    worker.settings = allowed
    worker.runner.settings = allowed
    token = store.tokens.create("url")
    try:
        with (
            serve_app(allowed) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
        ):
            api = Api(url, token, store, allowed, http)
            job = http.post("/v1/jobs", json={"input": {"url": base + "walk.mp4"}}).json()
            done = api.wait_state(job["id"], "finished", "error")
            assert done["state"] == "finished", done["error"]
            assert "walk_redacted.mp4" in done["outputs"]
            missing = http.post("/v1/jobs", json={"input": {"url": base + "gone.mp4"}}).json()
            failed = api.wait_state(missing["id"], "error", "finished")
            assert "404" in failed["error"]
    finally:
        media.shutdown()
        media.server_close()
