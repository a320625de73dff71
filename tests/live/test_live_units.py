"""The real-time core without a source: queue, face memory, timeline, statistics, router."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from veil.errors import VeilError
from veil.live import FaceMotion, LiveFaces, LiveHub, LiveStats, parse_duration
from veil.live.http import live_router
from veil.live.queues import Closed, DropOldestQueue
from veil.live.source_thread import StreamTimeline
from veil.live.stats import prometheus_text
from veil.types import Detections


def dets(*boxes: tuple[float, float, float, float]) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes), np.float32))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600.0), ("30s", 30.0), ("1.5h", 5400.0), ("500ms", 0.5), ("2", 2.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "-1s", "0", "5x"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(VeilError):
        parse_duration(text)


def test_queue_drops_oldest_and_counts() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(3)
    dropped = sum(q.put(i) for i in range(5))
    assert dropped == 2
    assert [q.get(0.1), q.get(0.1), q.get(0.1)] == [2, 3, 4]
    assert q.get(0.01) is None
    q.close()
    with pytest.raises(Closed):
        q.get(0.01)


def test_blocking_queue_never_drops() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(2, block=True)
    got: list[int] = []

    def consume() -> None:
        while True:
            try:
                item = q.get(1.0)
            except Closed:
                return
            if item is not None:
                got.append(item)

    thread = threading.Thread(target=consume)
    thread.start()
    assert sum(q.put(i) for i in range(50)) == 0
    q.close()
    thread.join(5)
    assert got == list(range(50))


def test_faces_move_with_velocity_and_grow_with_age() -> None:
    faces = LiveFaces(FaceMotion(hold=1.0, speed_margin=0.5, size_margin=0.5))
    faces.update(0.0, dets((100, 100, 140, 140)))
    faces.update(0.1, dets((110, 100, 150, 140)))  # 100 px/s to the right (smoothed: 50)
    (now,) = faces.boxes_at(0.1)
    assert (now.x0, now.x1) == pytest.approx((110, 150))
    (later,) = faces.boxes_at(0.3)
    centre = (later.x0 + later.x1) / 2
    assert centre > 130 + 5  # moved right
    assert later.x1 - later.x0 > 40 and later.y1 - later.y0 > 40  # grown with age
    (earlier,) = faces.boxes_at(0.05)  # a frame older than the detection is covered too
    assert earlier.x0 < 110 and earlier.x1 > 150 - 5
    assert faces.boxes_at(1.2) == []  # forgotten after hold


def test_new_face_gets_new_id_and_growth_is_capped() -> None:
    faces = LiveFaces(FaceMotion(hold=5.0, max_growth=0.5))
    faces.update(0.0, dets((0, 0, 20, 20)))
    faces.update(0.1, dets((0, 0, 20, 20), (200, 200, 220, 220)))
    ids = sorted(b.face_id for b in faces.boxes_at(0.1))
    assert ids == [1, 2]
    far = next(b for b in faces.boxes_at(4.0) if b.face_id == 1)
    assert far.x1 - far.x0 == pytest.approx(40)  # 20 + 2 * 0.5 * 20


def test_covered_only_near_a_detection() -> None:
    faces = LiveFaces()
    assert not faces.covered(0.0, 1.0)  # nothing detected yet: cover the whole frame
    faces.update(2.0, dets())
    assert faces.covered(2.5, 1.0) and faces.covered(1.5, 1.0)
    assert not faces.covered(3.5, 1.0)


def test_timeline_increases_across_reconnections() -> None:
    line = StreamTimeline(started=100.0, paced=False, free_running=False)
    times = [line.time(pts, 95.0 + pts, 0.04) for pts in (5.0, 5.04, 5.08)]
    assert times == pytest.approx([0.0, 0.04, 0.08])
    line.restart()  # the source came back, its clock starting again from 0
    after = line.time(0.0, 103.0, 0.04)
    assert after == pytest.approx(3.0)
    assert line.time(None, 103.05, 0.04) == pytest.approx(3.04)


def test_free_running_file_loops_continue_time() -> None:
    line = StreamTimeline(started=0.0, paced=False, free_running=True)
    first = [line.time(p, 0.0, 0.5) for p in (0.0, 0.5, 1.0)]
    line.restart()
    assert line.time(0.0, 0.0, 0.5) == pytest.approx(first[-1] + 0.5)


def test_stats_json_and_prometheus() -> None:
    now = [0.0]
    stats = LiveStats("cam 1", "rtsp://x", clock=lambda: now[0])
    for i in range(50):
        now[0] = i / 25
        stats.frame_in()
        stats.frame_out(latency=0.010 + i / 10000, repeated=False, covered_whole=False)
    stats.drop(3)
    stats.detection(0.02, 0.03, 2)
    snap = stats.snapshot()
    assert snap["dropped_frames"] == 3 and snap["frames_out"] == 50
    assert snap["input_fps"] == pytest.approx(25, rel=0.05)
    assert 10 <= snap["latency_ms"]["p50"] <= snap["latency_ms"]["p95"] <= 15
    json.dumps(snap)
    text = prometheus_text([snap])
    assert 'veil_live_dropped_frames_total{stream="cam 1"} 3.0' in text
    assert 'veil_live_latency_seconds{stream="cam 1",quantile="0.95"}' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split(" ")) >= 2


def test_router_serves_folders_and_hub(tmp_path) -> None:
    folder = tmp_path / "lobby"
    folder.mkdir()
    (folder / "index.m3u8").write_text("#EXTM3U\n")
    (folder / "seg_00000.ts").write_bytes(b"\x47" * 188)
    (folder / "stats.json").write_text(json.dumps(LiveStats("lobby", "x").snapshot()))
    hub = LiveHub()
    hub.add("desk", LiveStats("desk", "y").snapshot, None)
    app = FastAPI()
    app.include_router(live_router(tmp_path, hub))
    client = TestClient(app)
    assert client.get("/live").json() == {"streams": ["desk", "lobby"]}
    page = client.get("/live/lobby")
    assert page.status_code == 200 and "index.m3u8" in page.text
    assert (
        client.get("/live/lobby/index.m3u8")
        .headers["content-type"]
        .startswith("application/vnd.apple.mpegurl")
    )
    assert client.get("/live/lobby/seg_00000.ts").content[:1] == b"\x47"
    assert client.get("/live/desk/stats").json()["name"] == "desk"
    metrics = client.get("/live/metrics").text
    assert 'stream="desk"' in metrics and 'stream="lobby"' in metrics
    for bad in ("/live/nope", "/live/lobby/..%2Fstats.json", "/live/lobby/stats.json",
                "/live/desk/mjpeg", "/live/lobby/index.m3u8x"):  # fmt: skip
        assert client.get(bad).status_code == 404, bad
