"""Tenants apart: S3 only under the prefixes the policy gives a team, no job replaces
another's object, an input naming an earlier job is checked as the original, and a
redaction keeps the analysed job's team (issue #22, failures 1 to 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from service.conftest import Api, Clip, S3Server, ThreadWorker, serve_app
from veil.service.access import Role
from veil.service.policy import Policy
from veil.service.store import JobSpec, Store

BOX = {"version": "1.0", "options": {"blurType": "Box"}}


@dataclass
class Teams:
    anna: httpx.Client  # operator, team A
    ben: httpx.Client  # operator, team B
    boss: httpx.Client  # admin, team B


def clients(url: str, store: Store) -> Teams:
    def client(name: str, role: Role, team: str) -> httpx.Client:
        token = store.tokens.create(name, role, team)
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    return Teams(
        client("anna", Role.OPERATOR, "A"),
        client("ben", Role.OPERATOR, "B"),
        client("boss", Role.ADMIN, "B"),
    )


@pytest.fixture
def teams(api: Api) -> Iterator[Teams]:
    made = clients(api.url, api.store)
    yield made
    for c in (made.anna, made.ben, made.boss):
        c.close()


def test_s3_is_reachable_only_under_the_prefixes_of_the_callers_team(api: Api, teams: Teams):
    allow = {"A": ["s3://teama-private/evidence/"], "B": ["s3://teamb/in"], "*": ["s3://shared/"]}
    api.store.policy.put(Policy(s3_allow=allow), "test")

    def post(client: httpx.Client, url: str, output: str | None = None) -> int:
        body = {"input": {"s3": url}, "azure_preset": BOX, "output": output}
        return client.post("/v1/jobs", json=body).status_code

    assert post(teams.ben, "s3://teama-private/evidence/case1.mp4") == 403
    assert post(teams.ben, "s3://teamb/in/../../teama-private/evidence/case1.mp4") == 422
    assert post(teams.ben, "s3://teamb/inside/case1.mp4") == 403  # "in" is a folder, not a stem
    assert post(teams.ben, "s3://teamb/in/x.mp4", output="s3://teama-private/evidence/") == 403
    assert post(teams.anna, "s3://teama-private//evidence/./case1.mp4") == 202  # normalised
    assert post(teams.ben, "s3://teamb/in/case1.mp4", output="s3://shared/out/") == 202
    assert post(teams.boss, "s3://teama-private/evidence/case1.mp4") == 202  # admins: all
    queued = api.store.jobs.list(token_name="anna")[0]
    assert queued.source["key"] == "evidence/case1.mp4"
    bad = api.client.put("/v1/policy", json={"s3_allow": {"A": ["s3://b/x/../y"]}})
    assert bad.status_code == 422


def test_an_earlier_job_as_input_is_checked_as_its_original(api: Api, teams: Teams, clip: Clip):
    upload = teams.anna.post(
        "/v1/uploads", params={"filename": "walk.mp4"}, content=clip.path.read_bytes()
    ).json()
    annas = teams.anna.post(
        "/v1/jobs", json={"input": {"upload_id": upload["id"]}, "mode": "analyze"}
    ).json()
    # an admin of team B makes a job from team A's: it stays team A's
    derived = teams.boss.post(
        "/v1/jobs", json={"input": {"job_id": annas["id"]}, "mode": "analyze"}
    ).json()
    assert derived["team"] == "A"
    assert teams.ben.get(f"/v1/jobs/{derived['id']}").status_code == 404
    again = {"input": {"job_id": derived["id"]}, "mode": "analyze"}
    assert teams.ben.post("/v1/jobs", json=again).status_code == 404
    # a job ben sees (made before this fix) whose input is anna's upload: refused all the same
    leaked, _ = api.store.jobs.submit(
        JobSpec(
            mode="analyze",
            source={"kind": "upload", "upload_id": upload["id"]},
            source_name="walk.mp4",
            options={"mode": "analyze"},
            token_name="ben",
            team="B",
            upload_id=upload["id"],
        )
    )
    assert teams.ben.get(f"/v1/jobs/{leaked.id}").status_code == 200
    reuse = teams.ben.post("/v1/jobs", json={"input": {"job_id": leaked.id}, "mode": "analyze"})
    assert reuse.status_code == 404
    api.store.policy.put(Policy(s3_allow={"A": ["s3://teama-private/"]}), "test")
    s3_job = teams.anna.post(
        "/v1/jobs", json={"input": {"s3": "s3://teama-private/c.mp4"}, "mode": "analyze"}
    ).json()
    api.store.policy.put(Policy(), "test")  # the prefix is taken back: so is reusing it
    reuse = teams.anna.post("/v1/jobs", json={"input": {"job_id": s3_job["id"]}})
    assert reuse.status_code == 403


def test_an_output_never_replaces_an_object_another_job_wrote(
    s3_settings, s3_server: S3Server, clip: Clip
):
    client = s3_server.client()
    client.create_bucket(Bucket="redacted")
    client.put_object(Bucket="redacted", Key="cams/walk_redacted.mp4", Body=b"hers")
    store = Store(s3_settings)
    admin = store.tokens.create("root", Role.ADMIN)
    worker = ThreadWorker(s3_settings).start()
    try:
        with serve_app(s3_settings) as url:
            api = Api(url, admin, store, s3_settings, httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
            ))  # fmt: skip
            job = api.upload_job(clip.path, output="s3://redacted/cams/")
            done = api.wait_state(job["id"], "finished", "error", "failed")
            assert done["state"] == "finished", done["error"]
            api.client.close()
        outputs = store.jobs.get(job["id"]).outputs
    finally:
        worker.close()
        store.close()
    body = client.get_object(Bucket="redacted", Key="cams/walk_redacted.mp4")["Body"].read()
    assert body == b"hers"  # hers is untouched; this job's video went beside it, by job id
    assert f"s3://redacted/cams/{job['id']}/walk_redacted.mp4" in outputs
    assert "s3://redacted/cams/walk_report.json" in outputs  # a free name stays as asked


def test_forged_storage_events_make_no_job(s3_settings, s3_server: S3Server, clip: Clip):
    from veil.service.watch import S3Watcher

    client = s3_server.client()
    client.create_bucket(Bucket="raw9")
    put = client.put_object(Bucket="raw9", Key="cam/a.mp4", Body=clip.path.read_bytes())
    store = Store(s3_settings)
    S3Watcher(store, s3_settings, "s3://raw9/cam", "s3://out9/")
    token = store.tokens.create("pusher")

    def event(key: str, etag: str, name: str = "s3:ObjectCreated:Put") -> dict:
        obj = {"key": key, "eTag": etag}
        return {"Records": [{"eventName": name, "s3": {"bucket": {"name": "raw9"}, "object": obj}}]}

    real = put["ETag"].strip('"')
    with (
        serve_app(s3_settings) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        forged = [event("cam/a.mp4", f"forged{n}") for n in range(3)] + [
            event("cam/a.mp4", real, "ObjectRemoved:Delete"),
            event("cam/a.mp4", real, "xObjectCreated"),
            event("cam/../cam/a.mp4", real),
            event("cam/b.mp4", real),  # no such object
        ]
        answers = [http.post("/v1/events/s3", json=e).json() for e in forged]
        taken = http.post("/v1/events/s3", json=event("cam/a.mp4", real)).json()
    store.close()
    assert [a["jobs"] for a in answers] == [[]] * len(forged)
    assert len(taken["jobs"]) == 1
