"""The review API over real HTTP with a real worker: open, edit, preview, redact, files."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from conftest import decode_frames, region_diff, shrink
from review.conftest import HEIGHT, WIDTH, ReviewClip, analyzed
from service.conftest import Api


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
