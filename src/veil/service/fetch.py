"""Inputs by URL: only from prefixes on the allow-list, streamed, with the size limit."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from veil.errors import VeilError
from veil.service.files import TooLarge
from veil.service.settings import ServiceSettings


def check_url_allowed(url: str, settings: ServiceSettings) -> None:
    """Raises VeilError unless ``url`` is http(s) and starts with an allowed prefix."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise VeilError(f"{url!r} is not an http(s) URL")
    if ".." in parsed.path.split("/") or parsed.username or parsed.password:
        raise VeilError(f"{url!r}: credentials or '..' are not allowed in input URLs")
    if not any(url.startswith(prefix) for prefix in settings.url_allowlist):
        raise VeilError(
            f"{url!r} is not on the URL allow-list "
            "(set VEIL_URL_ALLOWLIST or serve --allow-url PREFIX)"
        )


def download_url(url: str, dst: Path, settings: ServiceSettings) -> None:
    """Stream ``url`` to ``dst`` (no redirects: a redirect could leave the allow-list)."""
    import httpx

    check_url_allowed(url, settings)
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
