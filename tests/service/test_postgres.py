"""The same store on PostgreSQL: a throwaway server started here, or $VEIL_TEST_DATABASE_URL.

Skipped when neither is available (PostgreSQL's ``initdb`` and ``pg_ctl`` not installed).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from helpers import free_port
from service.helpers import Api, Clip, FakeClock, ThreadWorker, serve_app
from veil.service.settings import ServiceSettings
from veil.service.store import JobSpec, JobState, Store


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root: run it as the postgres user when we are root
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("VEIL_TEST_DATABASE_URL")
    if external:
        yield external
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed (initdb, pg_ctl) and no $VEIL_TEST_DATABASE_URL")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user for initdb")
    folder = Path(tempfile.gettempdir()) / f"veil-pg-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pgdata = folder / "data"
    port = free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(pgdata), "-U", "veil", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    log = str(folder / "log")
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(pgdata), "-o", options, "-l", log, "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=veil dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE veil")
        yield f"postgresql+psycopg://veil@127.0.0.1:{port}/veil"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(pgdata), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_settings(settings: ServiceSettings, postgres_url: str) -> ServiceSettings:
    return replace(settings, database_url=postgres_url)


def test_leases_and_unique_keys_on_postgres(pg_settings: ServiceSettings):
    clock = FakeClock()
    store = Store(pg_settings, clock)
    try:
        key = f"s3://b/{uuid.uuid4().hex}#etag=1"
        spec = JobSpec("combined", {"kind": "file", "path": "/x.mp4"}, "x.mp4", unique_key=key)
        job, created = store.jobs.submit(spec)
        again, created_again = store.jobs.submit(spec)
        assert created and not created_again and again.id == job.id
        claimed = store.leases.claim("w1")
        assert claimed is not None
        assert store.leases.heartbeat(
            claimed.id, "w1", claimed.tries, frames_done=1, frames_total=4
        )
        clock.advance(pg_settings.lease_seconds + 0.1)
        taken = store.leases.claim("w2")
        assert taken is not None and taken.id == claimed.id and taken.tries == claimed.tries + 1
        assert not store.leases.finish(claimed.id, "w1", claimed.tries, outputs=[], report={})
        assert store.leases.finish(taken.id, "w2", taken.tries, outputs=[], report={})
        assert store.jobs.get(taken.id).state == JobState.FINISHED
    finally:
        store.close()


def test_a_job_end_to_end_on_postgres(pg_settings: ServiceSettings, clip: Clip):
    store = Store(pg_settings)
    token = store.tokens.create(f"pg-{uuid.uuid4().hex[:6]}")
    worker = ThreadWorker(pg_settings).start()
    try:
        with (
            serve_app(pg_settings) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
        ):
            api = Api(url, token, store, pg_settings, http)
            job = api.upload_job(clip.path)
            done = api.wait_state(job["id"], "finished", "error")
            assert done["state"] == "finished", done["error"]
            video = http.get(f"/v1/jobs/{job['id']}/outputs/walk_redacted.mp4")
            assert video.status_code == 200 and len(video.content) > 1000
    finally:
        worker.close()
        store.close()


def test_sizes_over_4_gib_on_postgres_and_an_old_32_bit_table_is_widened(
    pg_settings: ServiceSettings,
):
    big = 5 * 1024**3
    store = Store(pg_settings)
    try:
        with store.engine.begin() as c:  # as a veil before 64-bit sizes made it
            c.exec_driver_sql("ALTER TABLE uploads ALTER COLUMN size TYPE INTEGER")
            c.exec_driver_sql("ALTER TABLE uploads ALTER COLUMN received TYPE INTEGER")
    finally:
        store.close()
    store = Store(pg_settings)  # opening it brings the table up to date
    try:
        made = store.uploads.create(filename="huge.mp4", size=big, token_name="t")
        assert store.uploads.start_chunk(made.id, offset=0, hold=60)
        store.uploads.end_chunk(made.id, received=big - 1)
        again = store.uploads.get(made.id)
        assert (again.size, again.received) == (big, big - 1)
    finally:
        store.close()
