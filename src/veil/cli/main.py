"""The ``veil`` command: each subcommand module registers itself; errors become one line.

Exit codes: 0 done, 2 a user error (one line on stderr, no traceback unless
``--debug``), 1 an unexpected failure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from veil import version
from veil.cli import doctor, facedetect, live, models, redaction, service, verify
from veil.errors import VeilError

log = logging.getLogger("veil")

# Each module has register(subparsers), which sets a handler(args) -> exit code.
COMMAND_MODULES = (redaction, service, facedetect, live, verify, doctor, models)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="veil", description="Find and hide faces in videos and images, offline."
    )
    parser.add_argument("--version", action="version", version=f"veil {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug, quiet = getattr(args, "debug", False), getattr(args, "quiet", False)
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="veil: %(levelname)s: %(message)s")
    # onnxruntime and FFmpeg threads would otherwise spin on the codec's cores
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return args.handler(args)
    except (VeilError, OSError) as exc:
        print(f"veil: error: {exc}", file=sys.stderr)
        log.debug("details", exc_info=True)
        return 2
    except KeyboardInterrupt:
        print("veil: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: say so, traceback with --debug
        if debug:
            raise
        print(
            f"veil: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
