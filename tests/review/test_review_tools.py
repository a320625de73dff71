"""The review app's tools for a clerk's whole day, in Chromium.

The timeline (rows with pictures, click to go, drag to split), undo and redo
kept on the server, review marks and "what is left" navigation, candidates
and merge suggestions from the analysis (written into the annotations here by
hand where today's analysis does not write them), merges that keep one box
per ID and frame, confirmations, the layout at small windows, sign-out.
"""

from __future__ import annotations

import re

import httpx
import pytest

from review.conftest import (
    FRAMES,
    ReviewApi,
    ReviewClip,
    analyzed,
    box_of,
    pictures_loaded,
    plate_box,
    screenshot,
    with_extras,
)
from review.test_browser import at_frame, expect, review_doc, sign_in
from service.conftest import make_clip
from veil.service.policy import Policy
from veil.settings import BlurType

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SPURIOUS = 9  # an ID on the background next to the small face, of low confidence
OTHER_HALF = 7  # face 1 written as two IDs, split at frame SPLIT
SPLIT = 12


def events(data: dict) -> list[tuple[int, list]]:
    """(start tick, the event's faces) for each frame of an annotations file, in order."""
    found = []
    for fragment in data["fragments"]:
        for k, event in enumerate(fragment.get("events") or []):
            start = fragment["start"] + k * fragment["interval"]
            if k and start >= fragment["start"] + fragment["duration"]:
                continue
            found.append((start, event))
    return found


def enrich(clip: ReviewClip):
    """What the analysis will write: face 1 as two IDs with a merge suggestion, a spurious
    low-confidence ID beside face 2, and two candidates (the plate, and a patch of wall).
    """

    def change(data: dict) -> None:
        frames = events(data)
        for i, (_, faces) in enumerate(frames):
            for face in faces:
                if face["id"] == 1 and i >= SPLIT:
                    face["id"] = OTHER_HALF
            x0, y0, x1, _ = clip.faces[i][1]
            side = (x1 - x0) * 0.6
            faces.append(box_of(SPURIOUS, i, (x0 - side * 0.6, y0, x0 + side * 0.4, y0 + side)))
        data["ids"] = [
            {"id": 1, "confidence": 0.95},
            {"id": 2, "confidence": 0.9},
            {"id": OTHER_HALF, "confidence": 0.93},
            {"id": SPURIOUS, "confidence": 0.1, "lowConfidence": True},
        ]
        data["mergeSuggestions"] = [{"ids": [1, OTHER_HALF], "score": 0.88}]

        def candidate(number: int, span: range, box) -> dict:
            boxes = []
            for i in span:
                written = box_of(0, i, box(i))
                del written["id"]
                boxes.append({**written, "start": frames[i][0], "confidence": 0.15})
            return {"id": number, "boxes": boxes}

        data["candidates"] = [
            candidate(1, range(4, 13), plate_box),
            candidate(2, range(18, 21), lambda i: (560, 20, 600, 60)),
        ]

    return change


@pytest.fixture
def job(review_api: ReviewApi, review_clip: ReviewClip) -> str:
    return analyzed(review_api, review_clip.path)


@pytest.fixture
def enriched(review_api: ReviewApi, review_clip: ReviewClip) -> str:
    job_id = analyzed(review_api, review_clip.path)
    with_extras(review_api, job_id, enrich(review_clip))
    return job_id


def open_review(page, api: ReviewApi, job_id: str) -> None:
    sign_in(page, api)
    page.goto(f"{api.url}/#/jobs/{job_id}")
    page.locator("#rows .tl-row").first.wait_for()
    at_frame(page, 0)


def rows(page, where: str = "#rows") -> list[int]:
    return page.locator(f"{where} .tl-row").evaluate_all("rs => rs.map(r => +r.dataset.id)")


def lane_point(page, face_id: int, frame: int) -> tuple[float, float]:
    lane = page.locator(f'.tl-row[data-id="{face_id}"] .tl-lane')
    # at the bottom of the window: the video and the side column stay on top
    lane.evaluate("e => e.scrollIntoView({block: 'end'})")
    r = lane.bounding_box()
    return r["x"] + (frame + 0.5) / FRAMES * r["width"], r["y"] + r["height"] / 2


