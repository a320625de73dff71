"""``veil live``: redact a camera or network stream in real time.

Arguments -> LiveConfig -> LiveSession; prints a statistics line every few
seconds. SIGINT/SIGTERM end the session cleanly (outputs are finished).
Exit codes: 0 stopped or ended, 2 a user error (bad source file, bad output).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from veil.cli.redaction import add_detection_options, add_redaction_options, pipeline_config
from veil.detect import load_detector
from veil.errors import VeilError
from veil.live.config import LIVE_ENCODER, LiveConfig, OutputConfig, check_name, parse_duration
from veil.live.hub import LiveHub
from veil.live.session import LiveSession
from veil.live.stats import summary_line
from veil.pipeline.profiles import LIVE_QUALITY
from veil.preset import Preset

log = logging.getLogger("veil")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except VeilError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: use HOST:PORT, e.g. 127.0.0.1:8090")
    return host or "127.0.0.1", int(port)


def _source_options(p: argparse.ArgumentParser) -> None:
    source = p.add_argument_group("source")
    source.add_argument(
        "--source",
        required=True,
        metavar="SRC",
        help="camera index (0) or /dev/videoN, rtsp://, http(s):// (or rtmp, srt, udp) URL, "
        "or a video file",
    )
    source.add_argument("--name", default="live", help="stream name (default: %(default)s)")
    source.add_argument(
        "--realtime", action="store_true", help="play a file at its own frame rate, like a camera"
    )
    source.add_argument("--loop", action="store_true", help="start a file again at its end")
    source.add_argument(
        "--rtsp-transport", choices=("tcp", "udp"), default="tcp", help="(default: %(default)s)"
    )
    source.add_argument(
        "--reconnect-max",
        type=_duration,
        default=LiveConfig("").reconnect_max,
        metavar="DUR",
        help="longest wait between reconnection tries; waits double from 0.5 s "
        "(default: %(default)ss)",
    )


def _output_options(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group("outputs (any combination)")
    out.add_argument(
        "--record",
        type=Path,
        metavar="PATH",
        help="record to a file; with --segment, a folder of <name>_DATE-TIME.mp4 segments",
    )
    out.add_argument(
        "--segment", type=_duration, metavar="DUR", help="segment length, e.g. 10m (with --record)"
    )
    out.add_argument(
        "--hls",
        type=Path,
        metavar="ROOT",
        help="write HLS to ROOT/<name>/index.m3u8 (serve ROOT at /live/<name>)",
    )
    out.add_argument(
        "--hls-time",
        type=float,
        default=OutputConfig().hls_time,
        metavar="S",
        help="HLS segment length (default: %(default)s)",
    )
    out.add_argument("--push", metavar="URL", help="publish to an rtsp:// or rtmp:// server")
    out.add_argument(
        "--http",
        type=_address,
        metavar="HOST:PORT",
        help="serve /live/<name> (page, HLS, MJPEG, stats, metrics) from this process",
    )
    out.add_argument("--mjpeg", action="store_true", help="MJPEG at /live/<name>/mjpeg (--http)")


def _real_time_options(p: argparse.ArgumentParser) -> None:
    run = p.add_argument_group("real time")
    run.add_argument(
        "--duration", type=_duration, metavar="DUR", help="stop after this long (default: never)"
    )
    run.add_argument(
        "--queue",
        type=int,
        default=LiveConfig("").queue_frames,
        metavar="FRAMES",
        help="frames the source may run ahead; the oldest is dropped beyond (default: %(default)s)",
    )
    run.add_argument(
        "--delay",
        type=_duration,
        default=None,
        metavar="DUR",
        help="hold each frame this long before redacting it, so detections of the next "
        "frames land first: fewer late-covered faces for more latency (default: 0)",
    )
    run.add_argument(
        "--max-detection-age",
        type=_duration,
        default=LiveConfig("").max_detection_age,
        metavar="DUR",
        help="a frame this far from the last detection is blurred whole (default: %(default)ss)",
    )
    run.add_argument(
        "--stats-every",
        type=_duration,
        default=LiveConfig("").stats_every,
        metavar="DUR",
        help="statistics line interval (default: %(default)ss)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``live`` to the ``veil`` command."""
    p = sub.add_parser(
        "live",
        help="blur faces in a camera or network stream in real time",
        description="Redact a live stream: every frame is blurred before it leaves veil. "
        "Detection runs on the newest frame whenever the detector is free; frames in "
        "between are blurred with the last known faces, moved and grown with their age.",
    )
    _source_options(p)
    _output_options(p)
    _real_time_options(p)
    add_detection_options(p, live=True, quality=LIVE_QUALITY)
    add_redaction_options(p, LIVE_ENCODER)
    p.add_argument("--quiet", action="store_true", help="no statistics lines, no warnings")
    p.add_argument("--json", action="store_true", help="print the final statistics as JSON")
    p.add_argument("--debug", action="store_true", help="show tracebacks and details")
    p.set_defaults(handler=run_live)


def live_config(args: argparse.Namespace) -> LiveConfig:
    if args.segment is not None and args.record is None:
        raise VeilError("--segment needs --record")
    if args.mjpeg and args.http is None:
        raise VeilError("--mjpeg is served by --http HOST:PORT")
    if args.queue < 1:
        raise VeilError("--queue must be 1 or more")
    pipeline = pipeline_config(args, Preset(), LIVE_QUALITY)
    outputs = OutputConfig(
        record=args.record,
        segment=args.segment,
        hls_root=args.hls,
        hls_time=args.hls_time,
        push=args.push,
        mjpeg=args.mjpeg,
    )
    config = LiveConfig(
        source=args.source,
        name=check_name(args.name),
        pipeline=pipeline,
        outputs=outputs,
        realtime=args.realtime,
        loop=args.loop,
        queue_frames=args.queue,
        max_detection_age=args.max_detection_age,
        reconnect_max=args.reconnect_max,
        duration=args.duration,
        stats_every=args.stats_every,
        rtsp_transport=args.rtsp_transport,
        delay=args.delay or 0.0,
        hold_frames=args.max_gap,
    )
    return config


class _Server:
    """uvicorn in a thread, serving the live router (and nothing else)."""

    def __init__(self, address: tuple[str, int], hub: LiveHub, hls_root: Path | None) -> None:
        import uvicorn

        from veil.apps import live_app

        app = live_app(hls_root, hub)
        host, port = address
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="veil-live-http", daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def run_live(args: argparse.Namespace) -> int:
    config = live_config(args)
    detector = load_detector(config.pipeline.detector)
    hub = LiveHub()

    def on_stats(snapshot: dict) -> None:
        if not args.quiet:
            print("veil live: " + summary_line(snapshot), file=sys.stderr, flush=True)

    session = LiveSession(config, detector, hub, on_stats)
    server = _Server(args.http, hub, config.outputs.hls_root) if args.http else None

    def stop(_signum: int, _frame: object) -> None:
        session.stop()

    # a handler, not KeyboardInterrupt: the exception lands wherever the main thread
    # is (inside a thread join, a lock), the stop event only asks every thread to end
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if server is not None:
            server.__enter__()
        session.start()
        while not session.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server is not None:
            server.__exit__()
    if args.json:
        json.dump(session.snapshot(), sys.stdout, indent=2)
        print()
    return 0
