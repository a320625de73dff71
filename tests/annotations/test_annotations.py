"""Annotations: Azure layout, tracks -> annotations, lookups, file I/O."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from veil.annotations import (
    AnnotationIndex,
    FrameClock,
    dump_annotations,
    faces_at,
    parse_annotations,
    read_annotations,
    select_ids,
    to_ticks,
    tracks_to_annotations,
    validate_annotations,
    write_annotations,
)
from veil.errors import InputError
from veil.types import FaceTrack

# From Microsoft's Azure Media Redactor documentation.
AZURE_EXAMPLE = (
    '{"version":1,"timescale":24000,"offset":0,"framerate":23.976,"width":1280,"height":720,'
    '"fragments":[{"start":0,"duration":48048,"interval":1001,"events":['
    + ",".join(["[]"] * 48)
    + ']},{"start":48048,"duration":48048,"interval":1001,"events":[[{"index":13,"id":1138,'
    '"x":0.29537,"y":-0.18987,"width":0.36239,"height":0.80335},{"index":13,"id":2028,'
    '"x":0.60427,"y":0.16098,"width":0.26958,"height":0.57943}],[{"index":13,"id":1138,'
    '"x":0.29537,"y":-0.18987,"width":0.36239,"height":0.80335}]]}],"facesDetected":2}'
)


def azure() -> dict:
    return json.loads(AZURE_EXAMPLE)


def face_ids(index: AnnotationIndex, time: Fraction) -> list[int]:
    return sorted(box.face_id for box in index.faces_at(time))


def make_track(
    track_id: int,
    frames: list[int],
    boxes: list[tuple[float, float, float, float]],
    detected: list[bool] | None = None,
    scores: list[float] | None = None,
) -> FaceTrack:
    n = len(frames)
    return FaceTrack(
        track_id=track_id,
        frames=np.array(frames, np.int64),
        xyxy=np.array(boxes, np.float32),
        detected=np.array(detected if detected is not None else [True] * n, np.bool_),
        score=np.array(scores if scores is not None else [0.9] * n, np.float32),
    )


# --- the Azure layout ---------------------------------------------------------


def test_azure_example_parses() -> None:
    a = parse_annotations(AZURE_EXAMPLE, "example.json")
    assert (a.version, a.timescale, a.offset, a.framerate) == (1, 24000, 0, 23.976)
    assert (a.width, a.height, a.facesDetected) == (1280, 720, 2)
    assert len(a.fragments) == 2
    assert a.fragments[1].events is not None
    assert a.fragments[1].events[0][0].index == 13
    assert a.face_ids() == {1138, 2028}


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (Fraction(0), []),
        (Fraction(47047, 24000), []),  # last event of the first fragment
        (Fraction(48048, 24000), [1138, 2028]),
        (Fraction(48048 + 1001, 24000), [1138]),  # the next frame
        (Fraction(48048 + 2002, 24000), []),  # fragment has fewer events than its duration
        (Fraction(96096, 24000), []),  # after the last fragment
        (Fraction(-1, 24000), []),  # before the first fragment
        (Fraction(48048, 24000) - Fraction(1, 100_000), [1138, 2028]),  # within half a tick
    ],
)
def test_azure_example_lookup(time: Fraction, expected: list[int]) -> None:
    index = AnnotationIndex(parse_annotations(AZURE_EXAMPLE, "example.json"))
    assert face_ids(index, time) == expected


def test_azure_example_pixels_and_rescale() -> None:
    a = parse_annotations(AZURE_EXAMPLE, "example.json")
    t = Fraction(48048, 24000)
    box = next(b for b in AnnotationIndex(a).faces_at(t) if b.face_id == 1138)
    assert box.x0 == pytest.approx(0.29537 * 1280)
    assert box.y0 == pytest.approx(-0.18987 * 720)
    assert box.x1 == pytest.approx((0.29537 + 0.36239) * 1280)
    assert box.y1 == pytest.approx((-0.18987 + 0.80335) * 720)
    # A file made on a half-size proxy, applied to the full-size video.
    big = next(b for b in AnnotationIndex(a, (2560, 1440)).faces_at(t) if b.face_id == 1138)
    assert (big.x0, big.y0, big.x1, big.y1) == pytest.approx(
        (2 * box.x0, 2 * box.y0, 2 * box.x1, 2 * box.y1)
    )
    assert faces_at(a, t) == AnnotationIndex(a).faces_at(t)


def _no_index(d: dict) -> None:
    for event in d["fragments"][1]["events"]:
        for face in event:
            del face["index"]


def _no_events(d: dict) -> None:
    del d["fragments"][0]["interval"]
    del d["fragments"][0]["events"]


def _floats(d: dict) -> None:
    for key in ("version", "timescale", "offset", "width", "height", "facesDetected"):
        d[key] = float(d[key])
    for fragment in d["fragments"]:
        for key in ("start", "duration", "interval"):
            fragment[key] = float(fragment[key])
        for event in fragment["events"]:
            for face in event:
                face["id"] = float(face["id"])
                face["index"] = float(face["index"])


def _unknown_fields(d: dict) -> None:
    d["producer"] = "someone else"
    d["fragments"][0]["note"] = {"any": ["thing"]}
    d["fragments"][1]["events"][0][0]["emotion"] = "neutral"


def _no_faces_detected(d: dict) -> None:
    del d["facesDetected"]


def _integer_coords(d: dict) -> None:
    d["fragments"][1]["events"][1][0].update(x=0, y=0, width=1, height=1)


def _veil_extras(d: dict) -> None:
    d["fragments"][1]["events"][0][0].update(confidence=0.875, manual=True)


def _empty(d: dict) -> None:
    d["fragments"] = []


def _azure_extra_event(d: dict) -> None:
    # Azure sometimes wrote one event more than duration/interval.
    d["fragments"][0]["events"].append([])


@pytest.mark.parametrize(
    "variant",
    [
        _no_index,
        _no_events,
        _floats,
        _unknown_fields,
        _no_faces_detected,
        _integer_coords,
        _veil_extras,
        _empty,
        _azure_extra_event,
    ],
)
def test_variants_load(variant: Callable[[dict], None], tmp_path: Path) -> None:
    data = azure()
    variant(data)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data))
    a = read_annotations(path)
    if a.fragments:
        assert AnnotationIndex(a).faces_at(Fraction(48048, 24000))
    # What veil writes back reads back the same.
    write_annotations(a, path)
    assert read_annotations(path) == a


def test_variant_fields() -> None:
    data = azure()
    _no_events(data)
    _no_index(data)
    _veil_extras(data)
    _unknown_fields(data)
    a = validate_annotations(data, "x.json")
    assert a.fragments[0].events is None and a.fragments[0].interval is None
    face = a.fragments[1].events[0][0]  # type: ignore[index]
    assert (face.index, face.confidence, face.manual) == (None, 0.875, True)
    assert "emotion" not in face.model_dump()
    assert "producer" not in dump_annotations(a)


def test_models_are_frozen() -> None:
    a = parse_annotations(AZURE_EXAMPLE, "x.json")
    with pytest.raises(ValidationError):
        a.width = 1  # type: ignore[misc]


# --- bad files ----------------------------------------------------------------


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: tuple) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


FACE = ("fragments", 1, "events", 0, 1)

BAD_VALUES = [
    (_set(("timescale",), 0), "timescale: Input should be greater than 0"),
    (_set(("timescale",), "fast"), "timescale: Input should be a valid integer"),
    (_delete(("timescale",)), "missing 'timescale'"),
    (_delete(("fragments", 0, "start")), "fragments[0]: missing 'start'"),
    (_set(("version",), 2), "unsupported version 2"),
    (_set(("width",), 0), "width: Input should be greater than 0"),
    (_set(("fragments", 1, "start"), 100), "fragments[1] starts at 100, before fragments[0]"),
    (
        lambda d: d["fragments"].reverse(),
        "fragments[1] starts at 0, before fragments[0] ends at 96096",
    ),
    (_set(("fragments", 1, "interval"), 0), "fragments[1].interval: Input should be greater"),
    (_delete(("fragments", 1, "interval")), "fragments[1]: fragment has events but no interval"),
    (_set(("fragments", 1, "duration"), -5), "fragments[1].duration"),
    (
        _set(("fragments", 0, "events"), [[]] * 50),
        "fragment has 50 events but duration 48048 holds only 48",
    ),
    (_set((*FACE, "width"), 0), "fragments[1].events[0][1].width: Input should be greater than 0"),
    (_set((*FACE, "height"), -0.1), "fragments[1].events[0][1].height"),
    (_delete((*FACE, "id")), "fragments[1].events[0][1]: missing 'id'"),
    (_set((*FACE, "id"), 1.5), "fragments[1].events[0][1].id"),
    (_set((*FACE, "x"), "left"), "fragments[1].events[0][1].x"),
    (_set((*FACE, "x"), None), "fragments[1].events[0][1].x"),
    (_set(("fragments", 1, "events"), [{"id": 1}]), "fragments[1].events[0]"),
    (_set(("fragments",), {}), "fragments"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD_VALUES)
def test_bad_values(mutate: Callable[[dict], None], expected: str, tmp_path: Path) -> None:
    data = azure()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_annotations(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in caught.value.problem


BAD_TEXTS = [
    (b"", "not valid JSON: Expecting value at line 1 column 1"),
    (b'{"version": 1,\n "fragments": [}', "not valid JSON: Expecting value at line 2"),
    (b"[1, 2]", "not an annotations file: expected a JSON object"),
    (b'"text"', "not an annotations file: expected a JSON object"),
    (b'{"version": 1, "timescale": 1}', "not an annotations file: missing 'fragments'"),
    (AZURE_EXAMPLE.replace("0.29537", "NaN", 1).encode(), "finite number"),
    (AZURE_EXAMPLE.replace("0.36239", "Infinity", 1).encode(), "finite number"),
    (b'{"fragments": "\xff\xfe\xfa"}', "not valid JSON"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_TEXTS)
def test_bad_texts(text: bytes, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(text)
    with pytest.raises(InputError) as caught:
        read_annotations(path)
    assert "\n" not in str(caught.value)
    assert expected in caught.value.problem


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_annotations(tmp_path / "nope.json")
    with pytest.raises(InputError, match="is a directory"):
        read_annotations(tmp_path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_reads_unicode_encodings(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(AZURE_EXAMPLE.encode(encoding))
    assert read_annotations(path) == parse_annotations(AZURE_EXAMPLE, "x")


# --- tracks -> annotations ----------------------------------------------------

W, H = 640, 360
NTSC = Fraction(1001, 30000)


def ntsc_clock(n: int) -> FrameClock:
    return FrameClock.from_times([k * NTSC for k in range(n)], n * NTSC, 30000)


def two_tracks() -> list[FaceTrack]:
    a_frames = list(range(5, 130))
    a = make_track(
        7,
        a_frames,
        [(10 + f, 20 + f / 3, 80 + f * 1.5, 100 + f / 3) for f in a_frames],
        detected=[f % 4 != 0 for f in a_frames],
        scores=[0.0 if f % 4 == 0 else 0.91234 for f in a_frames],
    )
    # Partly outside the frame: normalised coordinates outside 0..1 are kept.
    b_frames = list(range(60, 70))
    b = make_track(3, b_frames, [(-12.5, 300.25, 40.75, 390.5)] * len(b_frames))
    return [a, b]


def expected_boxes(tracks: list[FaceTrack], frame: int) -> dict[int, np.ndarray]:
    out = {}
    for track in tracks:
        hits = np.flatnonzero(track.frames == frame)
        if len(hits):
            out[track.track_id] = track.xyxy[hits[0]].astype(np.float64)
    return out


def test_round_trip_every_frame(tmp_path: Path) -> None:
    n = 150
    clock = ntsc_clock(n)
    tracks = two_tracks()
    a = tracks_to_annotations(tracks, clock, W, H, 29.97)
    path = tmp_path / "out.json"
    write_annotations(a, path)
    back = read_annotations(path)
    assert back == a
    index = AnnotationIndex(back)
    assert index.ids() == {3, 7}
    # x and width are rounded separately to 5 decimals: x1 is off by <= 1e-5 of the size.
    tolerance = 1.01e-5 * W
    for frame in range(n):
        got = {box.face_id: box for box in index.faces_at(frame * NTSC)}
        want = expected_boxes(tracks, frame)
        assert got.keys() == want.keys(), frame
        for face_id, box in got.items():
            assert (box.x0, box.y0, box.x1, box.y1) == pytest.approx(
                tuple(want[face_id]), abs=tolerance
            )


def test_fields_written_per_face() -> None:
    a = tracks_to_annotations(two_tracks(), ntsc_clock(150), W, H, 29.97)
    index = AnnotationIndex(a)
    detected = index.event_at(5 * NTSC)
    assert [(f.id, f.index, f.confidence, f.manual) for f in detected] == [(7, 5, 0.912, None)]
    interpolated = index.event_at(8 * NTSC)
    assert [(f.id, f.index, f.confidence) for f in interpolated] == [(7, 8, None)]
    both = index.event_at(61 * NTSC)
    assert [f.id for f in both] == [3, 7]  # sorted by ID
    assert both[0].x == round(-12.5 / W, 5)
    assert a.facesDetected == 2


def test_fragments_cover_the_timeline() -> None:
    n = 150
    clock = ntsc_clock(n)
    a = tracks_to_annotations(two_tracks(), clock, W, H, 29.97, fragment_seconds=2.0)
    assert a.fragments[0].start == 0
    for before, after in zip(a.fragments, a.fragments[1:], strict=False):
        assert before.end == after.start
    assert a.fragments[-1].end == clock.end
    assert sum(len(f.events or ()) for f in a.fragments) == n
    for fragment in a.fragments:
        assert fragment.interval == 1001
        assert fragment.duration <= 2 * 30000
        assert len(fragment.events or ()) == fragment.duration // fragment.interval
    assert [len(f.events or ()) for f in a.fragments] == [59, 59, 32]


def test_no_tracks_still_covers_video() -> None:
    a = tracks_to_annotations([], ntsc_clock(10), W, H, 29.97)
    assert a.facesDetected == 0
    assert [len(f.events or ()) for f in a.fragments] == [10]
    assert all(event == () for event in a.fragments[0].events or ())


def test_single_frame_uses_its_own_duration() -> None:
    clock = FrameClock(timescale=1000, starts=(0,), end=40)
    a = tracks_to_annotations([make_track(1, [0], [(1, 2, 30, 40)])], clock, W, H, 25.0)
    [fragment] = a.fragments
    assert (fragment.start, fragment.duration, fragment.interval) == (0, 40, 40)
    assert [f.id for f in AnnotationIndex(a).event_at(Fraction(0))] == [1]


def test_empty_clock() -> None:
    a = tracks_to_annotations([], FrameClock(90000, (), 0), W, H, 25.0)
    assert a.fragments == ()
    assert AnnotationIndex(a).faces_at(Fraction(0)) == []


def test_track_outside_clock_is_an_error() -> None:
    with pytest.raises(ValueError, match="frame 12"):
        tracks_to_annotations([make_track(1, [12], [(1, 2, 3, 4)])], ntsc_clock(10), W, H, 30.0)


def test_degenerate_boxes_are_dropped_and_slivers_kept() -> None:
    track = make_track(1, [0, 1], [(5, 5, 5, 9), (5, 5, 5.001, 9)])
    a = tracks_to_annotations([track], ntsc_clock(2), W, H, 30.0)
    index = AnnotationIndex(a)
    assert index.event_at(Fraction(0)) == ()
    [sliver] = index.event_at(NTSC)
    assert sliver.width == 1e-5


VFR_TIMES = [Fraction(k, 30) for k in (0, 1, 2, 4, 5, 6)]


@pytest.mark.parametrize(
    ("timescale", "fragments"),
    [
        (30, [(0, 2, 1, 2), (2, 2, 2, 1), (4, 3, 1, 3)]),
        (90000, [(0, 6000, 3000, 2), (6000, 6000, 6000, 1), (12000, 9000, 3000, 3)]),
    ],
)
def test_variable_frame_rate(timescale: int, fragments: list[tuple[int, ...]]) -> None:
    clock = FrameClock.from_times(VFR_TIMES, Fraction(7, 30), timescale)
    frames = list(range(len(VFR_TIMES)))
    track = make_track(1, frames, [(10 * f, 0, 10 * f + 5, 5) for f in frames])
    a = tracks_to_annotations([track], clock, W, H, 30.0)
    got = [(f.start, f.duration, f.interval, len(f.events or ())) for f in a.fragments]
    assert got == fragments
    index = AnnotationIndex(a)
    for frame, time in enumerate(VFR_TIMES):
        [box] = index.faces_at(time)
        assert box.x0 == pytest.approx(10 * frame, abs=0.01)
    # The gap frame lasts two ticks-worth; halfway through it is still that frame.
    [box] = index.faces_at(Fraction(3, 30))
    assert box.x0 == pytest.approx(20, abs=0.01)


def test_coarse_timescale_still_maps_every_frame() -> None:
    # 1/30 s is not a whole number of 1/1000 s ticks: spacing jitters (33, 34, 33 ...).
    n = 90
    times = [Fraction(k, 30) for k in range(n)]
    clock = FrameClock.from_times(times, Fraction(n, 30), 1000)
    track = make_track(1, list(range(n)), [(k, 0, k + 5, 5) for k in range(n)])
    index = AnnotationIndex(tracks_to_annotations([track], clock, W, H, 30.0))
    for frame, time in enumerate(times):
        [box] = index.faces_at(time)
        assert box.x0 == pytest.approx(frame, abs=0.01)


@pytest.mark.parametrize(
    ("time", "timescale", "ticks"),
    [
        (Fraction(0), 1000, 0),
        (Fraction(1, 30), 1000, 33),
        (Fraction(2, 30), 1000, 67),
        (Fraction(1, 2000), 1000, 1),  # half a tick rounds up (to the later event)
        (Fraction(-1, 2000), 1000, 0),
        (Fraction(1001, 30000), 30000, 1001),
        (3, 90000, 270000),
    ],
)
def test_to_ticks(time: Fraction, timescale: int, ticks: int) -> None:
    assert to_ticks(time, timescale) == ticks


@pytest.mark.parametrize(
    ("starts", "end"),
    [((0, 10, 10), 20), ((0, 10, 5), 20), ((0, 10), 10), ((0, 10), 5)],
)
def test_frame_clock_rejects_non_increasing(starts: tuple[int, ...], end: int) -> None:
    with pytest.raises(ValueError, match="increase"):
        FrameClock(30, starts, end)


def test_frame_clock_rejects_too_coarse_timescale() -> None:
    with pytest.raises(ValueError, match="1/10 s"):
        FrameClock.from_times([Fraction(0), Fraction(1, 30)], Fraction(2, 30), 10)


def test_frame_clock_durations() -> None:
    clock = FrameClock.from_times(VFR_TIMES, Fraction(7, 30), 30)
    assert clock.starts == (0, 1, 2, 4, 5, 6)
    assert clock.durations() == (1, 1, 2, 1, 1, 1)
    assert len(clock) == 6


def test_offset_shifts_lookups() -> None:
    data = azure()
    data["offset"] = 24000
    index = AnnotationIndex(validate_annotations(data, "x"))
    assert face_ids(index, Fraction(48048, 24000)) == []
    assert face_ids(index, Fraction(48048 + 24000, 24000)) == [1138, 2028]


def test_gap_between_fragments_has_no_faces() -> None:
    data = azure()
    data["fragments"][1]["start"] = 100_000
    index = AnnotationIndex(validate_annotations(data, "x"))
    assert face_ids(index, Fraction(99_000, 24000)) == []
    assert face_ids(index, Fraction(100_000, 24000)) == [1138, 2028]


# --- select_ids ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "at_first", "count"),
    [
        (None, [1138, 2028], 2),
        (frozenset({1138}), [1138], 1),
        (frozenset({2028, 99}), [2028], 1),
        (frozenset(), [], 0),
    ],
)
def test_select_ids(ids: frozenset[int] | None, at_first: list[int], count: int) -> None:
    a = parse_annotations(AZURE_EXAMPLE, "x")
    selected = select_ids(a, ids)
    assert face_ids(AnnotationIndex(selected), Fraction(48048, 24000)) == at_first
    assert selected.facesDetected == count
    assert [(f.start, f.duration) for f in selected.fragments] == [
        (f.start, f.duration) for f in a.fragments
    ]
    assert len(selected.fragments[1].events or ()) == 2
    assert a == parse_annotations(AZURE_EXAMPLE, "x")  # the input is untouched


# --- writing ------------------------------------------------------------------


def test_key_order_and_omitted_fields(tmp_path: Path) -> None:
    a = tracks_to_annotations(two_tracks(), ntsc_clock(150), W, H, 29.97)
    path = tmp_path / "out.json"
    write_annotations(a, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == [
        "version",
        "timescale",
        "offset",
        "framerate",
        "width",
        "height",
        "fragments",
        "facesDetected",
    ]
    fragment = data["fragments"][0]
    assert list(fragment) == ["start", "duration", "interval", "events"]
    detected = fragment["events"][5][0]
    assert list(detected) == ["index", "id", "x", "y", "width", "height", "confidence"]
    interpolated = fragment["events"][8][0]
    assert list(interpolated) == ["index", "id", "x", "y", "width", "height"]


def test_written_layout_is_one_event_per_line() -> None:
    a = parse_annotations(AZURE_EXAMPLE, "x")
    text = dump_annotations(a)
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[-2] == ' "facesDetected": 2'
    assert sum(line.strip().rstrip(",") == "[]" for line in lines) == 48
    assert sum('"id": 1138' in line for line in lines) == 2
    assert json.loads(text) == json.loads(AZURE_EXAMPLE)


def test_write_fragment_without_events_and_manual_face() -> None:
    data = azure()
    _no_events(data)
    _veil_extras(data)
    a = validate_annotations(data, "x")
    text = dump_annotations(a)
    assert '{"start": 0, "duration": 48048},' in text
    assert '"confidence": 0.875, "manual": true' in text
    assert parse_annotations(text, "x") == a


def test_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    a = parse_annotations(AZURE_EXAMPLE, "x")
    write_annotations(a, path)
    assert read_annotations(path) == a
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_where_a_file_blocks_the_folder(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    path = tmp_path / "blocker" / "out.json"
    with pytest.raises(InputError, match="cannot write") as caught:
        write_annotations(parse_annotations(AZURE_EXAMPLE, "x"), path)
    assert caught.value.path == path


def test_large_video_is_quick() -> None:
    # 20 minutes at 30 fps with a face in every frame: conversion and lookups stay fast
    # enough to run per render (this is a smoke check, not a benchmark).
    n = 30 * 60 * 20
    clock = FrameClock(30, tuple(range(n)), n)
    track = make_track(1, list(range(n)), np.tile([10, 10, 50, 50], (n, 1)).tolist())
    a = tracks_to_annotations([track], clock, W, H, 30.0)
    index = AnnotationIndex(a)
    step = 997
    for frame in range(0, n, step):
        assert len(index.faces_at(Fraction(frame, 30))) == 1
    assert a.fragments[-1].end == n
    assert a.facesDetected == 1


def test_veil_extras_round_trip_after_azure_keys(tmp_path: Path) -> None:
    a = tracks_to_annotations(two_tracks(), ntsc_clock(150), W, H, 29.97)
    extras = {
        "candidates": [
            {
                "id": 1,
                "boxes": [
                    {
                        "index": 4,
                        "start": 4004,
                        "x": 0.1,
                        "y": 0.2,
                        "width": 0.05,
                        "height": 0.07,
                        "confidence": 0.12,
                    }
                ],
            }
        ],
        "ids": [{"id": 3, "confidence": 0.9}, {"id": 7, "confidence": 0.1, "lowConfidence": True}],
        "mergeSuggestions": [{"ids": [3, 7], "score": 0.8}],
    }
    with_extras = validate_annotations(a.model_dump(mode="json") | extras, "test")
    path = tmp_path / "out.json"
    write_annotations(with_extras, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[-4:] == ["facesDetected", "candidates", "ids", "mergeSuggestions"]
    assert read_annotations(path) == with_extras
    # the extras never change what is redacted
    assert AnnotationIndex(with_extras).ids() == AnnotationIndex(a).ids() == {3, 7}


def test_candidates_need_boxes() -> None:
    data = azure() | {"candidates": [{"id": 1, "boxes": []}]}
    with pytest.raises(InputError, match="candidates"):
        validate_annotations(data, "test")
