"""``veil serve | worker | token | policy | watch``: the redaction service's commands.

Each only parses arguments into :class:`ServiceSettings` and starts the pieces
in :mod:`veil.service`. Every file they write is the owner's only (umask 077).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from veil.errors import VeilError
from veil.service.access import Role
from veil.service.settings import ServiceSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("veil")


def _store_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("store")
    group.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="uploads, outputs and the SQLite database (default: $VEIL_DATA_DIR or ./veil-data)",
    )
    group.add_argument(
        "--db",
        metavar="URL",
        help="database URL, e.g. postgresql+psycopg://user:pass@127.0.0.1/veil "
        "(default: $VEIL_DATABASE_URL or SQLite in the data folder)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and details")


def _job_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("jobs")
    group.add_argument(
        "--grace",
        type=float,
        metavar="SECONDS",
        help="on SIGTERM a running job may finish this long, then it is handed back (default: 20)",
    )
    group.add_argument(
        "--lease",
        type=float,
        metavar="SECONDS",
        help="a worker silent this long is presumed dead and its job runs again (default: 30)",
    )
    group.add_argument(
        "--max-tries", type=int, metavar="N", help="runs before a job ends in error (default: 3)"
    )
    group.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3-compatible endpoint (MinIO, SeaweedFS, R2); default: $VEIL_S3_ENDPOINT or AWS",
    )


def _settings(args: argparse.Namespace, **extra: object) -> ServiceSettings:
    return ServiceSettings.from_env(
        data_dir=args.data,
        database_url=args.db,
        lease_seconds=getattr(args, "lease", None),
        max_tries=getattr(args, "max_tries", None),
        s3_endpoint=getattr(args, "s3_endpoint", None),
        shutdown_grace=getattr(args, "grace", None),
        **extra,
    )


def _service_logging(args: argparse.Namespace) -> None:
    logging.getLogger("veil.service").setLevel(logging.DEBUG if args.debug else logging.INFO)
    os.umask(0o077)  # uploads, outputs, keys and the database: readable by their owner only


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``serve``, ``worker``, ``token`` and ``watch`` to the ``veil`` command."""
    p = sub.add_parser("serve", help="run the REST API (and N workers) on this machine")
    _store_options(p)
    _job_options(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=8000, help="(default: %(default)s)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes to start beside the API; 0: run them with 'veil worker' "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--max-upload-mb", type=float, metavar="MB", help="upload size limit (default: 2048)"
    )
    p.add_argument(
        "--allow-url",
        action="append",
        default=[],
        metavar="PREFIX",
        help="URL prefix jobs may download inputs from (repeatable; also $VEIL_URL_ALLOWLIST)",
    )
    p.add_argument(
        "--retain-originals",
        type=float,
        metavar="DAYS",
        help="delete uploads (the unredacted originals) this many days after they arrived, "
        "once no unfinished job needs them (default: kept until deleted)",
    )
    p.set_defaults(handler=serve)

    p = sub.add_parser("worker", help="run jobs from the store until stopped")
    _store_options(p)
    _job_options(p)
    p.set_defaults(handler=worker)

    p = sub.add_parser("token", help="create, list or revoke API tokens")
    _store_options(p)
    p.add_argument("action", choices=("create", "list", "revoke"))
    p.add_argument("name", nargs="?", help="the token's name (create, revoke)")
    p.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.OPERATOR.value,
        help="admin: everything; operator: uploads and jobs; reviewer: review and redact "
        "(default: %(default)s)",
    )
    p.add_argument("--team", help="share what this token makes with the team's other tokens")
    p.set_defaults(handler=token)

    p = sub.add_parser("policy", help="show or set the policy (weakest blur, review rules)")
    _store_options(p)
    p.add_argument("--min-blur", metavar="TYPE", help="the weakest blur a published output has")
    p.add_argument(
        "--require-review",
        action=argparse.BooleanOptionalAction,
        help="unreviewed spans block a review's export",
    )
    p.add_argument(
        "--allow-webhook",
        action="append",
        metavar="PREFIX",
        help="a webhook URL prefix allowed on a private address (repeatable; replaces the list)",
    )
    p.set_defaults(handler=policy)

    p = sub.add_parser("watch", help="redact every video that appears in a folder or bucket")
    _store_options(p)
    _job_options(p)
    p.add_argument("source", metavar="DIR|s3://BUCKET/PREFIX")
    p.add_argument("--out", required=True, metavar="DIR|s3://BUCKET/PREFIX")
    p.add_argument(
        "--preset",
        metavar="NAME|FILE",
        help="a stored preset's name, or an Azure preset JSON file (stored as watch-<stem>)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes to start; 0: jobs run on workers elsewhere (default: %(default)s)",
    )
    p.add_argument(
        "--interval", type=float, default=2.0, metavar="SECONDS", help="(default: %(default)s)"
    )
    p.add_argument(
        "--settle",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="a file is taken once its size and time stop changing this long "
        "(default: %(default)s)",
    )
    p.set_defaults(handler=watch)


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def web_app(settings: ServiceSettings, *, webhooks: bool = True) -> FastAPI:
    """Everything ``veil serve`` answers: the job API, the review app, the live pages."""
    from fastapi import Depends

    from veil.live.http import live_router
    from veil.review import install as install_review
    from veil.service.api import create_app
    from veil.service.api.deps import get_caller

    app = create_app(settings, webhooks=webhooks)
    # HLS written by `veil live --hls <data>/live`, with a page at /live/<name>: the
    # streams show unredacted moments' statistics and video, so any valid token is needed
    app.include_router(live_router(settings.data_dir / "live"), dependencies=[Depends(get_caller)])
    install_review(app)  # the review API (/v1/review) and the browser app at /
    return app


