"""Live outputs: a recording, an HLS folder and a push target, as FFmpeg muxers.

The frames are encoded once and the packets muxed to each output
(:mod:`veil.media.live_output`). A recording is one file, or segments cut at
keyframes by FFmpeg's segment muxer. MP4 files are fragmented, so a recording
cut short (power loss, SIGKILL) still plays up to its last fragment. A push
target (RTSP/RTMP/SRT) that fails is reopened with backoff; the other outputs
go on.
"""

from __future__ import annotations

from pathlib import Path

from veil.errors import VeilError
from veil.media.live_output import Muxer

_FRAGMENTED_MP4 = "+frag_keyframe+empty_moov+default_base_moof"
_PUSH_FORMATS = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv", "rtmps": "flv", "srt": "mpegts"}


def recording_muxer(path: Path, segment: float | None, name: str) -> Muxer:
    """A single file, or (``segment`` seconds) a folder/pattern of timestamped segments."""
    if segment is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = {"movflags": _FRAGMENTED_MP4} if path.suffix.lower() in (".mp4", ".mov") else {}
        return Muxer("recording", str(path), None, options)
    pattern = path if "%" in path.name else path / f"{name}_%Y%m%d-%H%M%S.mp4"
    pattern.parent.mkdir(parents=True, exist_ok=True)
    inner = pattern.suffix.lower().lstrip(".") or "mp4"
    options = {
        "segment_time": f"{segment:g}",
        "strftime": "1",
        "reset_timestamps": "1",
        "segment_format": "mp4" if inner in ("mp4", "mov") else inner,
    }
    if inner in ("mp4", "mov"):
        options["segment_format_options"] = f"movflags={_FRAGMENTED_MP4}"
    return Muxer("recording", str(pattern), "segment", options)


def hls_muxer(folder: Path, segment: float, list_size: int) -> Muxer:
    """``folder/index.m3u8`` and its ``seg_NNNNN.ts``, old segments deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seg_*.ts"):
        old.unlink(missing_ok=True)
    options = {
        "hls_time": f"{segment:g}",
        "hls_list_size": str(list_size),
        "hls_flags": "delete_segments+independent_segments+temp_file",
        "hls_segment_filename": str(folder / "seg_%05d.ts"),
    }
    return Muxer("hls", str(folder / "index.m3u8"), "hls", options)


def push_muxer(url: str) -> Muxer:
    """Publish to an RTSP/RTMP/SRT server; reconnected with backoff when it fails."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in _PUSH_FORMATS:
        raise VeilError(f"--push {url}: use an rtsp://, rtmp:// or srt:// URL")
    options = {"rtsp_transport": "tcp"} if _PUSH_FORMATS[scheme] == "rtsp" else {}
    return Muxer("push", url, _PUSH_FORMATS[scheme], options, retry=True)
