"""``veil live`` end to end: a real-time file, an HTTP stream served by ffmpeg and an RTSP
stream through a relay, checked by pixels, frame rate and reconnection."""

from __future__ import annotations

import json
import signal
import time

import av
import httpx
import numpy as np
import pytest

from helpers import free_port, run_veil, wait_until
from live.helpers import (
    FPS,
    Clip,
    assert_faces_hidden,
    finish_live,
    frame_rate,
    needs_ffmpeg,
    publish_rtsp,
    read_video,
    serve_http,
    start_live,
    stop,
)
from live.rtsp_relay import RtspRelay

pytestmark = pytest.mark.rtsp


def test_realtime_file_is_paced_and_every_frame_redacted(clip: Clip, tmp_path) -> None:
    out = tmp_path / "out.mp4"
    started = time.monotonic()
    result = run_veil(
        "live", "--source", clip.path, "--realtime", "--record", out, "--json",
        "--stats-every", "1", "--detect-size", "320",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed >= len(clip.frames) / FPS - 0.2  # played at its rate, not faster
    frames, times = read_video(out)
    assert len(frames) == len(clip.frames)  # nothing dropped at this size
    assert frame_rate(times) == pytest.approx(FPS, rel=0.02)
    assert assert_faces_hidden(frames, clip) > 50

    stats = json.loads(result.stdout)
    assert stats["frames_out"] == len(clip.frames) and stats["dropped_frames"] == 0
    assert stats["latency_ms"]["p95"] is not None
    assert "in 2" in result.stderr and "latency p50/p95" in result.stderr  # periodic lines


def test_segmented_recording(clip: Clip, tmp_path) -> None:
    result = run_veil(
        "live", "--source", clip.path, "--realtime", "--record", tmp_path / "rec",
        "--segment", "1s", "--quiet", "--detect-size", "320",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    segments = sorted((tmp_path / "rec").glob("live_*.mp4"))
    assert len(segments) >= 2
    total = sum(len(read_video(s)[0]) for s in segments)
    assert total == len(clip.frames)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_the_session_with_its_recording_finished(
    clip: Clip, tmp_path, signum: int
) -> None:
    """Ctrl-C, or systemd and docker stopping the service: exit 0, every frame out recorded."""
    out = tmp_path / "out.mp4"
    live = start_live(
        "--source", clip.path, "--realtime", "--loop", "--record", out, "--json",
        "--detect-size", "320",
    )  # fmt: skip
    try:
        wait_until(lambda: out.exists() and out.stat().st_size > 20_000, 30)  # frames written
        live.send_signal(signum)
        stdout, stderr = live.communicate(timeout=30)
    finally:
        stop(live)
    assert live.returncode == 0, stderr
    stats = json.loads(stdout)
    frames, _ = read_video(out)
    assert len(frames) == stats["frames_out"] > 0


@needs_ffmpeg
def test_http_source_reconnects_and_serves_hls_mjpeg_stats(clip: Clip, tmp_path) -> None:
    port, http_port = free_port(), free_port()
    hls, out = tmp_path / "hls", tmp_path / "out.mp4"
    server = serve_http(clip.path, port)
    live = start_live(
        "--source", f"http://127.0.0.1:{port}/live.ts", "--name", "cam", "--record", out,
        "--hls", hls, "--hls-time", "1", "--http", f"127.0.0.1:{http_port}", "--mjpeg",
        "--stats-every", "1", "--detect-size", "320", "--json",
    )  # fmt: skip
    base = f"http://127.0.0.1:{http_port}/live/cam"
    try:
        wait_until(lambda: _get(base + "/stats", "frames_out") > FPS, 20)  # frames out
        # the in-process server: MJPEG, stats JSON, Prometheus, the page and HLS
        jpeg = _one_mjpeg_frame(base + "/mjpeg")
        picture = av.open(__import__("io").BytesIO(jpeg)).decode(video=0).__next__()
        assert (picture.width, picture.height) == (320, 180)
        assert "veil_live_output_fps" in httpx.get(base + "/metrics").text
        assert "<video" in httpx.get(base).text.lower() or "mjpeg" in httpx.get(base).text
        wait_until(lambda: httpx.get(base + "/index.m3u8").status_code == 200, 10)

        # kill the source mid-stream, bring it back on the same port
        server.kill()
        server.wait()
        wait_until(lambda: _get(base + "/stats", "connected") is False, 20)
        server = serve_http(clip.path, port)
        wait_until(lambda: _get(base + "/stats", "reconnects") >= 1, 20)  # reconnected
        wait_until(lambda: server.poll() is not None, 15)  # the clip played to its end
    finally:
        code, stats, err = finish_live(live)
        stop(server)
    assert code == 0, err
    assert stats["reconnects"] >= 1 and stats["gaps"], stats
    assert stats["repeated_frames"] > 0  # the output kept running through the gap
    assert "source lost" in err and "gap" in err
    frames, times = read_video(out)
    # across a reconnect the gap is filled at wall-clock pace: on a loaded
    # machine that drifted to 25.3 fps for a 24 fps source (a known issue)
    assert frame_rate(times) == pytest.approx(FPS, rel=0.1)
    assert max(np.diff(times)) < 0.6  # no hole in the output's timeline
    assert assert_faces_hidden(frames, clip) > 50


@needs_ffmpeg
def test_rtsp_source_and_push(clip: Clip, tmp_path) -> None:
    out = tmp_path / "out.mp4"
    with RtspRelay() as relay:
        live = start_live(
            "--source", relay.url("cam"), "--name", "cam", "--record", out,
            "--push", relay.url("redacted"), "--detect-size", "320", "--json",
            "--reconnect-max", "1s",
        )  # fmt: skip
        publisher = publish_rtsp(clip.path, relay.url("cam"))  # veil retries until it is up
        try:
            # a viewer of the pushed stream sees redacted frames
            pushed = _watch(relay.url("redacted"), frames=10, timeout=15)
            assert_faces_hidden(pushed, clip)
            publisher.wait(15)
            publisher = publish_rtsp(clip.path, relay.url("cam"))  # the camera comes back
            publisher.wait(15)
        finally:
            code, stats, err = finish_live(live)
            stop(publisher)
    assert code == 0, err
    assert stats["reconnects"] >= 1, err
    frames, times = read_video(out)
    # across a reconnect the gap is filled at wall-clock pace: on a loaded
    # machine that drifted to 25.3 fps for a 24 fps source (a known issue)
    assert frame_rate(times) == pytest.approx(FPS, rel=0.1)
    assert len(frames) >= 1.5 * len(clip.frames)  # both plays (and the gap) recorded
    assert assert_faces_hidden(frames, clip) > 100


def _watch(url: str, frames: int, timeout: float) -> list[np.ndarray]:
    """The first ``frames`` pictures of an RTSP stream, once it is published (the relay
    announces nothing: try until it plays)."""

    def watched() -> list[np.ndarray] | None:
        try:
            with av.open(url, options={"rtsp_transport": "tcp"}, timeout=5) as viewer:
                pictures = []
                for frame in viewer.decode(video=0):
                    pictures.append(frame.to_ndarray(format="rgb24"))
                    if len(pictures) == frames:
                        return pictures
        except av.error.FFmpegError:
            pass
        return None

    return wait_until(watched, timeout, 0.3)


def _get(url: str, key: str):
    try:
        return httpx.get(url, timeout=2).json().get(key, 0)
    except (httpx.HTTPError, ValueError):
        return 0


def _one_mjpeg_frame(url: str) -> bytes:
    with httpx.stream("GET", url, timeout=10) as response:
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        buffer = b""
        for chunk in response.iter_bytes():
            buffer += chunk
            start = buffer.find(b"\xff\xd8")
            end = buffer.find(b"\xff\xd9", start + 2)
            if start >= 0 and end > 0:
                return buffer[start : end + 2]
    raise AssertionError("no JPEG in the MJPEG stream")
