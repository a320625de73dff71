"""Azure ID list files: which face IDs to redact."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from veil.annotations import parse_id_list, read_id_list
from veil.errors import InputError

IDS = "1138\n2028\n7\n"


@pytest.mark.parametrize(
    "raw",
    [
        IDS.encode("utf-8"),
        IDS.encode("utf-8-sig"),
        IDS.encode("utf-16"),  # with BOM, native order
        codecs.BOM_UTF16_LE + IDS.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + IDS.encode("utf-16-be"),
        IDS.encode("utf-16-le"),  # no BOM
        IDS.encode("utf-16-be"),  # no BOM
        IDS.encode("utf-32"),
        IDS.encode("cp1252"),
        IDS.encode("latin-1"),
        # ANSI Notepad with a no-break space (0xA0: not valid UTF-8 on its own).
        "1138\xa0\n\xa02028\n7".encode("cp1252"),
        "1138\n2028\n7\n".replace("\n", "\r\n").encode("utf-8"),
        b"1138\r2028\r7",
        "1138\r\n2028\r\n7\r\n".encode("utf-16"),
    ],
    ids=lambda raw: repr(raw[:12]),
)
def test_encodings_and_line_ends(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(raw)
    assert read_id_list(path) == {1138, 2028, 7}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("\n\n  \n\t\n", None),
        ("\ufeff", None),
        (",\n, ,", None),
        ("5", {5}),
        ("0\n", {0}),
        ("  12  \n\n\n  13\t\n", {12, 13}),
        ("12,\n13,\n", {12, 13}),  # spreadsheet export with a trailing comma
        ("12, 13\n14", {12, 13, 14}),
        ("7\n7\n7", {7}),
        ("0012", {12}),
        ("99999999999999999999", {99999999999999999999}),
    ],
)
def test_contents(text: str, expected: set[int] | None) -> None:
    assert parse_id_list(text, "ids.txt") == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1\n2\nabc\n", "line 3: 'abc' is not a face ID"),
        ("1\r\n\r\n-3\r\n", "line 3: '-3' is not a face ID"),
        ("1.5", "line 1: '1.5' is not a face ID"),
        ("+4", "line 1: '+4' is not a face ID"),
        ("12 13", "line 1: '12 13' is not a face ID"),
        ("1\n2,x", "line 2: 'x' is not a face ID"),
        ("\u0661\u0662", "line 1: '\u0661\u0662' is not a face ID"),  # Arabic-Indic digits
        ("1_000", "line 1: '1_000' is not a face ID"),
        ("x" * 100, "line 1: '" + "x" * 37 + "...' is not a face ID"),
    ],
)
def test_bad_contents(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(InputError) as caught:
        read_id_list(path)
    assert caught.value.problem.startswith(problem)
    assert caught.value.path == path
    assert "\n" not in str(caught.value)


def test_bad_line_number_in_utf16(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes("1\r\n2\r\nthree\r\n".encode("utf-16"))
    with pytest.raises(InputError, match="line 3: 'three'"):
        read_id_list(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_id_list(tmp_path / "nope.txt")


def test_invalid_after_bom(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"1\n\xff\n")
    with pytest.raises(InputError, match="not valid utf-8 text"):
        read_id_list(path)
