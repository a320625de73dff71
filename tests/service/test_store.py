"""The job store without HTTP: leases, heartbeats, tries, unique keys, tokens."""

from __future__ import annotations

import time

import pytest

from veil.service.settings import ServiceSettings
from veil.service.store import Conflict, JobSpec, JobState, NotFound, Store


def spec(**kw) -> JobSpec:
    values = {
        "mode": "combined",
        "source": {"kind": "file", "path": "/nonexistent/a.mp4"},
        "source_name": "a.mp4",
    }
    return JobSpec(**{**values, **kw})


def test_claim_heartbeat_finish_by_the_lease_holder_only(store: Store):
    job, created = store.submit(spec())
    assert created and job.state == JobState.QUEUED
    claimed = store.claim("w1")
    assert claimed is not None and claimed.id == job.id and claimed.tries == 1
    assert store.claim("w2") is None  # leased
    assert store.heartbeat(job.id, "w1", 1, frames_done=3, frames_total=10)
    assert store.get_job(job.id).progress == 30.0
    assert not store.heartbeat(job.id, "w2", 1)
    assert not store.finish(job.id, "w2", 1, outputs=[], report={})
    assert store.finish(job.id, "w1", 1, outputs=["x"], report={"frames": 10})
    done = store.get_job(job.id)
    assert done.state == JobState.FINISHED and done.progress == 100.0
    assert not store.finish(job.id, "w1", 1, outputs=["x"], report={})  # only once
    assert [e["state"] for e in store.events(job.id)] == ["queued", "processing", "finished"]


def test_an_expired_lease_is_taken_over_and_the_old_worker_is_fenced(store: Store):
    job, _ = store.submit(spec())
    store.claim("dead")
    time.sleep(store.settings.lease_seconds + 0.1)
    again = store.claim("alive")
    assert again is not None and again.id == job.id and again.tries == 2
    assert not store.heartbeat(job.id, "dead", 1)
    assert not store.finish(job.id, "dead", 1, outputs=[], report={})
    assert store.finish(job.id, "alive", 2, outputs=[], report={})


def test_a_job_whose_worker_keeps_dying_ends_in_error(settings: ServiceSettings):
    from dataclasses import replace

    store = Store(replace(settings, max_tries=2))
    job, _ = store.submit(spec())
    for worker in ("a", "b"):
        assert store.claim(worker) is not None
        time.sleep(settings.lease_seconds + 0.1)
    assert store.claim("c") is None
    failed = store.get_job(job.id)
    assert failed.state == JobState.ERROR
    assert "lease expired" in failed.error and "2 of 2" in failed.error


def test_failures_are_retried_then_error_with_the_reason(store: Store):
    job, _ = store.submit(spec())
    for attempt in (1, 2, 3):
        claimed = None
        deadline = time.time() + 10
        while claimed is None and time.time() < deadline:  # retries wait a little
            claimed = store.claim("w")
            time.sleep(0.05)
        assert claimed is not None and claimed.tries == attempt
        store.fail(job.id, "w", attempt, "RuntimeError: disk on fire", retry=True)
    failed = store.get_job(job.id)
    assert failed.state == JobState.ERROR
    assert failed.error == "RuntimeError: disk on fire (failed 3 of 3 tries)"


def test_user_errors_are_not_retried(store: Store):
    job, _ = store.submit(spec())
    store.claim("w")
    store.fail(job.id, "w", 1, "a.mp4: not a video", retry=False)
    assert store.get_job(job.id).state == JobState.ERROR
    assert store.claim("w") is None


def test_release_gives_the_job_back_without_counting_a_try(store: Store):
    job, _ = store.submit(spec())
    store.claim("w")
    assert store.release(job.id, "w", 1)
    again = store.claim("v")
    assert again is not None and again.tries == 1


def test_a_unique_key_makes_one_job(store: Store):
    first, created = store.submit(spec(unique_key="s3://b/k#etag=1"))
    second, created_again = store.submit(spec(unique_key="s3://b/k#etag=1"))
    assert created and not created_again and first.id == second.id
    other, created_other = store.submit(spec(unique_key="s3://b/k#etag=2"))
    assert created_other and other.id != first.id


def test_cancel_retry_delete_rules(store: Store):
    job, _ = store.submit(spec())
    with pytest.raises(Conflict):
        store.retry(job.id)
    store.cancel(job.id)
    with pytest.raises(Conflict):
        store.cancel(job.id)
    assert store.retry(job.id).state == JobState.QUEUED
    store.delete_job(job.id)
    with pytest.raises(NotFound):
        store.get_job(job.id)


def test_tokens_are_hashed_and_revocable(store: Store):
    secret = store.create_token("ci")
    assert store.token_name(secret) == "ci"
    assert store.token_name(secret + "x") is None
    with pytest.raises(Conflict):
        store.create_token("ci")
    store.revoke_token("ci")
    assert store.token_name(secret) is None
    with pytest.raises(NotFound):
        store.revoke_token("ci")
    row = store.engine.connect().exec_driver_sql("select hash from tokens").scalar()
    assert row != secret and len(row) == 64


def test_sqlite_runs_in_wal_mode(store: Store):
    with store.engine.connect() as c:
        assert c.exec_driver_sql("pragma journal_mode").scalar() == "wal"
