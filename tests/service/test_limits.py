"""Limits before work: the token before the body, body sizes, bounded fields, pixel counts,
idle connections."""

from __future__ import annotations

import socket
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from service.helpers import Api, Clip, serve_app
from veil.service.settings import ServiceSettings
from veil.service.store import Store

# generous: a server that waits for a body never sent does not answer at all
ANSWER_WITHIN = 30.0


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send a request head (and part of a body), return what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=ANSWER_WITHIN) as s:
        s.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = s.recv(65536)
            if not piece:
                break
            answer += piece
        return answer


def png(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height (one row of pixels follows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = zlib.compress(b"\x00" * (3 * width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def test_a_request_without_a_token_is_refused_before_its_body(api: Api):
    head = (
        "POST /v1/presets HTTP/1.1\r\nHost: veil\r\nContent-Type: application/json\r\n"
        "Content-Length: 52428800\r\n\r\n"
    )
    answer = raw_request(api.url, head, b"{")  # 50 MB announced, one byte sent
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_body_over_the_limit_is_refused_from_its_length(api: Api):
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: veil\r\nAuthorization: Bearer {api.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
    )
    answer = raw_request(api.url, head, b"{")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_body_streaming_past_the_limit_is_cut_off(api: Api):
    limit = api.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        yield b'{"input": {"url": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536

    response = api.client.post(
        "/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_every_string_and_list_is_bounded(api: Api):
    long_url = "https://example.org/" + "a" * 5000 + ".mp4"
    assert api.client.post("/v1/jobs", json={"input": {"url": long_url}}).status_code == 422
    many = {"input": {"s3": "s3://b/a.mp4"}, "mode": "redact", "ids": list(range(100_001))}
    assert api.client.post("/v1/jobs", json=many).status_code == 422
    name = "a" * 2000 + ".mp4"
    assert (
        api.client.post("/v1/uploads", params={"filename": name}, content=b"x").status_code == 422
    )
    assert api.client.get("/v1/jobs", params={"preset": "p" * 500}).status_code == 422


@pytest.mark.parametrize("side", [12_000, 20_000])
def test_a_picture_with_too_many_pixels_is_refused_before_decoding(api: Api, side: int):
    data = png(side, side)
    assert len(data) < 200_000
    response = api.client.post("/v1/uploads", params={"filename": "big.png"}, content=data)
    assert response.status_code == 413, response.text
    assert "pixels" in response.json()["detail"]
    assert [p for p in api.settings.uploads_dir.rglob("*") if p.is_file()] == []
    assert api.client.get("/v1/jobs").json()["count"] == 0


def test_a_video_with_too_large_frames_is_refused(
    settings: ServiceSettings, store: Store, clip: Clip
):
    small = replace(settings, max_pixels=320 * 180 - 1)
    token = store.tokens.create("limits")
    with (
        serve_app(small) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        response = http.post(
            "/v1/jobs/upload", params={"filename": "walk.mp4"}, content=clip.path.read_bytes()
        )
        assert response.status_code == 413, response.text
        assert http.get("/v1/jobs").json()["count"] == 0
    assert [p for p in small.uploads_dir.rglob("*") if p.is_file()] == []


@pytest.fixture
def impatient(settings: ServiceSettings, store: Store) -> Iterator[tuple[str, str]]:
    quick = replace(settings, idle_seconds=1.0)
    token = store.tokens.create("impatient")
    with serve_app(quick) as url:
        yield url, token


def closed_within(url: str, sent: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=ANSWER_WITHIN) as s:
        s.sendall(sent)
        answer = b""
        while piece := s.recv(65536):  # returns b"" once the server closed
            answer += piece
        return answer


def test_idle_connections_are_closed(impatient: tuple[str, str], tmp_path: Path):
    url, token = impatient
    assert closed_within(url, b"") == b""  # opened, nothing sent
    assert closed_within(url, b"GET /health HTTP/1.1\r\nHost: v") == b""  # a head that stalls
    stalled = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: veil\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    assert closed_within(url, stalled.encode()).startswith(b"HTTP/1.1 408")
    assert httpx.get(f"{url}/health").status_code == 200  # and the server still answers
