"""Storage-event triggers: a watched folder, a watched bucket, pushed S3 events."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from service.conftest import (
    Api,
    Clip,
    S3Server,
    ThreadWorker,
    serve_app,
    wait_until,
)
from veil.service import s3
from veil.service.policy import Policy
from veil.service.settings import ServiceSettings
from veil.service.store import FINAL_STATES, JobState, Store
from veil.service.watch import FolderWatcher, S3Watcher, watch_loop


def _all_settled(store: Store) -> bool:
    jobs = store.jobs.list()
    return bool(jobs) and all(j.state in FINAL_STATES for j in jobs)


def write_slowly(src: Path, dst: Path, pieces: int = 4) -> None:
    data = src.read_bytes()
    step = len(data) // pieces + 1
    with open(dst, "wb") as f:
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            threading.Event().wait(0.15)


def test_a_file_dropped_in_a_watched_folder_is_redacted_once(
    store: Store, worker: ThreadWorker, clip: Clip, tmp_path: Path
):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    (inbox / "notes.txt").write_text("not media")
    watcher = FolderWatcher(store, inbox, outbox, settle=0.3)
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_loop, args=(watcher,), kwargs={"interval": 0.1, "stop": stop}
    )
    thread.start()
    try:
        write_slowly(clip.path, inbox / "cam 1.mp4")  # taken only once fully written
        # outputs are published before the job is marked finished: wait for the state
        wait_until(lambda: _all_settled(store), 60)
    finally:
        stop.set()
        thread.join()
    jobs = store.jobs.list()
    assert len(jobs) == 1
    assert jobs[0].state == JobState.FINISHED
    assert sorted(p.name for p in outbox.iterdir()) == [
        "cam_1_annotations.json",
        "cam_1_redacted.mp4",
        "cam_1_report.json",
    ]
    assert len(json.loads((outbox / "cam_1_report.json").read_text())["face_ids"]) == 1


def test_a_restarted_watcher_skips_finished_files_and_takes_new_ones(
    store: Store, clip: Clip, tmp_path: Path
):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copy(clip.path, inbox / "a.mp4")

    def settled_scan(watcher: FolderWatcher) -> list[str]:
        watcher.scan()
        threading.Event().wait(0.25)
        return watcher.scan()

    first = FolderWatcher(store, inbox, outbox, settle=0.2)
    assert len(settled_scan(first)) == 1
    # down: a new file arrives; then a new watcher (same store) starts
    shutil.copy(clip.path, inbox / "b.mp4")
    second = FolderWatcher(store, inbox, outbox, settle=0.2)
    queued = settled_scan(second)
    assert [store.jobs.get(j).source_name for j in queued] == ["b.mp4"]
    assert len(store.jobs.list()) == 2
    # a file replaced by new content is a new job
    shutil.copy(clip.path, inbox / "a.mp4")
    os.utime(inbox / "a.mp4", ns=(1, 1))
    assert len(settled_scan(second)) == 1


def test_veil_watch_command_on_a_folder(clip: Clip, tmp_path: Path):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    env = {**os.environ, "VEIL_POLL_SECONDS": "0.1"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "veil", "watch", str(inbox), "--out", str(outbox)),
            *("--data", str(tmp_path / "data"), "--interval", "0.2", "--settle", "0.3"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "watch.log", "wb"),  # noqa: SIM115 - the child holds it
    )
    try:
        shutil.copy(clip.path, inbox / "walk.mp4")
        wait_until(lambda: (outbox / "walk_redacted.mp4").exists() or proc.poll() is not None, 90)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    log = (tmp_path / "watch.log").read_text()
    assert (outbox / "walk_redacted.mp4").exists(), log
    assert proc.returncode == 0, log


# -- S3 (SeaweedFS) ---------------------------------------------------------------


def _bucket(server: S3Server, name: str) -> None:
    server.client().create_bucket(Bucket=name)


def test_an_object_put_in_a_watched_bucket_is_redacted(
    s3_settings: ServiceSettings, s3_server: S3Server, clip: Clip, tmp_path: Path
):
    client = s3_server.client()
    _bucket(s3_server, "raw1")
    _bucket(s3_server, "redacted1")
    store = Store(s3_settings)
    worker = ThreadWorker(s3_settings).start()
    watcher = S3Watcher(store, s3_settings, "s3://raw1/cams", "s3://redacted1/out")
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_loop, args=(watcher,), kwargs={"interval": 0.2, "stop": stop}
    )
    thread.start()
    try:
        client.put_object(Bucket="raw1", Key="cams/site/walk.mp4", Body=clip.path.read_bytes())
        client.put_object(Bucket="raw1", Key="cams/readme.txt", Body=b"x")
        client.put_object(Bucket="raw1", Key="other/walk.mp4", Body=clip.path.read_bytes())

        def listed() -> list[str]:
            found = client.list_objects_v2(Bucket="redacted1", Prefix="out/").get("Contents", [])
            return sorted(o["Key"] for o in found)

        wait_until(lambda: _all_settled(store), 60)
    finally:
        stop.set()
        thread.join()
        worker.close()
    assert listed() == [
        "out/site/walk_annotations.json",
        "out/site/walk_redacted.mp4",
        "out/site/walk_report.json",
    ]
    jobs = store.jobs.list()
    assert len(jobs) == 1 and jobs[0].state == JobState.FINISHED
    local = tmp_path / "r.mp4"
    client.download_file("redacted1", "out/site/walk_redacted.mp4", str(local))
    from service.test_api import assert_faces_hidden

    assert_faces_hidden(clip.path, local, clip.boxes)
    store.close()


def _event(bucket: str, key: str, etag: str, version: str | None = None) -> dict:
    obj = {"key": key.replace(" ", "+"), "eTag": etag, "size": 1}
    if version:
        obj["versionId"] = version
    return {
        "EventName": "s3:ObjectCreated:Put",
        "Key": f"{bucket}/{key}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": "s3:ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": obj},
            }
        ],
    }


def test_a_duplicated_s3_event_makes_one_job_and_its_output(
    s3_settings: ServiceSettings, s3_server: S3Server, clip: Clip
):
    client = s3_server.client()
    _bucket(s3_server, "raw2")
    _bucket(s3_server, "redacted2")
    store = Store(s3_settings)
    token = store.tokens.create("minio")
    watcher = S3Watcher(store, s3_settings, "s3://raw2/", "s3://redacted2/")
    put = client.put_object(Bucket="raw2", Key="a b.mp4", Body=clip.path.read_bytes())
    etag = put["ETag"].strip('"')
    import httpx

    with serve_app(s3_settings) as url:
        headers = {"Authorization": f"Bearer {token}"}
        event = _event("raw2", "a b.mp4", etag)
        answers = [
            httpx.post(f"{url}/v1/events/s3", json=event, headers=headers).json() for _ in range(3)
        ]
        assert httpx.post(f"{url}/v1/events/s3", json=event).status_code == 401
        ignored = httpx.post(
            f"{url}/v1/events/s3", json=_event("raw2", "notes.txt", "e1"), headers=headers
        ).json()
        assert ignored["jobs"] == [] and "suffix" in ignored["ignored"][0]["ignored"]
        elsewhere = httpx.post(
            f"{url}/v1/events/s3", json=_event("nobody", "x.mp4", "e2"), headers=headers
        ).json()
        assert elsewhere["jobs"] == []
    job_ids = {a["jobs"][0]["job"] for a in answers}
    assert len(job_ids) == 1
    assert [a["jobs"][0]["created"] for a in answers] == [True, False, False]
    # the listing finds the same object version: still one job
    assert watcher.scan() == []
    assert len(store.jobs.list()) == 1
    worker = ThreadWorker(s3_settings).start()
    try:
        job_id = job_ids.pop()
        wait_until(lambda: store.jobs.get(job_id).state in ("finished", "error"), 60)
    finally:
        worker.close()
    assert store.jobs.get(job_id).state == JobState.FINISHED, store.jobs.get(job_id).error
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="redacted2")["Contents"])
    assert keys == ["a_b_annotations.json", "a_b_redacted.mp4", "a_b_report.json"]
    store.close()


def test_api_job_from_s3_with_output_to_s3_and_download(
    s3_settings: ServiceSettings, s3_server: S3Server, clip: Clip
):
    client = s3_server.client()
    _bucket(s3_server, "in3")
    client.put_object(Bucket="in3", Key="walk.mp4", Body=clip.path.read_bytes())
    store = Store(s3_settings)
    token = store.tokens.create("t")
    store.policy.put(Policy(s3_allow={"*": ["s3://in3/"]}), "test")  # operators: only there
    worker = ThreadWorker(s3_settings).start()
    import httpx

    try:
        with (
            serve_app(s3_settings) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
        ):
            body = {"input": {"s3": "s3://in3/walk.mp4"}, "output": "s3://in3/done/"}
            job = http.post("/v1/jobs", json=body).json()
            api = Api(url, token, store, s3_settings, http)
            done = api.wait_state(job["id"], "finished", "error")
            assert done["state"] == "finished", done["error"]
            got = http.get(f"/v1/jobs/{job['id']}/outputs/walk_report.json")
            assert got.status_code == 200 and got.json()["frames"] == len(clip.boxes)
            bad = http.post("/v1/jobs", json={**body, "output": "/etc"})
            assert bad.status_code == 422
    finally:
        worker.close()
        store.close()


def test_multipart_upload_of_a_large_output(
    s3_settings: ServiceSettings, s3_server: S3Server, tmp_path: Path
):
    from dataclasses import replace

    _bucket(s3_server, "big4")
    settings = replace(s3_settings, s3_multipart_bytes=s3.MIN_PART_BYTES)
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(s3.MIN_PART_BYTES * 2 + 1000))
    s3.upload(settings, path, s3.S3Location("big4", "x/big.mp4"), "video/mp4", "job1")
    head = s3_server.client().head_object(Bucket="big4", Key="x/big.mp4")
    assert head["ContentLength"] == path.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # three parts
