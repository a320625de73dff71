"""HTTP for live streams: an ``APIRouter`` to mount in the service (or ``veil live --http``).

Two places streams are found:

- ``root``: a folder of ``<name>/`` folders written by ``veil live --hls ROOT``
  (``index.m3u8``, ``seg_NNNNN.ts``, ``stats.json``), possibly by other
  processes: this is how ``veil serve`` shows streams it does not run;
- ``hub``: sessions running in this process, whose statistics are live and
  which can also serve MJPEG.

Routes: ``GET /live`` (names, JSON), ``/live/metrics`` (Prometheus, every
stream), ``/live/{name}`` (a page that plays the stream), ``/live/{name}/stats``
(JSON), ``/live/{name}/metrics``, ``/live/{name}/mjpeg``,
``/live/{name}/index.m3u8`` and its segments.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, StreamingResponse

from veil.live.hub import FrameBroadcaster, HubEntry, LiveHub
from veil.live.stats import prometheus_text

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SEGMENT = re.compile(r"^seg_\d{5,}\.ts$")
_BOUNDARY = "veilframe"
_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>veil live: {name}</title>
<style>
 body {{ font: 14px system-ui, sans-serif; margin: 1.5em; background: #111; color: #ddd; }}
 video, img {{ max-width: 100%; background: #000; display: block; }}
 table {{ border-collapse: collapse; margin-top: 1em; }}
 td {{ padding: 2px 12px 2px 0; }} td:first-child {{ color: #999; }}
 .note {{ color: #999; }}
</style></head>
<body>
<h1>{name}</h1>
<div id="player"></div>
<p class="note" id="note"></p>
<table id="stats"></table>
<script>
const hls = {has_hls}, mjpeg = {has_mjpeg};
const player = document.getElementById("player"), note = document.getElementById("note");
const video = document.createElement("video");
if (hls && video.canPlayType("application/vnd.apple.mpegurl")) {{
  video.src = "{base}/index.m3u8"; video.controls = true; video.autoplay = true;
  video.muted = true; video.playsInline = true; player.appendChild(video);
}} else if (mjpeg) {{
  const img = document.createElement("img"); img.src = "{base}/mjpeg"; player.appendChild(img);
}} else if (hls) {{
  note.textContent = "This browser has no native HLS: open {base}/index.m3u8 in a player " +
    "(VLC, ffplay, Safari), or run veil live with --mjpeg --http.";
}} else {{
  note.textContent = "No picture output for this stream (start veil live with --hls or --mjpeg).";
}}
const rows = ["connected", "input_fps", "output_fps", "dropped_frames", "repeated_frames",
  "detection_latency_ms", "latency_ms", "faces", "reconnects", "uptime_s"];
async function refresh() {{
  try {{
    const s = await (await fetch("{base}/stats")).json();
    document.getElementById("stats").innerHTML = rows.map(k => {{
      let v = s[k];
      if (v && typeof v === "object") v = `p50 ${{v.p50}} / p95 ${{v.p95}}`;
      return `<tr><td>${{k}}</td><td>${{v}}</td></tr>`;
    }}).join("");
  }} catch (e) {{}}
}}
refresh(); setInterval(refresh, 2000);
</script>
</body></html>
"""


class StreamNotFound(LookupError):
    """No such stream, or it lacks what was asked for (HTTP 404)."""


class StatsUnreadable(OSError):
    """A stream's statistics file exists but cannot be read (HTTP 503)."""


