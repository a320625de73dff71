"""The live router's state, asked directly (no HTTP): which streams exist and what they hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veil.live import LiveHub, LiveStats
from veil.live.http import LiveStreams, StatsUnreadable, StreamNotFound


def _streams(tmp_path: Path) -> LiveStreams:
    lobby = tmp_path / "lobby"
    lobby.mkdir()
    (lobby / "index.m3u8").write_text("#EXTM3U\n")
    (lobby / "seg_00000.ts").write_bytes(b"\x47" * 188)
    (lobby / "stats.json").write_text(json.dumps(LiveStats("lobby", "x").snapshot()))
    (tmp_path / "empty").mkdir()  # neither playlist nor statistics: not a stream yet
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "stats.json").write_text("{not json")
    hub = LiveHub()
    hub.add("desk", LiveStats("desk", "y").snapshot, None)
    return LiveStreams(tmp_path, hub)


def test_streams_are_the_hubs_and_the_folders_with_output(tmp_path: Path) -> None:
    streams = _streams(tmp_path)
    assert streams.names() == ["broken", "desk", "lobby"]
    assert streams.snapshot("desk")["name"] == "desk"
    assert streams.snapshot("lobby")["name"] == "lobby"
    # one unreadable statistics file does not hide the others
    assert sorted(s["name"] for s in streams.snapshots()) == ["desk", "lobby"]
    assert streams.playlist("lobby") == tmp_path / "lobby" / "index.m3u8"
    assert streams.segment("lobby", "seg_00000.ts") == tmp_path / "lobby" / "seg_00000.ts"
    page = streams.page("lobby")
    assert "/live/lobby/index.m3u8" in page and "const hls = true, mjpeg = false" in page


@pytest.mark.parametrize(
    "ask",
    [
        lambda s: s.check("nope"),
        lambda s: s.check("../lobby"),
        lambda s: s.check("lobby/.."),
        lambda s: s.snapshot("empty"),  # a folder with no statistics yet
        lambda s: s.playlist("desk"),  # in this process, with no HLS output
        lambda s: s.segment("lobby", "stats.json"),  # only segment names are served
        lambda s: s.segment("lobby", "seg_00001.ts"),
        lambda s: s.mjpeg("desk"),  # no MJPEG output
        lambda s: s.mjpeg("lobby"),  # MJPEG only for this process's streams
    ],
)
def test_what_is_not_there_is_not_found(tmp_path: Path, ask) -> None:
    with pytest.raises(StreamNotFound):
        ask(_streams(tmp_path))


def test_unreadable_statistics_are_said_so(tmp_path: Path) -> None:
    with pytest.raises(StatsUnreadable, match="statistics of 'broken' unreadable"):
        _streams(tmp_path).snapshot("broken")
