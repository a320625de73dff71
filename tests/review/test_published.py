"""What is published as ``_redacted`` is checked, not trusted (issue #22, failure 4): a
review's boxes must still cover the faces the analysis found, unless a person chose to
show an ID (recorded by name, in the trail and the signed report)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from review.annotated import annotations
from review.conftest import FRAMES, ReviewClip, analyzed
from service.conftest import Api
from veil.review.coverage import coverage
from veil.review.reviews import Reviews
from veil.review.timeline import Timeline, set_box
from veil.service.access import Caller, Role
from veil.service.policy import Policy
from veil.settings import BlurType


@pytest.fixture(scope="module")
def job_id(review_api: Api, review_clip: ReviewClip) -> str:
    return analyzed(review_api, review_clip.path)


@pytest.fixture
def strict(review_api: Api) -> Iterator[None]:
    review_api.store.policy.put(Policy(require_review=True, min_blur=BlurType.HIGH), "admin")
    yield
    review_api.store.policy.put(Policy(), "admin")


def edit(api: Api, job_id: str, **change) -> None:
    response = api.client.post(f"/v1/review/jobs/{job_id}/edits", json={"edit": change})
    assert response.status_code == 200, response.text


def test_a_box_shrunk_off_its_face_is_uncovered_and_a_tightened_one_is_not():
    tl = Timeline.from_annotations(annotations())
    [first] = [f for f in tl.faces[0] if f.id == 1]
    x, y, w, h = first.x, first.y, first.width, first.height
    tightened = set_box(tl, 1, 0, (x + w * 0.1, y + h * 0.1, w * 0.8, h * 0.8))
    assert coverage(tl, tightened, {1, 2}).uncovered == ()
    shrunk = set_box(tl, 1, 0, (x + w / 2, y + h / 2, 0.001, 0.001))
    assert coverage(tl, shrunk, {1, 2}).uncovered == ((0, 1),)
    moved = set_box(tl, 1, 0, (0.9, 0.9, w, h))
    assert coverage(tl, moved, {1, 2}).uncovered == ((0, 1),)
    # shown by choice: not uncovered, and named
    chosen = coverage(tl, shrunk, {2})
    assert chosen.uncovered == () and chosen.shown == {1}


def test_a_strict_policy_refuses_boxes_shrunk_below_their_faces(
    review_api: Api, job_id: str, strict: None
):
    api = review_api
    review = Reviews(api.store, api.settings).open(job_id, Caller("reviewer", Role.OPERATOR))
    for frame, faces in enumerate(review.original.faces):
        for f in faces:
            edit(api, job_id, op="box", id=f.id, frame=frame, box=[f.x, f.y, 0.001, 0.001])
    edit(api, job_id, op="reviewed", start=0, end=FRAMES - 1)
    refused = api.client.post(f"/v1/review/jobs/{job_id}/redact", json={"blur": "black"})
    assert refused.status_code == 409, refused.text
    assert "neither covered" in refused.json()["detail"]
    edit(api, job_id, op="reset")


def test_faces_shown_by_choice_are_named_in_the_report(review_api: Api, job_id: str):
    api = review_api
    edit(api, job_id, op="reset")
    edit(api, job_id, op="select", ids=[2])  # face 1 shown, on purpose
    queued = api.client.post(f"/v1/review/jobs/{job_id}/redact", json={"blur": "black"})
    assert queued.status_code == 202, queued.text
    done = api.wait_state(queued.json()["id"], "finished", "error", timeout=120)
    assert done["state"] == "finished", done["error"]
    report = api.client.get(f"/v1/jobs/{done['id']}/report").json()
    assert report["ids_shown"] == [1] and report["shown_by"] == "reviewer"
    assert report["ids_hidden"] == 1
    trail = api.client.get(f"/v1/jobs/{job_id}/audit").json()["events"]
    redacted = [e for e in trail if e["action"] == "review.redact"][-1]
    assert redacted["details"]["ids_shown"] == [1] and redacted["who"] == "reviewer"
    edit(api, job_id, op="reset")


def test_a_strict_policy_refuses_detector_settings_that_find_less(
    review_api: Api, job_id: str, strict: None
):
    body = {"input": {"job_id": job_id}, "mode": "analyze"}
    blind = {**body, "detector": {"input_size": 32, "threshold": 0.99}}
    refused = review_api.client.post("/v1/jobs", json=blind)
    assert refused.status_code == 403 and "fewer faces" in refused.json()["detail"]
    keener = {**body, "detector": {"threshold": 0.1}}
    assert review_api.client.post("/v1/jobs", json=keener).status_code == 202


def test_box_videos_are_refused_to_non_admins_when_the_policy_says_so(review_api: Api, job_id: str):
    outline = {"input": {"job_id": job_id}, "azure_preset": {"blurType": "Box"}}
    review_api.store.policy.put(Policy(box_outputs=False), "admin")
    try:
        refused = review_api.client.post("/v1/jobs", json=outline)
        redact = review_api.client.post(f"/v1/review/jobs/{job_id}/redact", json={"blur": "box"})
    finally:
        review_api.store.policy.put(Policy(), "admin")
    assert refused.status_code == 403 and "admins" in refused.json()["detail"]
    assert redact.status_code == 403


def test_every_read_by_a_signed_link_is_audited_and_links_die_at_sign_out(
    review_api: Api, job_id: str
):
    api = review_api
    doc = api.client.get(f"/v1/review/jobs/{job_id}").json()
    outputs = api.client.get(f"/v1/review/jobs/{job_id}/links").json()["outputs"]
    thumb = next(n for n in outputs if n.endswith(".jpg"))
    before = len(api.client.get(f"/v1/jobs/{job_id}/audit").json()["events"])
    for link in (doc["links"]["source"], outputs[thumb]):  # played, not downloaded
        assert httpx.get(api.url + link).status_code == 200
    events = api.client.get(f"/v1/jobs/{job_id}/audit").json()["events"][before:]
    assert [(e["action"], e["who"]) for e in events] == [
        ("read", "reviewer"),
        ("downloaded", "reviewer"),
    ]
    assert events[0]["details"]["file"] == "source"
    assert api.client.post("/v1/review/signout").status_code == 204
    for link in (doc["links"]["source"], outputs[thumb]):
        assert httpx.get(api.url + link).status_code == 403
    fresh = api.client.get(f"/v1/review/jobs/{job_id}").json()["links"]["source"]
    assert httpx.get(api.url + fresh).status_code == 200  # signed in again: new links work