class LiveStreams:
    """The streams in ``root`` (folders) and ``hub`` (this process), without HTTP.

    Every lookup checks the name first: a name that is not a plain stream name,
    or that names no stream, raises :class:`StreamNotFound`.
    """

    def __init__(self, root: Path | None = None, hub: LiveHub | None = None) -> None:
        self.root = root
        self.hub = hub

    def _folder(self, name: str) -> Path | None:
        if self.root is None:
            return None
        path = self.root / name
        return path if path.is_dir() else None

    def _entry(self, name: str) -> HubEntry | None:
        return self.hub.get(name) if self.hub is not None else None

    def check(self, name: str) -> str:
        """``name``, if it is a stream's."""
        if not _NAME.match(name) or ".." in name:
            raise StreamNotFound("no such stream")
        if self._entry(name) is None and self._folder(name) is None:
            raise StreamNotFound(f"no live stream named {name!r}")
        return name

    def names(self) -> list[str]:
        """Every stream's name: this process's, and each folder with a playlist or statistics."""
        found = set(self.hub.names() if self.hub is not None else [])
        if self.root is not None and self.root.is_dir():
            found.update(
                p.name
                for p in self.root.iterdir()
                if p.is_dir()
                and _NAME.match(p.name)
                and ((p / "index.m3u8").exists() or (p / "stats.json").exists())
            )
        return sorted(found)

    def snapshot(self, name: str) -> dict:
        """One stream's statistics: live from the hub, else its folder's ``stats.json``."""
        entry = self._entry(self.check(name))
        if entry is not None:
            return entry.snapshot()
        path = self._folder(name)
        stats = path / "stats.json" if path is not None else None
        if stats is None or not stats.exists():
            raise StreamNotFound(f"stream {name!r} has no statistics yet")
        try:
            return json.loads(stats.read_text())
        except (OSError, ValueError) as exc:
            raise StatsUnreadable(f"statistics of {name!r} unreadable") from exc

    def snapshots(self) -> list[dict]:
        """The statistics of every stream that has them."""
        result = []
        for name in self.names():
            try:
                result.append(self.snapshot(name))
            except (StreamNotFound, StatsUnreadable):
                continue
        return result

    def page(self, name: str) -> str:
        """A page that plays the stream: HLS where the browser can, else MJPEG."""
        path = self._folder(self.check(name))
        entry = self._entry(name)
        has_hls = path is not None and (path / "index.m3u8").exists()
        has_mjpeg = entry is not None and entry.mjpeg is not None
        return _PAGE.format(
            name=html.escape(name),
            base=f"/live/{name}",
            has_hls=json.dumps(has_hls),
            has_mjpeg=json.dumps(has_mjpeg),
        )

    def playlist(self, name: str) -> Path:
        """The stream's HLS playlist file."""
        path = self._folder(self.check(name))
        if path is None or not (path / "index.m3u8").exists():
            raise StreamNotFound(f"stream {name!r} has no HLS output")
        return path / "index.m3u8"

    def segment(self, name: str, segment: str) -> Path:
        """One HLS segment file of the stream."""
        path = self._folder(self.check(name))
        if path is None or not _SEGMENT.match(segment) or not (path / segment).exists():
            raise StreamNotFound("no such segment")
        return path / segment

    def mjpeg(self, name: str) -> FrameBroadcaster:
        """The stream's MJPEG pictures, where this process runs it with MJPEG output."""
        entry = self._entry(self.check(name))
        if entry is None or entry.mjpeg is None:
            raise StreamNotFound(f"stream {name!r} has no MJPEG output in this process")
        return entry.mjpeg


@contextmanager
def _as_http() -> Iterator[None]:
    try:
        yield
    except StreamNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except StatsUnreadable as exc:
        raise HTTPException(503, str(exc)) from exc


async def _mjpeg_parts(broadcaster: FrameBroadcaster) -> AsyncIterator[bytes]:
    """multipart/x-mixed-replace parts, one per new picture, until the stream ends."""
    broadcaster.attach()
    try:
        seq = 0
        while not broadcaster.closed:
            seq, jpeg = await anyio.to_thread.run_sync(broadcaster.wait_next, seq, 1.0)
            if jpeg is None:
                continue
            head = (
                f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            )
            yield head.encode() + jpeg + b"\r\n"
    finally:
        broadcaster.detach()


def live_router(root: Path | None = None, hub: LiveHub | None = None) -> APIRouter:
    """Routes over the streams in ``root`` (folders) and ``hub`` (this process).

    Mount with ``app.include_router(live_router(data_dir / "live"))``; pass
    ``dependencies=[...]`` to ``include_router`` to require authentication.
    """
    router = APIRouter(tags=["live"])
    streams = LiveStreams(root, hub)

    @router.get("/live", summary="Names of the live streams")
    def list_streams() -> dict:
        return {"streams": streams.names()}

    @router.get("/live/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    def all_metrics() -> PlainTextResponse:
        return PlainTextResponse(prometheus_text(streams.snapshots()), media_type=_PROMETHEUS)

    @router.get("/live/{name}", response_class=HTMLResponse, summary="A page playing the stream")
    def page(name: str) -> HTMLResponse:
        with _as_http():
            return HTMLResponse(streams.page(name))

    @router.get("/live/{name}/stats", summary="Statistics of one stream (JSON)")
    def stats(name: str) -> dict:
        with _as_http():
            return streams.snapshot(name)

    @router.get("/live/{name}/metrics", response_class=PlainTextResponse)
    def metrics(name: str) -> PlainTextResponse:
        with _as_http():
            text = prometheus_text([streams.snapshot(name)])
        return PlainTextResponse(text, media_type=_PROMETHEUS)

    @router.get("/live/{name}/index.m3u8", summary="HLS playlist")
    def playlist(name: str) -> FileResponse:
        with _as_http():
            path = streams.playlist(name)
        return FileResponse(
            path, media_type="application/vnd.apple.mpegurl", headers={"Cache-Control": "no-cache"}
        )

    @router.get("/live/{name}/mjpeg", summary="MJPEG stream (multipart/x-mixed-replace)")
    async def mjpeg(name: str) -> StreamingResponse:
        with _as_http():
            broadcaster = streams.mjpeg(name)
        return StreamingResponse(
            _mjpeg_parts(broadcaster),
            media_type=f"multipart/x-mixed-replace; boundary={_BOUNDARY}",
            headers={"Cache-Control": "no-cache"},
        )

    # last: it would otherwise catch the fixed names above
    @router.get("/live/{name}/{segment}", summary="HLS segment")
    def segment(name: str, segment: str) -> FileResponse:
        with _as_http():
            path = streams.segment(name, segment)
        return FileResponse(path, media_type="video/mp2t")

    return router
