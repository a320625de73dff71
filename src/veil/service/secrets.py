"""Keys in the data folder, and webhook secrets at rest.

Every key veil makes for itself (the secret-box key, the default webhook secret,
the review links' key, the report signing key) is created once, 0600, by
:func:`key_file`, so two processes starting together agree on it. Webhook
secrets are stored encrypted (Fernet: AES-CBC with an HMAC) with the key in
``<data>/secret.key``: a copy of the database, or a PostgreSQL server on
another machine, holds no usable secret. Workers on other machines need the
same data-folder keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from veil.errors import VeilError
from veil.service.settings import ServiceSettings

_SEALED = "fernet:"


def key_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The contents of ``path``, made by ``make()`` (readable by the owner only) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(make())
                f.flush()
                os.fsync(f.fileno())
    for _ in range(100):  # another process made it a moment ago: wait for its bytes
        data = path.read_bytes().strip()
        if data:
            return data
    raise VeilError(f"the key file {path.name} in the data folder is empty")


class Secrets:
    """Seals and opens webhook secrets with the data folder's key."""

    def __init__(self, settings: ServiceSettings) -> None:
        from cryptography.fernet import Fernet

        self._fernet = Fernet(key_file(settings.data_dir / "secret.key", Fernet.generate_key))

    def seal(self, secret: str) -> str:
        return _SEALED + self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        if not sealed.startswith(_SEALED):  # written by a veil that stored secrets in clear
            return sealed
        try:
            return self._fernet.decrypt(sealed[len(_SEALED) :].encode()).decode()
        except InvalidToken as exc:
            raise VeilError("a webhook secret was sealed with another secret.key") from exc