def revision_after(api: ReviewApi, job_id: str, revision: int) -> dict:
    for _ in range(200):
        doc = review_doc(api, job_id)
        if doc["revision"] > revision:
            return doc
        import time

        time.sleep(0.05)
    raise AssertionError(f"no edit after revision {revision}")


def shown(page, doc: dict) -> None:
    """The page shows this revision of the review."""
    expect(page, f"document.getElementById('review-view').dataset.revision === '{doc['revision']}'")


# -- the timeline ---------------------------------------------------------------------------


def test_timeline_rows_show_pictures_along_the_video_click_goes_drag_splits(
    page, review_api: ReviewApi, job: str
):
    api = review_api
    open_review(page, api, job)
    assert rows(page) == [1, 2]
    # the pictures of each ID along its row: tiles of one strip image, placed by frame
    strip = page.locator('.tl-row[data-id="1"] .tl-tile').first
    expect(page, "[...document.querySelectorAll('.tl-row[data-id=\"1\"] .tl-tile')].length >= 8")
    link = strip.evaluate("t => getComputedStyle(t).backgroundImage.slice(5, -2)")
    image = api.client.get(link)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    doc = review_doc(api, job)
    face = next(f for f in doc["faces"] if f["id"] == 1)
    assert len(face["strip"]["frames"]) == FRAMES  # 24 frames: one picture each
    thumb_before = face["thumb"]

    # a click on a row goes to that frame and chooses the face
    x, y = lane_point(page, 2, 15)
    page.mouse.click(x, y)
    at_frame(page, 15)
    assert page.locator('.tl-row[data-id="2"]').get_attribute("class").count("active")
    assert "Face 2" in page.locator("#active-label").inner_text()

    # a drag along face 1's row splits it where the drag ends, and the video follows it
    x0, y0 = lane_point(page, 1, 20)
    x1, _ = lane_point(page, 1, 8)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y0, steps=4)
    expect(page, "document.querySelector('.tl-cut') !== null")
    page.mouse.move(x1, y0, steps=4)
    at_frame(page, 8)
    page.mouse.up()
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 3")
    doc = review_doc(api, job)
    faces = {f["id"]: f for f in doc["faces"]}
    assert (faces[1]["last"], faces[3]["first"]) == (7, 8)
    assert 3 in doc["selected"]  # a new ID is blurred
    assert faces[1]["thumb"] != thumb_before  # the row's picture follows the split

    # Escape during a drag cancels it
    page.mouse.move(*lane_point(page, 2, 20))
    page.mouse.down()
    page.mouse.move(*lane_point(page, 2, 5), steps=4)
    page.keyboard.press("Escape")
    page.mouse.up()
    page.wait_for_timeout(300)
    assert len(review_doc(api, job)["faces"]) == 3


# -- undo and redo ----------------------------------------------------------------------------


