"""The job store without HTTP: leases, heartbeats, tries, unique keys, tokens (on a fake clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.helpers import FakeClock
from veil.service.access import Caller, Role
from veil.service.settings import ServiceSettings
from veil.service.store import Conflict, JobSpec, JobState, NotFound, Store


def spec(**kw) -> JobSpec:
    values = {
        "mode": "combined",
        "source": {"kind": "file", "path": "/nonexistent/a.mp4"},
        "source_name": "a.mp4",
    }
    return JobSpec(**{**values, **kw})


def test_claim_heartbeat_finish_by_the_lease_holder_only(clocked_store: Store):
    store = clocked_store
    job, created = store.jobs.submit(spec())
    assert created and job.state == JobState.QUEUED
    claimed = store.leases.claim("w1")
    assert claimed is not None and claimed.id == job.id and claimed.tries == 1
    assert store.leases.claim("w2") is None  # leased
    assert store.leases.heartbeat(job.id, "w1", 1, frames_done=3, frames_total=10)
    assert store.jobs.get(job.id).progress == 30.0
    assert not store.leases.heartbeat(job.id, "w2", 1)
    assert not store.leases.finish(job.id, "w2", 1, outputs=[], report={})
    assert store.leases.finish(job.id, "w1", 1, outputs=["x"], report={"frames": 10})
    done = store.jobs.get(job.id)
    assert done.state == JobState.FINISHED and done.progress == 100.0
    assert not store.leases.finish(job.id, "w1", 1, outputs=["x"], report={})  # only once
    assert [e["state"] for e in store.jobs.events(job.id)] == ["queued", "processing", "finished"]


def test_a_heartbeat_keeps_the_lease(clocked_store: Store, clock: FakeClock):
    store = clocked_store
    job, _ = store.jobs.submit(spec())
    store.leases.claim("w1")
    lease = store.settings.lease_seconds
    for _ in range(4):  # well past one lease in all, but renewed each time
        clock.advance(lease * 0.75)
        assert store.leases.heartbeat(job.id, "w1", 1)
    assert store.leases.claim("w2") is None
    clock.advance(lease + 0.1)
    assert store.leases.claim("w2") is not None


def test_an_expired_lease_is_taken_over_and_the_old_worker_is_fenced(
    clocked_store: Store, clock: FakeClock
):
    store = clocked_store
    job, _ = store.jobs.submit(spec())
    store.leases.claim("dead")
    clock.advance(store.settings.lease_seconds + 0.1)
    again = store.leases.claim("alive")
    assert again is not None and again.id == job.id and again.tries == 2
    assert not store.leases.heartbeat(job.id, "dead", 1)
    assert not store.leases.finish(job.id, "dead", 1, outputs=[], report={})
    assert store.leases.finish(job.id, "alive", 2, outputs=[], report={})


def test_a_job_whose_worker_keeps_dying_ends_in_error(settings: ServiceSettings, clock: FakeClock):
    store = Store(replace(settings, max_tries=2), clock)
    try:
        job, _ = store.jobs.submit(spec())
        for worker in ("a", "b"):
            assert store.leases.claim(worker) is not None
            clock.advance(settings.lease_seconds + 0.1)
        assert store.leases.claim("c") is None
        failed = store.jobs.get(job.id)
    finally:
        store.close()
    assert failed.state == JobState.ERROR
    assert "lease expired" in failed.error and "2 of 2" in failed.error


def test_failures_are_retried_after_a_growing_delay_then_error(
    clocked_store: Store, clock: FakeClock
):
    store = clocked_store
    job, _ = store.jobs.submit(spec())
    for attempt in (1, 2, 3):
        claimed = store.leases.claim("w")
        assert claimed is not None and claimed.tries == attempt
        store.leases.fail(job.id, "w", attempt, "RuntimeError: disk on fire", retry=True)
        if attempt < 3:
            assert store.leases.claim("w") is None  # not yet: it waits a little
            clock.advance(0.5 * 2 ** (attempt - 1))
    failed = store.jobs.get(job.id)
    assert failed.state == JobState.ERROR
    assert failed.error == "RuntimeError: disk on fire (failed 3 of 3 tries)"


def test_user_errors_are_not_retried(store: Store):
    job, _ = store.jobs.submit(spec())
    store.leases.claim("w")
    store.leases.fail(job.id, "w", 1, "a.mp4: not a video", retry=False)
    assert store.jobs.get(job.id).state == JobState.ERROR
    assert store.leases.claim("w") is None


def test_release_gives_the_job_back_without_counting_a_try(store: Store):
    job, _ = store.jobs.submit(spec())
    store.leases.claim("w")
    assert store.leases.release(job.id, "w", 1)
    again = store.leases.claim("v")
    assert again is not None and again.tries == 1


def test_a_unique_key_makes_one_job(store: Store):
    first, created = store.jobs.submit(spec(unique_key="s3://b/k#etag=1"))
    second, created_again = store.jobs.submit(spec(unique_key="s3://b/k#etag=1"))
    assert created and not created_again and first.id == second.id
    other, created_other = store.jobs.submit(spec(unique_key="s3://b/k#etag=2"))
    assert created_other and other.id != first.id


def test_cancel_retry_delete_rules(store: Store):
    job, _ = store.jobs.submit(spec())
    with pytest.raises(Conflict):
        store.jobs.retry(job.id)
    store.jobs.cancel(job.id)
    with pytest.raises(Conflict):
        store.jobs.cancel(job.id)
    assert store.jobs.retry(job.id).state == JobState.QUEUED
    store.jobs.delete(job.id)
    with pytest.raises(NotFound):
        store.jobs.get(job.id)


def test_tokens_are_hashed_and_revocable(store: Store):
    secret = store.tokens.create("ci", Role.REVIEWER, "records")
    assert store.tokens.caller(secret) == Caller("ci", Role.REVIEWER, "records")
    assert store.tokens.caller(secret + "x") is None
    with pytest.raises(Conflict):
        store.tokens.create("ci")
    store.tokens.revoke("ci")
    assert store.tokens.caller(secret) is None
    assert store.tokens.active("ci") is None
    with pytest.raises(NotFound):
        store.tokens.revoke("ci")
    with store.engine.connect() as c:
        row = c.exec_driver_sql("select hash from tokens").scalar()
    assert row != secret and len(row) == 64


def test_sqlite_runs_in_wal_mode(store: Store):
    with store.engine.connect() as c:
        assert c.exec_driver_sql("pragma journal_mode").scalar() == "wal"
