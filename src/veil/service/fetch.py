"""Inputs by URL: only from prefixes on the allow-list, streamed, with the size limit."""

from __future__ import annotations

import os
from pathlib import Path

from veil.errors import VeilError
from veil.service.addresses import check_url_allowed
from veil.service.files import TooLarge
from veil.service.settings import ServiceSettings


def download_url(url: str, dst: Path, settings: ServiceSettings) -> None:
    """Stream ``url`` to ``dst`` (no redirects: a redirect could leave the allow-list)."""
    import httpx

    url = check_url_allowed(url, settings)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial-{os.getpid()}")
    received = 0
    try:
        with (
            httpx.stream("GET", url, follow_redirects=False, timeout=60) as response,
            open(tmp, "wb") as f,
        ):
            if response.status_code >= 500:  # the server's trouble: worth another try
                raise OSError(f"{url}: HTTP {response.status_code}")
            if response.status_code != 200:
                raise VeilError(f"{url}: HTTP {response.status_code}")
            for chunk in response.iter_bytes(1 << 20):
                received += len(chunk)
                if received > settings.max_upload_bytes:
                    raise TooLarge(f"{url}: larger than {settings.max_upload_bytes} bytes")
                f.write(chunk)
        os.replace(tmp, dst)
    except httpx.HTTPError as exc:
        raise OSError(f"{url}: download failed ({exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
