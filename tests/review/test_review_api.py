"""The review API over real HTTP with a real worker: open, edit, preview, redact, files."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from helpers import decode_frames, region_diff, shrink
from review.helpers import HEIGHT, WIDTH, ReviewClip, analyzed
from service.helpers import Api
from veil.review.reviews import Reviews
from veil.service.store import Conflict


@pytest.fixture(scope="module")
def job_id(review_api: Api, review_clip: ReviewClip) -> str:
    return analyzed(review_api, review_clip.path)


def edit(api: Api, job_id: str, **change) -> dict:
    response = api.client.post(f"/v1/review/jobs/{job_id}/edits", json={"edit": change})
    assert response.status_code == 200, response.text
    return response.json()


def test_app_is_served_at_the_root(review_api: Api):
    page = httpx.get(f"{review_api.url}/")
    assert page.status_code == 200
    assert '<script type="module" src="static/app.js">' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    for asset in ("app.js", "api.js", "player.js", "style.css"):
        response = httpx.get(f"{review_api.url}/static/{asset}")
        assert response.status_code == 200, asset
        assert "https://" not in response.text
    assert httpx.get(f"{review_api.url}/v1/review/jobs/x").status_code == 401
    assert httpx.get(f"{review_api.url}/health").status_code == 200


def test_review_document(review_api: Api, job_id: str):
    doc = review_api.client.get(f"/v1/review/jobs/{job_id}").json()
    assert doc["media"]["width"] == WIDTH and doc["media"]["height"] == HEIGHT
    assert len(doc["media"]["starts"]) == len(doc["frames"]) == 24
    ids = [f["id"] for f in doc["faces"]]
    assert sorted(ids) == [1, 2]
    assert doc["selected"] == [1, 2]  # every face at first, as Azure
    assert doc["faces"][0]["first"] == 0 and doc["faces"][0]["frames"] == 24
    source = httpx.get(review_api.url + doc["links"]["source"], headers={"Range": "bytes=0-99"})
    assert source.status_code == 206 and len(source.content) == 100
    thumb = httpx.get(review_api.url + doc["faces"][0]["thumb"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_signed_links_cannot_be_forged_or_reused_for_another_file(review_api: Api, job_id: str):
    doc = review_api.client.get(f"/v1/review/jobs/{job_id}").json()
    link = doc["links"]["source"]
    assert httpx.get(review_api.url + link.replace("sig=", "sig=0")).status_code == 403
    other = link.replace("/source?", "/annotations.json?")
    assert httpx.get(review_api.url + other).status_code == 403
    expired = link.split("expires=")[0] + "expires=1&sig=" + link.split("sig=")[1]
    assert httpx.get(review_api.url + expired).status_code == 403


def test_edits_are_saved_and_used_by_preview_and_redaction(
    review_api: Api, job_id: str, review_clip: ReviewClip
):
    api = review_api
    edit(api, job_id, op="reset")
    doc = edit(api, job_id, op="add", frame=3, box=[0.1, 0.8, 0.08, 0.12])
    manual = doc["manual"][0]["id"]
    assert manual == 3 and doc["selected"] == [1, 2, 3]
    edit(api, job_id, op="extend", id=manual, frame=6)
    doc = edit(api, job_id, op="select", ids=[1, manual])
    # a new request (a reload) sees every edit
    again = api.client.get(f"/v1/review/jobs/{job_id}").json()
    assert again["selected"] == [1, 3] and again["revision"] == doc["revision"]
    assert next(b for b in again["frames"][5] if b[0] == manual)[5] == 1

    annotations = httpx.get(api.url + again["links"]["annotations"])
    assert annotations.status_code == 200
    assert "attachment" in annotations.headers["content-disposition"]
    data = json.loads(annotations.text)
    drawn = [f for frag in data["fragments"] for e in frag["events"] for f in e if f["id"] == 3]
    assert len(drawn) == 4 and all(f["manual"] for f in drawn)
    assert httpx.get(api.url + again["links"]["ids"]).text == "1\n3\n"

    same = {"op": "merge", "keep": 1, "drop": 1}
    bad = api.client.post(f"/v1/review/jobs/{job_id}/edits", json={"edit": same})
    assert bad.status_code == 422 and "two different" in bad.json()["detail"]

    # the preview is veil's own redaction of that frame: face 1 hidden, face 2 not
    preview = api.client.get(f"/v1/review/jobs/{job_id}/preview", params={"frame": 5})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    shown = np.asarray(Image.open(io.BytesIO(preview.content)).convert("RGB"))
    assert shown.shape == (HEIGHT, WIDTH, 3)
    original = decode_frames(review_clip.path)[5]
    big, small = review_clip.faces[5]
    assert region_diff(original, shown, shrink(big)) > 12  # face 1: hidden
    assert region_diff(original, shown, shrink(small)) < 4  # face 2: not chosen
    assert region_diff(original, shown, shrink(review_clip.plates[5])) > 40  # drawn box

    job = api.client.post(f"/v1/review/jobs/{job_id}/redact", json={"blur": "pixelate"})
    assert job.status_code == 202, job.text
    done = api.wait_state(job.json()["id"], "finished", "error", timeout=120)
    assert done["state"] == "finished", done
    report = api.client.get(f"/v1/jobs/{done['id']}/report").json()
    assert report["who"] == "reviewer"
    assert report["face_ids"] == [1, 3]
    assert report["settings"]["blur"] == "pixelate"
    recorded = api.client.get(f"/v1/review/jobs/{job_id}").json()["redactions"][-1]
    assert recorded["job"] == done["id"] and recorded["ids"] == [1, 3]
    assert recorded["by"] == "reviewer" and recorded["manual_ids"] == [3]
    links = api.client.get(f"/v1/review/jobs/{done['id']}/links").json()["outputs"]
    video = httpx.get(api.url + links["street_redacted.mp4"] + "&download=1")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert "attachment" in video.headers["content-disposition"]


def test_a_review_needs_a_finished_analysis(review_api: Api, job_id: str):
    jobs = review_api.client.get("/v1/jobs").json()["jobs"]
    redact_jobs = [j for j in jobs if j["mode"] == "redact"]
    if redact_jobs:
        response = review_api.client.get(f"/v1/review/jobs/{redact_jobs[0]['id']}")
        assert response.status_code == 409
    assert review_api.client.get("/v1/review/jobs/nope").status_code == 404
    assert review_api.client.get("/v1/review/me").json() == {"name": "reviewer"}


def test_undo_and_redo_are_kept_on_the_server(review_api: Api, job_id: str):
    api = review_api
    edit(api, job_id, op="reset")
    before = api.client.get(f"/v1/review/jobs/{job_id}").json()
    split = edit(api, job_id, op="split", id=1, frame=10)
    new_id = max(f["id"] for f in split["faces"])
    assert (
        split["history"]["undo"] == f"Split face 1 at frame 11: from there on it is face {new_id}"
    )
    shown = edit(api, job_id, op="select", ids=[2])
    assert shown["history"]["undo"] == f"Left faces 1, {new_id} visible"

    undone = edit(api, job_id, op="undo")
    assert undone["selected"] == [1, 2, new_id]
    undone = edit(api, job_id, op="undo")
    assert undone["frames"] == before["frames"] and undone["selected"] == [1, 2]
    assert undone["history"]["undo"] == "Went back to the analysis (every edit undone)"
    # a reload (a new request) sees the same, and redo brings the split back
    again = api.client.get(f"/v1/review/jobs/{job_id}").json()
    assert again["history"]["redo"].startswith("Split face 1 at frame 11")
    redone = edit(api, job_id, op="redo")
    assert [f["id"] for f in redone["faces"]] == [1, 2, new_id]
    # a new edit drops what was undone
    dropped = edit(api, job_id, op="blur", blur="high")
    assert dropped["history"]["redo"] is None
    nothing = api.client.post(f"/v1/review/jobs/{job_id}/edits", json={"edit": {"op": "redo"}})
    assert nothing.status_code == 422 and "nothing to redo" in nothing.json()["detail"]

    log = api.client.get(f"/v1/review/jobs/{job_id}/history").json()["entries"]
    actions = [e["action"] for e in log[-6:]]
    assert actions == ["split", "select", "undo", "undo", "redo", "blur"]
    assert all(e["by"] == "reviewer" and e["at"] > 0 for e in log)
    assert log[-4]["summary"] == f"Undid: Left faces 1, {new_id} visible"
    assert log[-3]["summary"].startswith("Undid: Split face 1 at frame 11")
    assert log[-2]["summary"].startswith("Redid: Split face 1 at frame 11")


def test_downloads_are_asked_for_with_the_token_and_recorded(review_api: Api, job_id: str):
    api = review_api
    response = api.client.post(f"/v1/review/jobs/{job_id}/downloads", json={"name": "ids.txt"})
    assert response.status_code == 200
    ids = httpx.get(api.url + response.json()["link"])
    assert ids.status_code == 200 and "attachment" in ids.headers["content-disposition"]
    last = api.client.get(f"/v1/review/jobs/{job_id}/history").json()["entries"][-1]
    assert (last["action"], last["by"], last["summary"]) == (
        "download",
        "reviewer",
        "Downloaded ids.txt",
    )
    # a download changes nothing: undo still takes back the last edit
    doc = api.client.get(f"/v1/review/jobs/{job_id}").json()
    assert not doc["history"]["undo"].startswith("Downloaded")
    # every line of the review's history is in the job's audit trail too
    trail = api.client.get(f"/v1/jobs/{job_id}/audit").json()["events"]
    audited = [(e["who"], e["action"]) for e in trail]
    history = api.client.get(f"/v1/review/jobs/{job_id}/history").json()["entries"]
    assert [a for a in audited if a[1].startswith("review.")] == [
        (e["by"], f"review.{e['action']}") for e in history
    ]
    for action in ("split", "select", "undo", "redo", "blur", "download"):
        assert ("reviewer", f"review.{action}") in audited
    for body in ({"name": "source"}, {"name": "outputs/x.mp4", "job": "nope"}, {"name": "../x"}):
        refused = api.client.post(f"/v1/review/jobs/{job_id}/downloads", json=body)
        assert refused.status_code == 404, body


def test_redacting_with_nothing_blurred_needs_a_confirmation(review_api: Api, job_id: str):
    api = review_api
    edit(api, job_id, op="select", ids=[])
    doc = api.client.get(f"/v1/review/jobs/{job_id}").json()
    assert "nothing-blurred" in [w["code"] for w in doc["warnings"]]
    jobs = len(api.client.get("/v1/jobs").json()["jobs"])
    refused = api.client.post(f"/v1/review/jobs/{job_id}/redact", json={})
    assert refused.status_code == 409
    assert len(api.client.get("/v1/jobs").json()["jobs"]) == jobs  # nothing was queued
    assert "every face visible" in refused.json()["detail"]
    accepted = api.client.post(
        f"/v1/review/jobs/{job_id}/redact", json={"confirm": ["nothing-blurred", "unreviewed"]}
    )
    assert accepted.status_code == 202, accepted.text
    api.wait_state(accepted.json()["id"], "finished", "error", timeout=120)
    record = api.client.get(f"/v1/review/jobs/{job_id}").json()["redactions"][-1]
    assert record["ids"] == [] and "nothing-blurred" in record["warnings"]
    last = api.client.get(f"/v1/review/jobs/{job_id}/history").json()["entries"][-1]
    assert last["action"] == "redact" and "no face hidden" in last["summary"]


def test_a_policy_can_refuse_an_export_until_every_frame_is_reviewed(review_api: Api, job_id: str):
    reviews = Reviews(review_api.store, review_api.settings)
    reviewer = review_api.store.tokens.active("reviewer")
    edit(review_api, job_id, op="select", ids=[1])
    edit(review_api, job_id, op="reviewed", start=0, end=20)
    with pytest.raises(Conflict, match="reviewed first: 3 of 24 frames"):
        reviews.redact(job_id, reviewer, require_reviewed=True)
    edit(review_api, job_id, op="reviewed", start=21, end=23)
    job = reviews.redact(job_id, reviewer, require_reviewed=True)
    review_api.wait_state(job.id, "finished", "error", timeout=120)
