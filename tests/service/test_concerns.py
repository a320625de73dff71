"""The concerns of issue #22's audit: quotas, the service's own trail, deleted jobs' trails,
what answers without a token, webhook addresses and credentials, non-finite JSON numbers,
names that look alike, and deleting an upload being written."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from service.conftest import Api, Clip
from veil.errors import VeilError
from veil.service.access import Role
from veil.service.addresses import check_webhook_url, is_public
from veil.service.policy import Policy, Quotas
from veil.service.store import Conflict


def client(api: Api, name: str, role: Role = Role.OPERATOR, team: str | None = None):
    token = api.store.tokens.create(name, role, team)
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"})


def test_quotas_per_token_hold_jobs_uploads_and_sessions(api: Api, clip: Clip):
    quotas = Quotas(jobs_queued=2, upload_bytes=10 * clip.path.stat().st_size, upload_sessions=1)
    api.store.policy.put(Policy(quotas=quotas), "test")
    with client(api, "busy") as busy:
        data = clip.path.read_bytes()
        upload = busy.post("/v1/uploads", params={"filename": "a.mp4"}, content=data).json()
        job = {"input": {"upload_id": upload["id"]}, "mode": "analyze"}
        answers = [busy.post("/v1/jobs", json=job).status_code for _ in range(3)]
        assert answers == [202, 202, 429]  # no worker: both stay queued
        one = busy.post("/v1/uploads/sessions", params={"filename": "b.mp4", "size": 10})
        two = busy.post("/v1/uploads/sessions", params={"filename": "c.mp4", "size": 10})
        assert (one.status_code, two.status_code) == (201, 429)
        huge = busy.post("/v1/uploads", params={"filename": "d.mp4"}, content=data * 11)
        assert huge.status_code in (413, 429)
    with client(api, "other") as other:  # per token: another's quota is its own
        assert (
            other.post("/v1/uploads/sessions", params={"filename": "b.mp4", "size": 10}).status_code
            == 201
        )


def test_token_policy_and_preset_changes_are_in_the_service_trail(api: Api):
    admin = api.client
    assert admin.post("/v1/tokens", json={"name": "erin", "team": "records"}).status_code == 201
    assert admin.delete("/v1/tokens/erin").status_code == 204
    assert admin.put("/v1/policy", json={"min_blur": "med"}).status_code == 200
    preset = {"preset": {"version": "1.0", "options": {"blurType": "High"}}}
    assert admin.put("/v1/presets/strong", json=preset).status_code == 200
    assert admin.delete("/v1/presets/strong").status_code == 204
    trail = admin.get("/v1/audit").json()
    assert [(e["action"], e["who"]) for e in trail["events"]] == [
        ("token.created", "tester"),
        ("token.revoked", "tester"),
        ("policy.set", "tester"),
        ("preset.set", "tester"),
        ("preset.deleted", "tester"),
    ]
    assert trail["chain_ok"] and trail["signature"]["algorithm"] == "Ed25519"
    with client(api, "op") as op:
        assert op.get("/v1/audit").status_code == 403


def test_admins_read_the_trail_of_a_deleted_job(api: Api, clip: Clip):
    with client(api, "owner") as owner:
        up = owner.post("/v1/uploads", params={"filename": "a.mp4"}, content=clip.path.read_bytes())
        job = owner.post("/v1/jobs", json={"input": {"upload_id": up.json()["id"]}}).json()
        owner.post(f"/v1/jobs/{job['id']}/cancel")
        assert owner.delete(f"/v1/jobs/{job['id']}").status_code == 204
        assert owner.get(f"/v1/jobs/{job['id']}/audit").status_code == 404
    trail = api.client.get(f"/v1/jobs/{job['id']}/audit")
    assert trail.status_code == 200
    assert [e["action"] for e in trail.json()["events"]][-1] == "deleted"


def test_health_and_live_pages_say_nothing_without_a_token(api: Api):
    assert httpx.get(f"{api.url}/health").json() == {"status": "ok"}
    assert "jobs" in api.client.get("/health").json()  # an admin's token: the counts
    for path in ("/live", "/live/metrics", "/live/lobby/stats", "/live/lobby/index.m3u8"):
        assert httpx.get(f"{api.url}{path}").status_code == 401, path
    assert api.client.get("/live").status_code == 200


@pytest.mark.parametrize(
    "address", ["64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:7f00:1::", "::127.0.0.1",
                "::ffff:169.254.169.254", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
)  # fmt: skip
def test_ipv6_forms_of_private_ipv4_addresses_are_not_public(address: str):
    assert not is_public(ipaddress.ip_address(address))


def test_webhook_urls_carry_no_credentials_and_no_embedded_private_address():
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))  # NAT64 of 8.8.8.8
    for url in ("http://[64:ff9b::a9fe:a9fe]/hook", "http://[2002:7f00:1::]/hook",
                "http://[::127.0.0.1]/hook", "https://user:pw@8.8.8.8/hook"):  # fmt: skip
        with pytest.raises(VeilError):
            check_webhook_url(url, [])


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_json_numbers_get_a_4xx(api: Api, number: str):
    job = '"input": {"s3": "s3://b/a.mp4"}'
    bodies = [
        ("POST", "/v1/jobs", f'{{{job}, "detector": {{"threshold": {number}}}}}'),
        ("POST", "/v1/jobs", f'{{{job}, "ids": [{number}]}}'),
        ("PUT", "/v1/policy", f'{{"min_blur": "med", "x": {number}}}'),
    ]  # fmt: skip
    for method, path, body in bodies:
        answer = api.client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= answer.status_code < 500, (path, body, answer.text)


@pytest.mark.parametrize(
    "name, team",
    [("Tester", None), ("x\u202egnp", None), ("nul\x00", None), ("ok1", "Records"),
     ("ok2", "re\u202ecords"), ("ok3", "rec\x00")],
)  # fmt: skip
def test_names_that_look_alike_are_refused(api: Api, name: str, team: str | None):
    api.store.tokens.create("member", Role.OPERATOR, "records")
    with pytest.raises((VeilError, Conflict)):
        api.store.tokens.create(name, Role.OPERATOR, team)
    answer = api.client.post("/v1/tokens", json={"name": name, "team": team})
    assert answer.status_code in (409, 422), answer.text


def test_an_upload_being_written_is_not_deleted_under_its_chunk(api: Api):
    session = api.client.post(
        "/v1/uploads/sessions", params={"filename": "a.mp4", "size": 100}
    ).json()
    assert api.store.uploads.start_chunk(session["id"], offset=0, hold=60)  # a chunk streams
    assert api.client.delete(f"/v1/uploads/{session['id']}").status_code == 409
    api.store.uploads.end_chunk(session["id"], received=None)
    assert api.client.delete(f"/v1/uploads/{session['id']}").status_code == 204
