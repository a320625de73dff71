"""A minimal RTSP relay for tests: one publisher per path, any number of players.

FFmpeg (or ``veil live --push``) publishes with ANNOUNCE/SETUP/RECORD over
TCP-interleaved RTP; players DESCRIBE/SETUP/PLAY the same path, also
interleaved, and get the publisher's RTP packets as they arrive. There is no
buffering: a player joins mid-stream and waits for the next keyframe. When the
publisher goes, its players are disconnected (as a camera going down).
Loopback only; just enough of RFC 2326 for FFmpeg's client and muxer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse


@dataclass
class _Publication:
    sdp: bytes
    tracks: dict[str, int] = field(default_factory=dict)  # control -> publisher channel
    players: list[_Player] = field(default_factory=list)
    recording: bool = False


@dataclass
class _Player:
    sock: socket.socket
    channels: dict[int, int] = field(default_factory=dict)  # publisher ch -> player ch
    playing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class RtspRelay:
    """``with RtspRelay() as relay: relay.url("cam")`` -> ``rtsp://127.0.0.1:PORT/cam``."""

    def __init__(self, port: int = 0) -> None:
        self._server = socket.create_server(("127.0.0.1", port))
        self.port = self._server.getsockname()[1]
        self._paths: dict[str, _Publication] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._sockets: list[socket.socket] = []

    def url(self, path: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> RtspRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        self._server.close()
        for sock in list(self._sockets):
            _close(sock)

    def _accept(self) -> None:
        while not self._closing:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    # -- one connection ----------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        role: tuple[str, str] | None = None  # ("pub"|"play", path)
        player = _Player(sock)
        try:
            while True:
                first = reader.read(1)
                if not first:
                    return
                if first == b"$":
                    head = reader.read(3)
                    if len(head) < 3:
                        return
                    channel, size = head[0], int.from_bytes(head[1:], "big")
                    data = reader.read(size)
                    if role and role[0] == "pub":
                        self._forward(role[1], channel, head[1:] + data)
                    continue
                line = first + reader.readline()
                lines = [line.decode("latin-1").strip()]
                while True:
                    raw = reader.readline()
                    if not raw or raw in (b"\r\n", b"\n"):
                        break
                    lines.append(raw.decode("latin-1").strip())
                headers = {}
                for header in lines[1:]:
                    key, _, value = header.partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", "0") or 0))
                role = self._request(sock, player, role, lines[0], headers, body) or role
        except OSError:
            return
        finally:
            self._hang_up(role, player)
            _close(sock)

    def _request(
        self,
        sock: socket.socket,
        player: _Player,
        role: tuple[str, str] | None,
        request_line: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[str, str] | None:
        method, url, _ = ([*request_line.split(" "), "", ""])[:3]
        cseq = headers.get("cseq", "0")
        parsed = urlparse(url)
        path = parsed.path.strip("/")
        with self._lock:
            if method == "OPTIONS":
                public = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER"
                _reply(sock, cseq, extra={"Public": public})
            elif method == "ANNOUNCE":
                self._paths[path] = _Publication(body)
                _reply(sock, cseq)
                return ("pub", path)
            elif method == "DESCRIBE":
                pub = self._paths.get(path)
                if pub is None or not pub.recording:
                    _reply(sock, cseq, "404 Not Found")
                else:
                    extra = {
                        "Content-Base": url.rstrip("/") + "/",
                        "Content-Type": "application/sdp",
                    }
                    _reply(sock, cseq, extra=extra, body=pub.sdp)
            elif method == "SETUP":
                transport = headers.get("transport", "")
                if "interleaved=" not in transport:
                    _reply(sock, cseq, "461 Unsupported Transport")
                    return None
                first = int(transport.split("interleaved=")[1].split("-")[0].split(";")[0])
                base, _, control = path.rpartition("/")
                if role and role[0] == "pub":
                    self._paths[role[1]].tracks[control] = first
                else:
                    pub = self._paths.get(base)
                    if pub is None or control not in pub.tracks:
                        _reply(sock, cseq, "404 Not Found")
                        return None
                    player.channels[pub.tracks[control]] = first
                    player.channels[pub.tracks[control] + 1] = first + 1
                    role = ("play", base)
                extra = {"Transport": transport, "Session": "12345678;timeout=60"}
                _reply(sock, cseq, extra=extra)
                return role
            elif method == "RECORD" and role:
                self._paths[role[1]].recording = True
                _reply(sock, cseq, extra={"Session": "12345678"})
            elif method == "PLAY" and role:
                pub = self._paths.get(role[1])
                if pub is None:
                    _reply(sock, cseq, "404 Not Found")
                    return None
                _reply(sock, cseq, extra={"Session": "12345678", "Range": "npt=0.000-"})
                player.playing = True
                pub.players.append(player)
            elif method == "TEARDOWN":
                _reply(sock, cseq)
            else:  # GET_PARAMETER keep-alives and the rest
                _reply(sock, cseq, extra={"Session": "12345678"})
        return None

    def _forward(self, path: str, channel: int, frame: bytes) -> None:
        with self._lock:
            pub = self._paths.get(path)
            players = list(pub.players) if pub is not None else []
        for player in players:
            target = player.channels.get(channel)
            if target is None:
                continue
            try:
                with player.lock:
                    player.sock.sendall(b"$" + bytes([target]) + frame)
            except OSError:
                with self._lock:
                    if pub is not None and player in pub.players:
                        pub.players.remove(player)

    def _hang_up(self, role: tuple[str, str] | None, player: _Player) -> None:
        if role is None:
            return
        with self._lock:
            pub = self._paths.get(role[1])
            if role[0] == "pub":
                if pub is not None:
                    del self._paths[role[1]]
                    for p in pub.players:
                        _close(p.sock)  # the camera went away: so does every viewer
            elif pub is not None and player in pub.players:
                pub.players.remove(player)


def _reply(
    sock: socket.socket,
    cseq: str,
    status: str = "200 OK",
    extra: dict[str, str] | None = None,
    body: bytes = b"",
) -> None:
    lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
