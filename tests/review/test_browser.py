"""The review app in a real browser (Debian's Chromium, headless, driven by Playwright).

The main test goes the whole way a person would: sign in, upload, watch the
analysis, step through frames, leave one face visible, draw a box over
something the detector missed and extend it with a second keyframe, preview,
redact, download; then the downloaded video is checked pixel by pixel.
Screenshots of each screen go to docs/screenshots/ (they are the README's).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from helpers import decode_frames, region_diff, shrink
from review.helpers import (
    FRAMES,
    HEIGHT,
    WIDTH,
    ReviewApi,
    ReviewClip,
    analyzed,
    pictures_loaded,
    screenshot,
)
from service.helpers import make_clip

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ENCODE_NOISE = 5.0  # mean difference a re-encode leaves on an untouched face
BLURRED = 12.0
PLATE_HIDDEN = 40.0  # a blurred checkerboard turns grey: a large change
# the drawn box: drawn on frame FIRST over the plate, keyframed again on LAST
FIRST, LAST = 4, 16


def expect(page, check: str, timeout: float = 30) -> None:
    """Wait until the JavaScript expression ``check`` is true in the page."""
    page.wait_for_function(check, timeout=timeout * 1000)


def sign_in(page, api: ReviewApi) -> None:
    page.goto(api.url + "/")
    page.get_by_label("API token").fill(api.token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Upload a video").wait_for()


def at_frame(page, frame: int) -> None:
    """The player has the frame on screen (the video has presented it, boxes drawn)."""
    expect(
        page,
        f"document.getElementById('stage').dataset.frame === '{frame}' && "
        f"document.getElementById('stage').dataset.shown === '{frame}'",
    )


def frame_in_page(page, clip_box: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """A box in video pixels as page coordinates on the overlay."""
    r = page.locator("#overlay").bounding_box()
    sx, sy = r["width"] / WIDTH, r["height"] / HEIGHT
    x0, y0, x1, y1 = clip_box
    return r["x"] + x0 * sx, r["y"] + y0 * sy, r["x"] + x1 * sx, r["y"] + y1 * sy


def review_doc(api: ReviewApi, job_id: str) -> dict:
    return api.client.get(f"/v1/review/jobs/{job_id}").json()


def test_upload_analyze_choose_draw_redact_download(
    page, review_api: ReviewApi, review_clip: ReviewClip, tmp_path: Path
):
    api = review_api
    page.goto(api.url + "/")
    page.get_by_label("API token").wait_for()
    screenshot(page, "1-sign-in")
    page.get_by_label("API token").fill("veil_wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("This token is not valid").wait_for()
    sign_in(page, api)

    # -- upload (throttled so that its progress can be seen) and analysis (slowed down)
    cdp = page.context.new_cdp_session(page)
    size = review_clip.path.stat().st_size
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": size / 1.5,
        },
    )
    progress_shown = threading.Event()

    def hold_halfway(job, n: int) -> None:
        # the analysis waits half-way until the page has shown its progress
        if n >= FRAMES // 2:
            progress_shown.wait(60)

    api.worker.runner.frame_hook = hold_halfway
    try:
        page.get_by_label("Video or image").set_input_files(str(review_clip.path))
        page.get_by_role("button", name="Upload and analyze").click()
        expect(page, "document.getElementById('upload-progress').value > 0")
        screenshot(page, "2-upload")
        page.get_by_role("heading", name="Analyzing").wait_for()
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        expect(page, "(v => v > 10 && v < 90)(document.getElementById('analyze-progress').value)")
        screenshot(page, "3-analyzing")
    finally:
        progress_shown.set()
        api.worker.runner.frame_hook = None

    # -- the review: video, boxes, gallery
    page.locator("#review-view").wait_for()
    page.locator("#rows .tl-row").nth(1).wait_for()
    job_id = re.search(r"#/jobs/([0-9a-f]+)", page.url).group(1)
    at_frame(page, 0)
    doc = review_doc(api, job_id)
    assert len(doc["faces"]) == 2
    big, small = sorted(doc["faces"], key=lambda f: -f["size"])
    page.get_by_label("Sort by").select_option("size")
    first_li = page.locator("#rows .tl-row").first
    assert first_li.get_attribute("data-id") == str(big["id"])
    assert "0.00 s–1.92 s · 24 frames" in first_li.inner_text()
    label = page.locator("#overlay").get_attribute("aria-label")
    assert f"face {big['id']} (blurred)" in label and f"face {small['id']} (blurred)" in label

    # keyboard: frame by frame, ten at a time, back to the start
    page.locator("#overlay").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    at_frame(page, 3)
    assert "Frame 4 / 24" in page.locator("#frame-label").inner_text()
    page.keyboard.press("Shift+ArrowRight")
    at_frame(page, 13)
    page.keyboard.press("Home")
    at_frame(page, 0)
    pictures_loaded(page)
    screenshot(page, "4-review", full_page=True)

    # -- leave the small face visible
    page.get_by_label(f"Blur Face {small['id']}").uncheck()
    small_li = f"document.querySelector('#rows .tl-row[data-id=\"{small['id']}\"]')"
    expect(page, f"!{small_li}.classList.contains('blurred')")
    assert review_doc(api, job_id)["selected"] == [big["id"]]

    # -- the gallery seeks: the small face's button goes to its first frame
    page.get_by_role("button", name=re.compile(f"Go to Face {small['id']},")).click()
    at_frame(page, small["first"])

    # -- draw a box over the plate on frame FIRST, with the mouse
    page.locator("#overlay").focus()
    for _ in range(FIRST - small["first"]):
        page.keyboard.press("ArrowRight")
    at_frame(page, FIRST)
    page.get_by_role("button", name="Draw a box").click()
    x0, y0, x1, y1 = review_clip.plates[FIRST]
    px0, py0, px1, py1 = frame_in_page(page, (x0 - 3, y0 - 3, x1 + 3, y1 + 3))
    page.mouse.move(px0, py0)
    page.mouse.down()
    page.mouse.move((px0 + px1) / 2, (py0 + py1) / 2, steps=4)
    page.mouse.move(px1, py1, steps=4)
    page.mouse.up()
    page.locator("#rows .tl-row").nth(2).wait_for()
    drawn = review_doc(api, job_id)["manual"]
    assert len(drawn) == 1
    manual_id = drawn[0]["id"]
    assert (drawn[0]["start"], drawn[0]["end"], drawn[0]["keys"]) == (FIRST, FIRST, [FIRST])
    assert page.get_by_role("button", name="Draw a box").get_attribute("aria-pressed") == "false"

    # -- extend it to frame LAST and put a second keyframe there, with the keyboard
    page.locator("#overlay").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    at_frame(page, LAST)
    page.get_by_role("button", name="Extend to this frame").focus()
    page.keyboard.press("Enter")
    label = "document.getElementById('active-label').textContent"
    expect(page, f"{label}.includes('{FIRST + 1}–{LAST + 1}')")
    x0, y0, x1, y1 = review_clip.plates[LAST]
    fields = {"X": x0 - 3, "Y": y0 - 3, "Width": x1 - x0 + 6, "Height": y1 - y0 + 6}
    for field, value in fields.items():
        page.get_by_label(field, exact=True).fill(str(value))
    page.get_by_role("button", name="Set box on this frame").focus()
    page.keyboard.press("Enter")
    expect(page, f"{label}.includes('keyframes {FIRST + 1}, {LAST + 1}')")
    drawn = review_doc(api, job_id)["manual"][0]
    assert (drawn["start"], drawn["end"], drawn["keys"]) == (FIRST, LAST, [FIRST, LAST])
    middle = (FIRST + LAST) // 2
    page.locator("#overlay").focus()
    for _ in range(LAST - middle):
        page.keyboard.press("ArrowLeft")
    at_frame(page, middle)
    screenshot(page, "5-drawn-box")

    # -- preview the blur on this frame, rendered by the server
    page.get_by_label("Blur type").select_option("high")
    page.get_by_role("button", name="Preview blur on this frame").click()
    page.locator("#preview").wait_for()
    assert page.locator("#stage").get_attribute("data-preview") == str(middle)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "6-preview")
    page.get_by_role("button", name="Close preview").click()

    # -- a reload loses nothing
    page.reload()
    page.locator("#rows .tl-row").nth(2).wait_for()
    assert not page.get_by_label(f"Blur Face {small['id']}").is_checked()
    assert page.get_by_label(f"Blur Face {manual_id}").is_checked()
    assert page.get_by_label("Blur type").input_value() == "high"

    # -- redact, watch it, play and download the result
    page.get_by_role("button", name="Redact video").click()
    # nobody marked the frames reviewed: the redaction says so and asks first
    page.get_by_role("heading", name="Redact with these warnings?").wait_for()
    assert "24 of 24 frames are not marked reviewed" in page.locator("#dialog").inner_text()
    page.get_by_role("button", name="Redact anyway").click()
    page.locator("#result").wait_for(timeout=120_000)
    result_video = page.locator("#result-video")
    expect(page, "document.getElementById('result-video').readyState >= 2")
    result_video.evaluate(  # a frame where the drawn box is hidden too
        "v => new Promise(done => { v.onseeked = done; v.currentTime = 0.9; })"
    )
    expect(page, "document.getElementById('result-video').readyState === 4")
    report_text = page.locator("#result-report").inner_text()
    assert "Redacted by reviewer" in report_text
    assert f"faces {big['id']}, {manual_id} hidden" in report_text
    page.locator("#redact-title").evaluate("e => e.scrollIntoView()")
    screenshot(page, "7-redacted")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the redacted video").click()
    video = tmp_path / download.value.suggested_filename
    download.value.save_as(video)
    assert video.name == "street_redacted.mp4"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ID list").click()
    ids_file = tmp_path / "ids.txt"
    download.value.save_as(ids_file)
    assert ids_file.read_text() == f"{big['id']}\n{manual_id}\n"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download edited annotations").click()
    ann_file = tmp_path / "annotations.json"
    download.value.save_as(ann_file)
    annotations = json.loads(ann_file.read_text())
    boxes = [f for frag in annotations["fragments"] for e in frag["events"] for f in e]
    drawn_boxes = [f for f in boxes if f["id"] == manual_id]
    assert len(drawn_boxes) == LAST - FIRST + 1 and all(f.get("manual") for f in drawn_boxes)
    assert not any(f.get("manual") for f in boxes if f["id"] != manual_id)

    # -- the redaction is recorded: who, which faces
    jobs = api.client.get("/v1/jobs", params={"state": "finished"}).json()["jobs"]
    redaction = next(j for j in jobs if j["mode"] == "redact")
    report = api.client.get(f"/v1/jobs/{redaction['id']}/report").json()
    assert report["who"] == "reviewer"
    assert report["face_ids"] == sorted([big["id"], manual_id])
    assert report["settings"]["blur"] == "high"

    # -- the pixels: small face untouched, big face and the plate (on FIRST..LAST) hidden
    before, after = decode_frames(review_clip.path), decode_frames(video)
    assert len(after) == len(before) == FRAMES
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        big_box, small_box = review_clip.faces[i]
        assert region_diff(a, b, shrink(big_box)) > BLURRED, f"big face visible in frame {i}"
        assert region_diff(a, b, shrink(small_box)) < ENCODE_NOISE, f"small face changed in {i}"
        plate = region_diff(a, b, shrink(review_clip.plates[i]))
        if FIRST <= i <= LAST:
            assert plate > PLATE_HIDDEN, f"the drawn box did not hide frame {i} ({plate:.1f})"
        else:
            assert plate < ENCODE_NOISE * 2, f"frame {i} changed outside the drawn range"


UNNAMED_CONTROLS = """() => [...document.querySelectorAll('button, input, select, a[href], canvas')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => {
    const label = e.labels && e.labels[0] && e.labels[0].textContent;
    const name = e.getAttribute('aria-label') || label || e.textContent;
    return !name || !name.trim();
  })
  .map((e) => e.id || e.outerHTML.slice(0, 80))"""


def face_ids(api: ReviewApi, job_id: str) -> list[int]:
    return [f["id"] for f in review_doc(api, job_id)["faces"]]


def test_keyboard_choices_merge_split_move_resize_play(
    page, review_api: ReviewApi, review_clip: ReviewClip
):
    api = review_api
    job_id = analyzed(api, review_clip.path)
    sign_in(page, api)
    page.get_by_role("button", name=re.compile(r"^Review street\.mp4")).first.wait_for()
    page.goto(f"{api.url}/#/jobs/{job_id}")
    page.locator("#rows .tl-row").nth(1).wait_for()
    at_frame(page, 0)
    assert page.evaluate(UNNAMED_CONTROLS) == []

    def press(name: str | re.Pattern, key: str = "Enter") -> None:
        page.get_by_role("button", name=name, exact=isinstance(name, str)).focus()
        page.keyboard.press(key)

    def selected_becomes(ids: list[int]) -> None:
        wanted = json.dumps(sorted(ids), separators=(",", ":"))
        hidden = "[...document.querySelectorAll('#rows .tl-row.blurred')]"
        ids_js = f"{hidden}.map(li => +li.dataset.id).sort((a, b) => a - b)"
        expect(page, f"JSON.stringify({ids_js}) === '{wanted}'")
        assert review_doc(api, job_id)["selected"] == sorted(ids)

    # -- choose with the keyboard: none, invert, one checkbox, all
    press("Blur none")
    selected_becomes([])
    press("Invert", " ")
    selected_becomes([1, 2])
    page.get_by_label("Blur Face 1").focus()
    page.keyboard.press(" ")
    selected_becomes([2])
    press("Blur all")
    selected_becomes([1, 2])

    # -- sort
    sizes = {f["id"]: f["size"] for f in review_doc(api, job_id)["faces"]}

    def order() -> list[int]:
        return page.locator("#rows .tl-row").evaluate_all(
            "items => items.map(li => +li.dataset.id)"
        )

    page.get_by_label("Sort by").select_option("size")
    assert order() == sorted(sizes, key=lambda i: -sizes[i])
    page.get_by_label("Sort by").select_option("id")
    assert order() == [1, 2]

    # -- split face 1 at frame 10, then merge the two halves again
    press(re.compile(r"^Go to Face 1,"))
    at_frame(page, 0)
    page.locator("#overlay").focus()
    page.keyboard.press("Shift+ArrowRight")
    at_frame(page, 10)
    press("Split here")
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 3")
    faces = {f["id"]: f for f in review_doc(api, job_id)["faces"]}
    assert (faces[1]["last"], faces[3]["first"], faces[3]["frames"]) == (9, 10, 14)
    press(re.compile(r"^Go to Face 1,"))
    press("Merge with…")
    press(re.compile(r"^Merge Face 3 .* into Face 1$"))
    page.get_by_role("heading", name="Merge Face 3 into Face 1?").wait_for()
    press("Merge")
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 2")
    assert face_ids(api, job_id) == [1, 2]
    page.locator("#overlay").focus()
    page.keyboard.press("Shift+ArrowRight")
    at_frame(page, 10)

    # -- move face 2's box on this frame with the mouse, then resize it by its corner
    doc = review_doc(api, job_id)
    [before] = [b for b in doc["frames"][10] if b[0] == 2]
    x, y, w, h = before[1:5]
    box = (x * WIDTH, y * HEIGHT, (x + w) * WIDTH, (y + h) * HEIGHT)
    px0, py0, px1, py1 = frame_in_page(page, box)
    scale = (px1 - px0) / (box[2] - box[0])
    page.mouse.move((px0 + px1) / 2, (py0 + py1) / 2)
    page.mouse.down()
    page.mouse.move((px0 + px1) / 2 + 20 * scale, (py0 + py1) / 2 + 10 * scale, steps=5)
    page.mouse.up()
    expect(page, "document.querySelector('#rows .tl-row[data-id=\"2\"] .badge') !== null")
    [moved] = [b for b in review_doc(api, job_id)["frames"][10] if b[0] == 2]
    assert moved[1] * WIDTH == pytest.approx(box[0] + 20, abs=1.5)
    assert moved[2] * HEIGHT == pytest.approx(box[1] + 10, abs=1.5)
    assert moved[5] == 1  # marked manual
    corner = (px1 + 20 * scale, py1 + 10 * scale)
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(corner[0] + 16 * scale, corner[1] + 8 * scale, steps=5)
    page.mouse.up()
    expect(page, f"document.getElementById('box-w').value === '{round(w * WIDTH + 16)}'")
    [resized] = [b for b in review_doc(api, job_id)["frames"][10] if b[0] == 2]
    assert resized[3] * WIDTH == pytest.approx(w * WIDTH + 16, abs=1.5)
    assert resized[1] == moved[1]
    # other frames keep the detector's boxes
    assert all(b[5] == 0 for b in review_doc(api, job_id)["frames"][9])

    # -- delete that box, add a box with the keyboard only, then undo everything
    press("Delete box on this frame")
    expect(
        page,
        "document.querySelector('#rows .tl-row[data-id=\"2\"] .meta').textContent"
        ".includes('23 frames')",
    )
    press("Add a box on this frame")
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 3")
    assert review_doc(api, job_id)["manual"][0]["start"] == 10
    press(re.compile("Undo all edits"))
    press("Undo all edits")  # the dialog's button
    expect(page, "document.querySelectorAll('#rows .tl-row').length === 2")
    doc = review_doc(api, job_id)
    assert doc["manual"] == [] and all(f["frames"] == 24 for f in doc["faces"])

    # -- play with K: the boxes follow the frames on screen; K again pauses
    page.locator("#overlay").focus()
    page.keyboard.press("Home")
    at_frame(page, 0)
    page.keyboard.press("k")
    expect(page, "+document.getElementById('stage').dataset.shown >= 6")
    page.keyboard.press("k")
    expect(page, "document.getElementById('video').paused")
    # pausing settles on a whole frame (the player seeks to it, after the
    # "pause" event): let that happen, then wait for the frame to be on screen
    page.wait_for_timeout(500)
    expect(
        page,
        "document.getElementById('stage').dataset.frame === "
        "document.getElementById('stage').dataset.shown",
    )
    frame = int(page.locator("#stage").get_attribute("data-frame"))
    at_frame(page, frame)
    assert f"Frame {frame + 1} / 24" in page.locator("#frame-label").inner_text()


def test_a_format_the_browser_cannot_play_is_shown_frame_by_frame(
    page, review_api: ReviewApi, tmp_path: Path
):
    """Chromium plays no AVI: the player falls back to frames decoded by veil, boxes and all."""
    api = review_api
    clip = make_clip(tmp_path / "walk.avi")
    job_id = analyzed(api, clip.path)
    sign_in(page, api)
    page.goto(f"{api.url}/#/jobs/{job_id}")
    page.locator("#rows .tl-row").first.wait_for()
    expect(page, "document.getElementById('stage').dataset.stills === 'true'")
    assert page.get_by_role("button", name="Play").is_disabled()
    at_frame(page, 0)
    page.locator("#overlay").focus()
    page.keyboard.press("End")
    at_frame(page, 7)
    still = page.locator("#still")
    assert still.evaluate("img => img.complete && img.naturalWidth") == 320
    assert "face 1 (blurred)" in page.locator("#overlay").get_attribute("aria-label")
