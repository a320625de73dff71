"""Serving files over HTTP: a job's outputs (veil's folder or S3) and download names."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import FileResponse, Response, StreamingResponse

from veil.names import content_type
from veil.service.outputs import Output, output_chunks
from veil.service.settings import ServiceSettings


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """``attachment; filename=...`` that keeps any Unicode name (RFC 6266 / 5987)."""
    kind = "attachment" if attachment else "inline"
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    if fallback == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def output_response(
    settings: ServiceSettings,
    output: Output,
    *,
    download: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    """One output, as a download (or inline, for players); 410 if veil no longer has it."""
    sent = dict(headers or {})
    if download:
        sent["Content-Disposition"] = content_disposition(output.name)
    media_type = content_type(output.name)
    if output.url is not None:
        return StreamingResponse(
            output_chunks(settings, output), media_type=media_type, headers=sent
        )
    if not output.exists():
        raise HTTPException(410, f"output {output.name!r} is no longer on the server")
    assert output.path is not None
    return FileResponse(output.path, media_type=media_type, headers=sent)
