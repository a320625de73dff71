"""Reading and writing annotations files and Azure ID list files.

Every problem with a user's file raises :class:`~veil.errors.InputError` with a
one-line problem text; nothing here prints.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

from pydantic import ValidationError

from veil.annotations.models import Annotations
from veil.atomic import write_atomic
from veil.errors import InputError
from veil.userfiles import load_json, read_bytes


def _location(loc: tuple[int | str, ...]) -> str:
    """('fragments', 1, 'events', 0, 2, 'x') -> 'fragments[1].events[0][2].x'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _summarise(error: ValidationError) -> str:
    """The first validation problem on one line, with where it is."""
    errors = error.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    if first["type"] == "missing" and loc:
        where, text = _location(loc[:-1]), f"missing '{loc[-1]}'"
    else:
        where = _location(loc)
        text = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        if isinstance(value, str | int | float | bool) or value is None:
            text += f" (got {json.dumps(value)})"
    problem = f"{where}: {text}" if where else text
    if len(errors) > 1:
        more = len(errors) - 1
        problem += f" (and {more} more problem{'s' if more > 1 else ''})"
    return " ".join(problem.split())


def validate_annotations(data: object, source: Path | str) -> Annotations:
    """Annotations from decoded JSON; ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise InputError(source, "not an annotations file: expected a JSON object")
    if "fragments" not in data:
        raise InputError(source, "not an annotations file: missing 'fragments'")
    try:
        return Annotations.model_validate(data)
    except ValidationError as e:
        raise InputError(source, _summarise(e)) from None


def parse_annotations(data: bytes | str, source: Path | str) -> Annotations:
    """Annotations from JSON text (UTF-8/16/32 bytes or str)."""
    return validate_annotations(load_json(data, source), source)


def read_annotations(path: Path | str) -> Annotations:
    """Reads an annotations file (veil's or Azure Media Redactor's).

    Raises:
        InputError: the file is missing, unreadable, not JSON, not annotations,
            or has an invalid value (the first one is named).
    """
    path = Path(path)
    return parse_annotations(read_bytes(path), path)


def dump_annotations(annotations: Annotations) -> str:
    """The JSON text veil writes: one line per event (one video frame).

    Top-level keys get a line each, each fragment's header opens a line and
    each event follows on its own line, so a person can find a frame and edit
    or delete a face with any text editor, while the file stays a few times
    smaller than fully indented JSON.
    """
    return dump_document(annotations.model_dump(mode="json", exclude_none=True))


def dump_document(document: dict) -> str:
    """JSON text of an Azure-layout document with a line per top-level key, per
    fragment header and per event, so a person can edit a frame by hand."""

    def dumps(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    def fragment_text(fragment: dict) -> str:
        fragment = dict(fragment)
        events = fragment.pop("events", None)
        head = dumps(fragment)
        if events is None:
            return f"  {head}"
        lines = ",\n".join(f"   {dumps(event)}" for event in events)
        body = f"\n{lines}\n  " if events else ""
        return f'  {head[:-1]}, "events": [{body}]}}'

    lines = []
    for key, value in document.items():
        if key == "fragments" and value:
            fragments = ",\n".join(fragment_text(f) for f in value)
            lines.append(f' "fragments": [\n{fragments}\n ]')
        else:
            lines.append(f" {dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_annotations(annotations: Annotations, path: Path | str) -> None:
    """Writes annotations as JSON (see :func:`dump_annotations`), atomically."""
    path = Path(path)
    try:
        write_atomic(path, dump_annotations(annotations).encode("utf-8"))
    except OSError as e:
        raise InputError(path, f"cannot write: {e.strerror or e}") from None


# --- Azure ID list -------------------------------------------------------------

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_FACE_ID = re.compile(r"[0-9]+")


def _decode_text(data: bytes, path: Path) -> str:
    """Text of a small file written by any Windows or Unix editor."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise InputError(path, f"not valid {encoding} text after its BOM") from None
    if b"\x00" in data and len(data) % 2 == 0:
        # UTF-16 without a BOM: ASCII characters have a zero high byte.
        encoding = "utf-16-le" if data[1::2].count(0) >= data[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # "ANSI" from Notepad; latin-1 covers the bytes cp1252 leaves undefined.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def parse_id_list(text: str, source: Path | str) -> frozenset[int] | None:
    """Face IDs from an ID list's text; None (all faces) when it lists none.

    One ID per line as Azure specifies. Also accepted, because spreadsheets
    and hand edits produce them: blank lines, surrounding whitespace and
    commas between or after IDs on a line ("12,", "3, 4").

    Raises:
        InputError: naming the first line with something that is not an ID.
    """
    ids: set[int] = set()
    # A BOM left in text decoded without "-sig" is not content.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        for token in line.split(","):
            token = token.strip()
            if not token:
                continue
            if not _FACE_ID.fullmatch(token):
                shown = token if len(token) <= 40 else token[:37] + "..."
                raise InputError(
                    source,
                    f"line {number}: {shown!r} is not a face ID (IDs are whole numbers, 0 or more)",
                )
            ids.add(int(token))
    return frozenset(ids) if ids else None


def read_id_list(path: Path | str) -> frozenset[int] | None:
    """Reads an Azure ID list file: the face IDs to redact, one per line.

    Accepts UTF-8 (with or without BOM), UTF-16/32 with a BOM, UTF-16 without
    one, and ANSI (cp1252/latin-1); LF, CRLF or CR line ends. An empty file,
    or one with only whitespace, means every face and returns None.

    Raises:
        InputError: the file is missing or unreadable, or a line holds
            something other than IDs (the line number is named).
    """
    path = Path(path)
    return parse_id_list(_decode_text(read_bytes(path), path), path)