def _data_folder(settings: ServiceSettings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)  # also one made by an older veil


def serve(args: argparse.Namespace) -> int:
    from veil.service.api.server import server
    from veil.service.processes import WorkerPool

    _service_logging(args)
    extra: dict[str, object] = {"retain_originals_days": args.retain_originals}
    if args.max_upload_mb is not None:
        extra["max_upload_bytes"] = int(args.max_upload_mb * 1024**2)
    if args.allow_url:
        env = ServiceSettings.from_env()
        extra["url_allowlist"] = (*env.url_allowlist, *args.allow_url)
    settings = _settings(args, **extra)
    _data_folder(settings)
    # uvicorn stops on SIGTERM/SIGINT, then raises the signal again: this handler
    # takes it, so the workers below are stopped instead of the process dying at once
    _wait_for_signal()
    http = server(web_app(settings), settings, args.host, args.port)
    pool = WorkerPool(settings, args.workers).start() if args.workers > 0 else None
    print(
        f"veil: serving on http://{args.host}:{args.port} (docs at /docs), "
        f"data in {settings.data_dir.resolve()}, {args.workers} worker(s)",
        file=sys.stderr,
    )
    try:
        http.run()
    finally:
        if pool is not None:
            pool.stop()
    return 0


def worker(args: argparse.Namespace) -> int:
    from veil.service.worker import serve_until_stopped

    _service_logging(args)
    settings = _settings(args)
    _data_folder(settings)
    return serve_until_stopped(settings)


def token(args: argparse.Namespace) -> int:
    from veil.service.store import Store

    os.umask(0o077)
    settings = _settings(args)
    _data_folder(settings)
    store = Store(settings)
    try:
        if args.action == "list":
            json.dump(store.tokens.list(), sys.stdout, indent=2)
            print()
            return 0
        if not args.name:
            raise VeilError(f"veil token {args.action} needs a NAME")
        if args.action == "create":
            print(store.tokens.create(args.name, Role(args.role), args.team))
            print(
                f"veil: {args.role} token {args.name!r} created; it is shown only now. "
                "Send it as 'Authorization: Bearer <token>'",
                file=sys.stderr,
            )
        else:
            store.tokens.revoke(args.name)
            print(f"veil: token {args.name!r} revoked", file=sys.stderr)
        return 0
    finally:
        store.close()


def policy(args: argparse.Namespace) -> int:
    """Print the policy; with options, change it first (as an admin on this machine)."""
    from pydantic import ValidationError

    from veil.service.policy import Policy
    from veil.service.store import Store

    os.umask(0o077)
    store = Store(_settings(args))
    try:
        current = store.policy.get()
        changes = {
            "min_blur": args.min_blur,
            "require_review": args.require_review,
            "webhook_allow": args.allow_webhook,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            try:
                wanted = Policy.model_validate({**current.model_dump(), **changes})
            except ValidationError as exc:
                first = exc.errors()[0]
                raise VeilError(f"policy {first['loc'][0]}: {first['msg']}") from exc
            current = store.policy.put(wanted, f"veil policy ({getpass.getuser()})")
        print(current.model_dump_json(indent=2))
        return 0
    finally:
        store.close()


def _watch_preset(store: object, value: str | None) -> str | None:
    """A stored preset's name; an Azure JSON file is stored under ``watch-<stem>`` first."""
    from veil.service.files import safe_name
    from veil.service.options import resolve_options
    from veil.service.store import Store
    from veil.userfiles import load_json, read_bytes

    assert isinstance(store, Store)
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() == ".json" or path.is_file():
        azure = load_json(read_bytes(path), path)
        if not isinstance(azure, dict):
            raise VeilError(f"{path}: a preset must be a JSON object")
        resolve_options(azure=azure, source=str(path))
        name = "watch-" + safe_name(path.stem)[:50]
        store.presets.put(name=name, azure=azure, options={})
        return name
    store.presets.get(value)
    return value


def watch(args: argparse.Namespace) -> int:
    from veil.service import s3
    from veil.service.processes import WorkerPool
    from veil.service.store import Store
    from veil.service.watch import FolderWatcher, S3Watcher, watch_loop

    _service_logging(args)
    settings = _settings(args)
    _data_folder(settings)
    store = Store(settings)
    preset = _watch_preset(store, args.preset)
    watcher: FolderWatcher | S3Watcher
    if s3.is_s3_url(args.source):
        if not s3.is_s3_url(args.out):
            raise VeilError("an s3:// source needs an s3:// --out")
        watcher = S3Watcher(store, settings, args.source, args.out, preset=preset)
    else:
        source = Path(args.source)
        if not source.is_dir():
            raise VeilError(f"{source}: not a folder")
        out = Path(args.out)
        if s3.is_s3_url(args.out):
            raise VeilError("a folder source needs a folder --out")
        out.mkdir(parents=True, exist_ok=True)
        if out.resolve() == source.resolve():
            raise VeilError("--out must differ from the watched folder")
        watcher = FolderWatcher(store, source, out, preset=preset, settle=args.settle)
    stop = _wait_for_signal()
    pool = WorkerPool(settings, args.workers).start() if args.workers > 0 else None
    print(f"veil: watching {args.source} -> {args.out}", file=sys.stderr)
    try:
        watch_loop(watcher, interval=args.interval, stop=stop)
    finally:
        if pool is not None:
            pool.stop()
        store.close()
    return 0
