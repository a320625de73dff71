"""URLs as people are shown them: with every credential masked.

A camera's ``rtsp://admin:hunter2@cam/stream`` is shown as
``rtsp://admin:***@cam/stream`` in statistics, logs, job reports and API
answers; query values named like a credential (``token``, ``key``,
``password``, ``sig``...) are masked too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_CREDENTIAL = re.compile(r"pass|pwd|secret|token|key|sig|auth|credential|session", re.I)


def masked(url: str) -> str:
    """``url`` with its password and credential-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _CREDENTIAL.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_text(text: str) -> str:
    """Every URL with credentials inside a message (a log line, an error) masked."""
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+", lambda m: masked(m.group(0)), text)
