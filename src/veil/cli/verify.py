"""``veil verify FILE``: check a job report or an audit-trail export, offline.

The signature is checked with the key the document names and, given ``--key``
(the service's ``custody.pub``, or ``GET /v1/custody/key``), that this is the
service's key. For a report, every output it lists that lies beside it (or in
``--files DIR``) is hashed and compared, and so is ``--input`` if given; for an
audit export, the hash chain is recomputed. Exit 0 only if everything holds.
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
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(handler=verify)


def _trusted(value: str | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    return read_bytes(path).decode().strip() if path.is_file() else value.strip()


def verify(args: argparse.Namespace) -> int:
    from veil.service.custody import check_chain, check_signature, sha256_file

    document = load_json(read_bytes(args.document), args.document)
    if not isinstance(document, dict):
        raise VeilError(f"{args.document}: not a veil report or audit trail")
    key = check_signature(document, _trusted(args.key))
    trust = "the given key" if args.key else "its own key (give --key to name the trusted one)"
    print(f"signature: valid, key {key}, checked against {trust}")
    problems = []
    if document.get("type") == "veil.audit":
        print(f"audit trail of job {document.get('job')}: {check_chain(document)} entries, chained")
    else:
        folder = args.files or args.document.parent
        for name, digest in sorted((document.get("outputs") or {}).items()):
            path = folder / name
            if not path.is_file():
                print(f"{name}: not here, not checked")
            elif sha256_file(path) == digest:
                print(f"{name}: SHA-256 matches")
            else:
                print(f"{name}: SHA-256 DIFFERS")
                problems.append(name)
        if args.input is not None:
            expected = (document.get("input") or {}).get("sha256")
            matches = expected == sha256_file(args.input)
            print(f"{args.input.name} (input): SHA-256 {'matches' if matches else 'DIFFERS'}")
            if not matches:
                problems.append(str(args.input))
    if problems:
        raise VeilError(f"{args.document}: changed since it was signed: {', '.join(problems)}")
    print(f"{args.document}: verified", file=sys.stderr)
    return 0
