"""Reading the small files a user hands veil (annotations, presets, ID lists).

Every failure becomes an :class:`~veil.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from veil.errors import InputError


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None


def load_json(data: bytes | str, source: Path | str) -> object:
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise InputError(
            source, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            source, "not valid JSON: the text is not UTF-8, UTF-16 or UTF-32"
        ) from None
