"""``veil verify FILE``: check a job report or an audit-trail export, offline.

The signature is checked with ``--key``, the service's public key (its
``custody.pub``, or ``GET /v1/custody/key``): a document carries the key it was
signed with, so without a trusted key anyone could re-sign a changed one, and
``veil verify`` refuses to say "verified". For a report, every output it lists that
lies beside it (or in ``--files DIR``) is hashed and compared, and so is
``--input`` if given; at least one must be there to check. For an audit export, the
hash chain is recomputed and, given ``--previous`` (an earlier export of the same
trail), every entry of that one must still be there, unchanged: a trail cut short
at its end still chains. Exit 0 only if everything holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veil.errors import VeilError
from veil.userfiles import load_json, read_bytes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a signed job report or audit trail, offline")
    p.add_argument("document", type=Path, metavar="FILE", help="<stem>_report.json or an audit")
    p.add_argument(
        "--key", metavar="PUBKEY|FILE", help="the service's public key (custody.pub) to trust"
    )
    p.add_argument("--files", type=Path, metavar="DIR", help="where the outputs are")
    p.add_argument("--input", type=Path, metavar="FILE", help="the original, to check its hash")
    p.add_argument(
        "--previous", type=Path, metavar="FILE", help="an earlier export of the same audit trail"
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(handler=verify)


def _trusted(value: str | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    return read_bytes(path).decode().strip() if path.is_file() else value.strip()


def verify(args: argparse.Namespace) -> int:
    from veil.service.custody import check_signature

    document = load_json(read_bytes(args.document), args.document)
    if not isinstance(document, dict):
        raise VeilError(f"{args.document}: not a veil report or audit trail")
    if args.key is None:
        raise VeilError(
            "give --key (the service's custody.pub, or GET /v1/custody/key): a document "
            "re-signed with any other key would check against its own"
        )
    key = check_signature(document, _trusted(args.key))
    print(f"signature: valid, by the trusted key {key}")
    if document.get("type") == "veil.audit":
        _check_trail(document, args.previous)
    else:
        problems = _check_report(document, args.files or args.document.parent, args.input)
        if problems:
            raise VeilError(f"{args.document}: changed since it was signed: {', '.join(problems)}")
    print(f"{args.document}: verified", file=sys.stderr)
    return 0


def _check_trail(document: dict, previous: Path | None) -> None:
    from veil.service.custody import check_chain

    print(f"audit trail of job {document.get('job')}: {check_chain(document)} entries, chained")
    if previous is None:
        return
    earlier = load_json(read_bytes(previous), previous)
    before = [e.get("hash") for e in earlier.get("events", [])] if isinstance(earlier, dict) else []
    now = [e.get("hash") for e in document.get("events", [])]
    if earlier.get("job") != document.get("job") or now[: len(before)] != before:
        raise VeilError(
            f"entries of {previous} are missing or changed: the trail was cut or rewritten"
        )
    print(f"{previous}: its {len(before)} entries are all still there")


def _check_report(document: dict, folder: Path, original: Path | None) -> list[str]:
    """The outputs (and input) whose SHA-256 differs; VeilError when none could be checked."""
    from veil.service.custody import sha256_file

    problems, checked = [], 0
    for name, digest in sorted((document.get("outputs") or {}).items()):
        path = folder / name
        if not path.is_file():
            print(f"{name}: not here, not checked")
            continue
        checked += 1
        matches = sha256_file(path) == digest
        print(f"{name}: SHA-256 {'matches' if matches else 'DIFFERS'}")
        if not matches:
            problems.append(name)
    if original is not None:
        checked += 1
        expected = (document.get("input") or {}).get("sha256")
        matches = expected == sha256_file(original)
        print(f"{original.name} (input): SHA-256 {'matches' if matches else 'DIFFERS'}")
        if not matches:
            problems.append(str(original))
    if not checked:
        raise VeilError(
            f"none of the files the report lists is in {folder}: nothing was checked "
            "(give --files DIR or --input FILE)"
        )
    return problems