def test_undo_and_redo_every_kind_of_edit_survive_a_reload(page, review_api: ReviewApi, job: str):
    api = review_api
    open_review(page, api, job)
    original = review_doc(api, job)

    def did(action) -> dict:
        revision = review_doc(api, job)["revision"]
        action()
        doc = revision_after(api, job, revision)
        shown(page, doc)
        return doc

    # four kinds: a choice, a drawn box, a split, a review mark
    did(lambda: page.get_by_label("Blur Face 2", exact=True).uncheck())
    did(lambda: page.get_by_role("button", name="Add a box on this frame").click())
    page.locator("#overlay").focus()
    page.keyboard.press("Shift+ArrowRight")
    at_frame(page, 10)
    page.get_by_role("button", name="Go to Face 1, seen from 0.00 s to 1.92 s").click()
    at_frame(page, 0)
    page.locator("#overlay").focus()
    page.keyboard.press("Shift+ArrowRight")
    at_frame(page, 10)
    did(lambda: page.get_by_role("button", name="Split here").click())
    after_split = did(lambda: page.keyboard.press("r"))
    assert after_split["reviewed"] == [[0, 10]]

    # undo all four with Ctrl+Z: back to the analysis
    page.locator("#overlay").focus()
    for _ in range(4):
        did(lambda: page.keyboard.press("Control+z"))
    doc = review_doc(api, job)
    assert doc["frames"] == original["frames"] and doc["selected"] == original["selected"]
    assert doc["reviewed"] == [] and doc["manual"] == []
    assert page.locator("#undo").is_disabled()

    # a reload keeps the history: redo brings two back
    page.reload()
    page.locator("#rows .tl-row").first.wait_for()
    assert "Redo: Left face 2 visible" in page.locator("#undo-label").inner_text()
    did(lambda: page.locator("#redo").click())
    page.locator("#overlay").focus()
    did(lambda: page.keyboard.press("Control+Shift+z"))
    doc = review_doc(api, job)
    assert doc["selected"] == [1, 3] and len(doc["manual"]) == 1
    history = page.locator("#history").inner_text()
    assert "reviewer: Redid: Drew face 3 on frame 1" in history
    assert "reviewer: Undid: Marked frames 1–11 reviewed" in history
    # a new edit drops what was left to redo
    did(lambda: page.get_by_role("button", name="Blur all").click())
    assert page.locator("#redo").is_disabled()


# -- review marks and what is left -------------------------------------------------------------


def test_review_marks_candidates_and_covered_faces_step_by_step(
    page, review_api: ReviewApi, enriched: str
):
    api = review_api
    open_review(page, api, enriched)
    page.locator("#overlay").focus()

    # "R" marks reviewed up to here and goes on to what is not; dragging the review row marks too
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    at_frame(page, 5)
    page.keyboard.press("r")
    at_frame(page, 6)
    assert review_doc(api, enriched)["reviewed"] == [[0, 5]]
    page.locator("#review-lane").evaluate("e => e.scrollIntoView({block: 'end'})")
    lane = page.locator("#review-lane").bounding_box()
    at = lambda f: lane["x"] + (f + 0.5) / FRAMES * lane["width"]  # noqa: E731
    page.mouse.move(at(10), lane["y"] + 5)
    page.mouse.down()
    page.mouse.move(at(15), lane["y"] + 5, steps=5)
    page.mouse.up()
    expect(page, "document.getElementById('review-count').textContent.startsWith('12 of 24')")
    assert review_doc(api, enriched)["unreviewed"] == [[6, 9], [16, 23]]
    page.get_by_role("button", name="Next unreviewed").click()
    at_frame(page, 16)
    page.get_by_role("button", name="Next unreviewed").click()
    at_frame(page, 6)  # round to the first

    # the face-like regions: the plate (frames 5-13) and a patch of wall (19-21)
    nxt = page.get_by_role("button", name="Next region without a box (2)")
    nxt.click()
    at_frame(page, 18)
    assert "face-like region 2" in page.locator("#overlay").get_attribute("aria-label")
    page.get_by_role("button", name="Not a face", exact=True).click()
    expect(page, "document.getElementById('next-candidate').textContent.includes('(1)')")
    page.get_by_role("button", name="Next region without a box (1)").click()
    at_frame(page, 4)
    page.get_by_role("button", name="Blur it (a face)").click()
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 4")
    doc = review_doc(api, enriched)
    accepted = max(f["id"] for f in doc["faces"])
    assert accepted in doc["selected"] and doc["candidates"] == []
    assert [b[0] for b in doc["frames"][8]].count(accepted) == 1
    assert page.get_by_role("button", name=re.compile("Next region without a box")).is_disabled()

    # leave face 2 visible: the spurious ID beside it reaches over it with its blur
    page.get_by_label("Blur Face 2", exact=True).uncheck()
    expect(page, "!document.getElementById('next-covered').disabled")
    card = page.locator("#covered li").first
    assert "Face 2 (visible) is under a blur on frames" in card.inner_text()
    assert f"(Face {SPURIOUS})" in card.inner_text()
    page.locator("#todo-title").scroll_into_view_if_needed()
    pictures_loaded(page)
    screenshot(page, "9-to-look-at")
    page.get_by_role("button", name="Next covered face (1)").click()
    first = review_doc(api, enriched)["covered"][0]["start"]
    at_frame(page, first)
    assert "Face 2 (visible)" in page.locator("#active-label").inner_text()

    # low-confidence IDs are shown apart
    assert SPURIOUS not in rows(page) and rows(page, "#low-rows") == [SPURIOUS]
    assert "Low confidence: 1 ID" in page.locator("#low-summary").inner_text()
    # clicking twice where two boxes overlap picks the other one
    doc = review_doc(api, enriched)
    small = next(b for b in doc["frames"][first] if b[0] == 2)
    spurious = next(b for b in doc["frames"][first] if b[0] == SPURIOUS)
    page.locator("#overlay").scroll_into_view_if_needed()
    r = page.locator("#overlay").bounding_box()
    x = r["x"] + (small[1] + 0.1 * small[3]) * r["width"]  # inside both boxes
    y = r["y"] + (spurious[2] + 0.5 * spurious[4]) * r["height"]
    assert small[1] < (x - r["x"]) / r["width"] < spurious[1] + spurious[3]
    page.mouse.click(x, y)
    label = page.locator("#active-label")
    expect(page, "document.getElementById('active-label').textContent.includes('click again')")
    chosen = int(re.search(r"Face (\d+)", label.inner_text()).group(1))
    page.mouse.click(x, y)
    expect(
        page,
        f"!document.getElementById('active-label').textContent.startsWith('Face {chosen} ')",
    )

    # the export warns of what is still open, and records it
    warnings = page.locator("#redact-warnings").inner_text()
    assert "12 of 24 frames are not marked reviewed (first: frame 7)" in warnings


