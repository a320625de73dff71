"""Worker processes: kill -9 mid-job loses nothing; failing jobs end in error; webhooks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from helpers import free_port, wait_until
from service.helpers import (
    Api,
    Clip,
    Hook,
    ThreadWorker,
    stop_process,
    wait_for_health,
    worker_process,
)
from veil.service.policy import Policy
from veil.service.webhooks import verify


@pytest.mark.slow
def test_a_worker_killed_mid_job_loses_nothing_and_the_job_finishes_once(api: Api, tmp_path: Path):
    from service.helpers import make_clip

    clip = make_clip(tmp_path / "long.mp4", frames=12)
    log = tmp_path / "workers.log"
    first = worker_process(api.settings, log, frame_delay=0.2)
    try:
        job = api.upload_job(clip.path)
        wait_until(
            lambda: api.client.get(f"/v1/jobs/{job['id']}").json()["frames_done"] > 2, 60, 0.02
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        # nothing was published by the dead worker
        assert not (api.settings.outputs_dir / job["id"]).exists()
        second = worker_process(api.settings, log)
        try:
            done = api.wait_state(job["id"], "finished", "error", timeout=90)
        finally:
            stop_process(second)
    finally:
        stop_process(first)
    assert done["state"] == "finished", (done, log.read_text()[-3000:])
    assert done["tries"] == 2
    events = api.client.get(f"/v1/jobs/{job['id']}/events").json()
    assert [e["state"] for e in events].count("finished") == 1
    workers = {e["worker"] for e in events if e["state"] == "processing"}
    assert len(workers) == 2
    outputs = sorted(p.name for p in (api.settings.outputs_dir / job["id"]).iterdir())
    assert outputs == ["long_annotations.json", "long_redacted.mp4", "long_report.json"]
    assert not list(api.settings.data_dir.rglob("*partial*"))


def test_a_job_that_keeps_failing_ends_in_error_with_the_reason(
    api: Api, worker: ThreadWorker, clip: Clip
):
    def broken(job, n: int) -> None:
        raise RuntimeError("the codec fell over")

    worker.runner.frame_hook = broken
    job = api.upload_job(clip.path)
    failed = api.wait_state(job["id"], "error", "finished", timeout=60)
    assert failed["state"] == "error"
    assert failed["tries"] == 3
    assert failed["error"] == "RuntimeError: the codec fell over (failed 3 of 3 tries)"
    assert not (api.settings.outputs_dir / job["id"]).exists()


def test_webhooks_are_signed_and_retried(api: Api, worker: ThreadWorker, clip: Clip):
    hook = Hook(fail_first=2)
    api.store.policy.put(Policy(webhook_allow=[hook.url]), "test")  # a loopback receiver
    try:
        response = api.client.post(
            "/v1/jobs/upload",
            params={"filename": "walk.mp4", "webhook_url": hook.url},
            content=clip.path.read_bytes(),
        )
        job = response.json()
        api.wait_state(job["id"], "finished")
        wait_until(lambda: len(hook.received) >= 3, 30)
    finally:
        hook.close()
    states = [r.json()["state"] for r in hook.received]
    assert sorted(states) == ["finished", "processing", "queued"]
    assert hook.answers >= 5  # two failed deliveries were tried again
    for r in hook.received:
        headers = {k.lower(): v for k, v in r.headers.items()}
        assert verify(
            "test-secret", headers["x-veil-timestamp"], r.body, headers["x-veil-signature"]
        )
        assert not verify("other", headers["x-veil-timestamp"], r.body, headers["x-veil-signature"])
        assert r.json()["job"]["id"] == job["id"]


@pytest.mark.slow
def test_veil_serve_with_workers_in_one_command(tmp_path: Path, clip: Clip):
    """The single-machine default: ``veil serve --workers 1`` runs jobs by itself."""
    data = tmp_path / "data"
    env = {**os.environ, "VEIL_POLL_SECONDS": "0.1"}
    made = subprocess.run(
        [sys.executable, "-m", "veil", "token", "create", "me", "--data", str(data)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    token = made.stdout.strip()
    port = free_port()
    serve = subprocess.Popen(
        [
            *(sys.executable, "-m", "veil", "serve", "--data", str(data)),
            *("--port", str(port), "--workers", "1"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url)
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        job = client.post(
            "/v1/jobs/upload", params={"filename": "walk.mp4"}, content=clip.path.read_bytes()
        ).json()

        def done() -> dict | None:
            current = client.get(f"/v1/jobs/{job['id']}").json()
            return current if current["state"] in ("finished", "error") else None

        assert wait_until(done, 60)["state"] == "finished"
        assert client.get("/docs").status_code == 200
        revoked = subprocess.run(
            [sys.executable, "-m", "veil", "token", "revoke", "me", "--data", str(data)],
            env=env,
            capture_output=True,
        )
        assert revoked.returncode == 0
        assert client.get("/v1/jobs").status_code == 401
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(20)
        except subprocess.TimeoutExpired:
            serve.kill()
            pytest.fail("veil serve did not stop on SIGINT")
    # serve waits for its workers to stop before it exits: nothing writes after this
    assert not list(data.rglob("*partial*"))
    # uploads, outputs, keys, the database: the owner's only
    loose = [p for p in [data, *data.rglob("*")] if p.stat().st_mode & 0o077]
    assert loose == [], [(str(p.relative_to(data)), oct(p.stat().st_mode)) for p in loose]
    assert (data / "custody.key").is_file()  # the report was signed


@pytest.mark.slow
def test_sigterm_lets_the_running_job_finish_within_the_grace_period(
    api: Api, clip: Clip, tmp_path: Path
):
    patient = replace(api.settings, shutdown_grace=120.0)
    proc = worker_process(patient, tmp_path / "w.log", frame_delay=0.2)
    try:
        job = api.upload_job(clip.path)
        wait_until(lambda: api.client.get(f"/v1/jobs/{job['id']}").json()["frames_done"] > 0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0
    finally:
        stop_process(proc)
    state = api.client.get(f"/v1/jobs/{job['id']}").json()
    assert state["state"] == "finished" and state["tries"] == 1


def test_after_the_grace_period_the_job_is_given_back(api: Api, clip: Clip, tmp_path: Path):
    hasty = replace(api.settings, shutdown_grace=0.0)
    proc = worker_process(hasty, tmp_path / "w.log", frame_delay=0.2)
    try:
        job = api.upload_job(clip.path)
        api.wait_state(job["id"], "processing")
        wait_until(lambda: api.client.get(f"/v1/jobs/{job['id']}").json()["frames_done"] > 0)
    finally:
        stop_process(proc)
    state = api.client.get(f"/v1/jobs/{job['id']}").json()
    assert state["state"] == "queued"  # given back at once, without waiting for the lease
    assert state["tries"] == 0
    assert not (api.settings.outputs_dir / job["id"]).exists()
