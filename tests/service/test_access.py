"""Roles and ownership: each token sees its own and its team's things, admins see all,
everyone else gets 404; only admins write presets, tokens and the policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from service.helpers import Api, Clip, ThreadWorker
from veil.service.access import Role
from veil.service.policy import Policy


@dataclass
class People:
    alice: httpx.Client  # operator, team "records"
    bob: httpx.Client  # operator, no team
    carol: httpx.Client  # reviewer, team "records"
    dave: httpx.Client  # reviewer, no team
    admin: httpx.Client


@pytest.fixture
def people(api: Api) -> Iterator[People]:
    def client(name: str, role: Role, team: str | None = None) -> httpx.Client:
        token = api.store.tokens.create(name, role, team)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=api.url, headers=headers, timeout=30)

    made = People(
        client("alice", Role.OPERATOR, "records"),
        client("bob", Role.OPERATOR),
        client("carol", Role.REVIEWER, "records"),
        client("dave", Role.REVIEWER),
        api.client,
    )
    yield made
    for c in (made.alice, made.bob, made.carol, made.dave):
        c.close()


def upload(client: httpx.Client, clip: Clip) -> dict:
    response = client.post(
        "/v1/uploads", params={"filename": clip.path.name}, content=clip.path.read_bytes()
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_another_operators_jobs_and_uploads_do_not_exist_for_bob(
    api: Api, people: People, clip: Clip
):
    mine = upload(people.alice, clip)
    job = people.alice.post("/v1/jobs", json={"input": {"upload_id": mine["id"]}}).json()
    jid = job["id"]
    assert job["token_name"] == "alice" and job["team"] == "records"
    bob = people.bob
    assert bob.get("/v1/jobs").json()["count"] == 0
    for method, path in [
        ("GET", f"/v1/jobs/{jid}"),
        ("GET", f"/v1/jobs/{jid}/outputs"),
        ("GET", f"/v1/jobs/{jid}/outputs/walk_redacted.mp4"),
        ("GET", f"/v1/jobs/{jid}/report"),
        ("GET", f"/v1/jobs/{jid}/events"),
        ("GET", f"/v1/jobs/{jid}/audit"),
        ("POST", f"/v1/jobs/{jid}/cancel"),
        ("POST", f"/v1/jobs/{jid}/retry"),
        ("DELETE", f"/v1/jobs/{jid}"),
        ("GET", f"/v1/uploads/{mine['id']}"),
        ("DELETE", f"/v1/uploads/{mine['id']}"),
        ("GET", f"/v1/review/jobs/{jid}"),
        ("GET", f"/v1/review/jobs/{jid}/links"),
    ]:
        response = bob.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert "alice" not in response.text
    reuse = bob.post("/v1/jobs", json={"input": {"upload_id": mine["id"]}})
    assert reuse.status_code == 404
    from_job = bob.post("/v1/jobs", json={"input": {"job_id": jid}, "mode": "analyze"})
    assert from_job.status_code == 404
    # still there for alice, her team and the admins
    assert people.alice.get(f"/v1/jobs/{jid}").status_code == 200
    assert people.carol.get(f"/v1/jobs/{jid}").status_code == 200
    assert people.dave.get(f"/v1/jobs/{jid}").status_code == 404
    assert people.admin.get("/v1/jobs").json()["count"] == 1
    assert people.alice.post(f"/v1/jobs/{jid}/cancel").status_code == 200


def test_reviewers_read_and_review_but_do_not_submit_or_delete(
    api: Api, people: People, clip: Clip
):
    carol = people.carol
    assert carol.post("/v1/uploads", params={"filename": "a.mp4"}, content=b"x").status_code == 403
    assert carol.post("/v1/jobs", json={"input": {"s3": "s3://b/a.mp4"}}).status_code == 403
    job = api.upload_job(clip.path)  # the admin's, no team: carol does not see it
    assert carol.get(f"/v1/jobs/{job['id']}").status_code == 404
    mine = upload(people.alice, clip)
    alices = people.alice.post("/v1/jobs", json={"input": {"upload_id": mine["id"]}}).json()
    assert carol.post(f"/v1/jobs/{alices['id']}/cancel").status_code == 403
    assert carol.delete(f"/v1/jobs/{alices['id']}").status_code == 403
    assert carol.get("/v1/me").json() == {"name": "carol", "role": "reviewer", "team": "records"}


def test_only_admins_write_presets_tokens_and_the_policy(api: Api, people: People):
    body = {"preset": {"version": "1.0", "options": {"blurType": "Box"}}, "detector": {}}
    for client in (people.alice, people.carol):
        assert client.put("/v1/presets/shared", json=body).status_code == 403
        assert client.post("/v1/presets", json={"name": "x", **body}).status_code == 403
        assert client.put("/v1/policy", json={"min_blur": "low"}).status_code == 403
        assert client.post("/v1/tokens", json={"name": "mallory"}).status_code == 403
        assert client.get("/v1/tokens").status_code == 403
        assert client.delete("/v1/tokens/alice").status_code == 403
    assert people.alice.get("/v1/policy").json()["min_blur"] == "pixelate"
    made = people.admin.post("/v1/tokens", json={"name": "erin", "role": "reviewer"})
    assert made.status_code == 201 and made.json()["token"].startswith("veil_")
    assert {t["name"]: t["role"] for t in people.admin.get("/v1/tokens").json()}["erin"] == (
        "reviewer"
    )
    assert people.admin.put("/v1/presets/shared", json=body).status_code == 200
    assert people.alice.get("/v1/presets/shared").status_code == 200  # reading is for all


def test_the_policy_sets_the_weakest_published_blur(
    api: Api, people: People, worker: ThreadWorker, clip: Clip
):
    assert people.admin.put("/v1/policy", json={"min_blur": "box"}).status_code == 422
    policy = people.admin.put("/v1/policy", json={"min_blur": "med"})
    assert policy.status_code == 200 and policy.json()["min_blur"] == "med"
    mine = upload(people.alice, clip)
    weak = {"input": {"upload_id": mine["id"]}, "azure_preset": {"blurType": "Low"}}
    refused = people.alice.post("/v1/jobs", json=weak)
    assert refused.status_code == 422 and "med" in refused.json()["detail"]
    low_preset = {"preset": {"version": "1.0", "options": {"blurType": "Low"}}}
    assert people.admin.put("/v1/presets/weak", json=low_preset).status_code == 422
    strong = {**weak, "azure_preset": {"blurType": "High"}}
    assert people.alice.post("/v1/jobs", json=strong).status_code == 202
    # box hides nothing: allowed, but its video is a review copy, never "_redacted"
    outline = people.alice.post("/v1/jobs", json={**weak, "azure_preset": {"blurType": "Box"}})
    assert outline.status_code == 202
    done = api.wait_state(outline.json()["id"], "finished", "error")
    assert done["state"] == "finished", done["error"]
    assert "walk_review.mp4" in done["outputs"]
    assert not [o for o in done["outputs"] if "_redacted" in o]


def test_a_job_queued_before_the_policy_was_raised_is_not_published(api: Api, settings, clip: Clip):
    job = api.client.post(
        "/v1/jobs/upload", params={"filename": "walk.mp4"}, content=clip.path.read_bytes()
    ).json()  # veil's default blur, med; no worker yet
    api.store.policy.put(Policy(min_blur="high"), "test")
    worker = ThreadWorker(settings).start()
    try:
        failed = api.wait_state(job["id"], "error", "finished")
    finally:
        worker.close()
    assert failed["state"] == "error" and "high" in failed["error"]
    assert failed["outputs"] == []