# -- merges -----------------------------------------------------------------------------------


def test_merges_ask_first_with_pictures_and_keep_one_box_per_frame(
    page, review_api: ReviewApi, enriched: str
):
    api = review_api
    open_review(page, api, enriched)
    card = page.locator("#suggestions li").first
    assert f"Faces 1 and {OTHER_HALF} look like one person (88 %)" in card.inner_text()
    assert card.locator(".tl-tile").count() >= 4  # both faces' pictures

    # "not the same person" dismisses it; undo brings it back
    page.get_by_role("button", name=f"Faces 1 and {OTHER_HALF} are not the same person").click()
    expect(page, "document.querySelectorAll('#suggestions li').length === 0")
    page.locator("#undo").click()
    expect(page, "document.querySelectorAll('#suggestions li').length === 1")

    # merge asks first, with both pictures; cancel changes nothing
    page.get_by_role("button", name=f"Merge faces 1 and {OTHER_HALF}").click()
    dialog = page.locator("#dialog")
    page.get_by_role("heading", name=f"Merge Face {OTHER_HALF} into Face 1?").wait_for()
    assert dialog.locator(".tl-tile").count() >= 8
    page.get_by_role("button", name="Cancel").click()
    assert OTHER_HALF in [f["id"] for f in review_doc(api, enriched)["faces"]]
    page.get_by_role("button", name=f"Merge faces 1 and {OTHER_HALF}").click()
    pictures_loaded(page)
    screenshot(page, "10-merge-confirmation")
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page, f"!document.querySelector('.tl-row[data-id=\"{OTHER_HALF}\"]')")
    face = next(f for f in review_doc(api, enriched)["faces"] if f["id"] == 1)
    assert face["frames"] == FRAMES

    # the merge menu lists the other faces with their pictures; two faces on screen together
    # become one box on each frame (their union), never two boxes of one ID
    page.get_by_role("button", name="Go to Face 1, seen from 0.00 s to 1.92 s").click()
    page.get_by_role("button", name="Merge with…").click()
    menu = page.locator(".merge-menu")
    assert menu.locator("li").count() == 2 and menu.locator(".tl-tile").count() >= 6
    page.get_by_role(
        "button", name=re.compile(r"^Merge Face 2 \(frames 1–24\) into Face 1$")
    ).click()
    page.get_by_role("heading", name="Merge Face 2 into Face 1?").wait_for()
    assert "Both are on screen on 24 frames (frames 1–24): there one box will cover both" in (
        dialog.inner_text()
    )
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page, "!document.querySelector('.tl-row[data-id=\"2\"]')")
    doc = review_doc(api, enriched)
    for frame in doc["frames"]:
        ids = [b[0] for b in frame]
        assert ids.count(1) == 1, ids
    link = api.client.post(
        f"/v1/review/jobs/{enriched}/downloads", json={"name": "annotations.json"}
    ).json()["link"]
    exported = api.client.get(link).json()
    for _, faces in events(exported):
        assert len({f["id"] for f in faces}) == len(faces)
    assert "mergeSuggestions" not in exported  # the suggested IDs are one now
    assert [i["id"] for i in exported["ids"]] == [1, SPURIOUS]


# -- confirmations ----------------------------------------------------------------------------


def test_redact_with_nothing_blurred_asks_first(page, review_api: ReviewApi, job: str):
    api = review_api
    open_review(page, api, job)
    page.get_by_role("button", name="Blur none").click()
    expect(page, "document.querySelectorAll('#rows .tl-row.blurred').length === 0")
    assert "every face visible" in page.locator("#redact-warnings").inner_text()
    jobs = len(api.client.get("/v1/jobs").json()["jobs"])
    page.get_by_role("button", name="Redact video").click()
    page.get_by_role("heading", name="Publish with every face visible?").wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_timeout(300)
    assert len(api.client.get("/v1/jobs").json()["jobs"]) == jobs  # nothing queued
    page.get_by_role("button", name="Redact video").click()
    page.get_by_role("button", name="Redact with nothing blurred").click()
    page.locator("#result").wait_for(timeout=120_000)
    record = review_doc(api, job)["redactions"][-1]
    assert record["ids"] == [] and "nothing-blurred" in record["warnings"]


# -- layout, sign-out --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1024, 700), (1280, 800), (1920, 1080)], ids=str)
def test_video_and_box_fields_stay_in_view(browser, review_api: ReviewApi, job: str, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        open_review(page, review_api, job)
        page.get_by_role("button", name="Go to Face 1, seen from 0.00 s to 1.92 s").click()
        expect(page, "document.getElementById('box-x').value !== ''")
        for selector in ("#stage", "#box-x", "#box-h", "#apply-box", "#split", "#undo"):
            r = page.locator(selector).bounding_box()
            assert r["x"] >= 0 and r["y"] >= 0, selector
            assert r["x"] + r["width"] <= width and r["y"] + r["height"] <= height, selector
        stage = page.locator("#stage").bounding_box()
        assert stage["width"] >= 0.6 * width - 40  # the video keeps most of the width
        if width == 1024:
            pictures_loaded(page)
            screenshot(page, "11-at-1024x700")
        assert abs(stage["width"] / stage["height"] - 640 / 360) < 0.02
    finally:
        context.close()


def test_signing_out_leaves_nothing_of_the_video(page, review_api: ReviewApi, job: str, tmp_path):
    api = review_api
    other = analyzed(api, make_clip(tmp_path / "walk.mp4").path)
    open_review(page, api, job)
    page.get_by_role("button", name="Go to Face 2, seen from 0.00 s to 1.92 s").click()
    expect(page, "document.getElementById('box-x').value !== ''")
    video = page.evaluate("document.getElementById('video').getAttribute('src')")
    assert httpx.get(api.url + video).status_code == 200
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API token").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert httpx.get(api.url + video).status_code == 403  # its links died with the session
    state = page.evaluate(
        """() => ({
          video: document.getElementById('video').getAttribute('src'),
          rows: document.querySelectorAll('.tl-row[data-id]').length,
          x: document.getElementById('box-x').value,
          title: document.getElementById('review-title').textContent,
          history: document.getElementById('history').children.length,
        })"""
    )
    assert state == {"video": None, "rows": 0, "x": "", "title": "", "history": 0}
    # signed in again, another video starts clean: no face chosen, no values from the first
    sign_in(page, api)
    page.goto(f"{api.url}/#/jobs/{other}")
    page.locator("#rows .tl-row").first.wait_for()
    assert rows(page) == [1]
    assert page.locator("#box-x").input_value() == ""
    assert page.locator("#active-label").inner_text().startswith("No face chosen")
    # and back to the first one: its own boxes, not the other's
    page.goto(f"{api.url}/#/jobs/{job}")
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 2")
    assert page.locator("#box-x").input_value() == ""


def test_a_policy_requiring_review_holds_the_redaction_back(page, review_api: ReviewApi, job: str):
    api = review_api
    api.store.policy.put(Policy(require_review=True, min_blur=BlurType.MED), "admin")
    try:
        open_review(page, api, job)
        # blurs weaker than the policy's cannot be chosen (box, which publishes nothing, can)
        options = page.locator("#blur option")
        refused = options.evaluate_all("os => os.filter(o => o.disabled).map(o => o.value)")
        assert sorted(refused) == ["low", "pixelate"]
        assert page.locator("#redact").is_disabled()
        assert (
            "policy asks for every frame to be reviewed"
            in page.locator("#redact-warnings").inner_text()
        )
        refused = api.client.post(f"/v1/review/jobs/{job}/redact", json={"confirm": []})
        assert refused.status_code == 409 and "reviewed first" in refused.json()["detail"]
        page.locator("#overlay").focus()
        page.keyboard.press("End")
        at_frame(page, FRAMES - 1)
        page.keyboard.press("r")  # every frame up to here: all of them
        expect(page, "!document.getElementById('redact').disabled")
        assert review_doc(api, job)["unreviewed"] == []
    finally:
        api.store.policy.put(Policy(), "admin")


def test_a_long_unicode_name_is_shown_and_downloaded_whole(
    page, review_api: ReviewApi, review_clip: ReviewClip, tmp_path
):
    api = review_api
    name = ("Überwachung Straße Ürün 東京 " * 12)[:271] + ".mp4"  # 275 characters
    clip = tmp_path / name.encode()[:200].decode(errors="ignore")  # the file system's limit
    clip.write_bytes(review_clip.path.read_bytes())
    sign_in(page, api)
    # the browser sends the file under the long name (as a file picker would)
    page.get_by_label("Video or image").set_input_files(
        {"name": name, "mimeType": "video/mp4", "buffer": clip.read_bytes()}
    )
    page.get_by_role("button", name="Upload and analyze").click()
    page.locator("#rows .tl-row").first.wait_for(timeout=120_000)
    job_id = re.search(r"#/jobs/([0-9a-f]+)", page.url).group(1)
    source_name = api.client.get(f"/v1/jobs/{job_id}").json()["source_name"]
    assert "Ü" in source_name and "ß" in source_name and "東京" in source_name
    title = page.locator("#review-title")
    assert title.inner_text().startswith(source_name + ":")  # whole, wrapped, not cut
    assert title.evaluate("e => e.scrollWidth <= e.clientWidth")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ID list").click()
    stem = source_name.rsplit(".", 1)[0]
    assert download.value.suggested_filename == f"{stem}_ids.txt"
    ids = tmp_path / "ids.txt"
    download.value.save_as(ids)
    assert ids.read_text() == "1\n2\n"  # Azure's ID list: the IDs to blur, one per line


def test_an_open_review_fetches_fresh_links_before_they_expire(
    page, review_api: ReviewApi, job: str
):
    """Signed links live for minutes: a review left open asks for its document again."""
    page.clock.install()
    open_review(page, review_api, job)
    with page.expect_request(lambda r: r.url.endswith(f"/v1/review/jobs/{job}")) as asked:
        page.clock.run_for("08:05")
    assert asked.value.headers["authorization"].startswith("Bearer ")
