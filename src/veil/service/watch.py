"""Storage-event triggers: a folder or an S3 prefix whose new media files become jobs.

The state lives in the job store, not in the watcher: each file (path, size,
modification time) or object version (key, ETag) has a unique job key, so a
restarted watcher neither queues a finished file again nor misses one that
arrived while it was down (every scan looks at everything that is there).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from veil.service import s3
from veil.service.files import MEDIA_SUFFIXES, is_media_name
from veil.service.settings import ServiceSettings
from veil.service.store import Store, WatchRule
from veil.service.submit import file_job, s3_job, submit

log = logging.getLogger("veil.service")

DEFAULT_SUFFIXES = sorted(MEDIA_SUFFIXES)
WATCHER = "veil watch"  # who queued a watched file, in its audit trail


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class FolderWatcher:
    """Queues every media file in ``source`` once it has stopped changing for ``settle`` s."""

    def __init__(
        self,
        store: Store,
        source: Path,
        output: Path,
        *,
        preset: str | None = None,
        settle: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self.source = source.resolve()
        self.output = output.resolve()
        self.preset = preset
        self.settle = settle
        self._seen: dict[Path, _Seen] = {}
        self._queued: set[tuple[Path, int, int]] = set()

    def scan(self) -> list[str]:
        """One look at the folder; returns the ids of jobs queued by it."""
        now = self.clock()
        present: set[Path] = set()
        queued = []
        for path in sorted(self.source.iterdir()):
            if not path.is_file() or not is_media_name(path.name):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            present.add(path)
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                continue  # new or still being written: look again later
            if st.st_size == 0 or now - seen.since < self.settle:
                continue
            ident = (path, st.st_size, st.st_mtime_ns)
            if ident in self._queued:
                continue
            spec = file_job(
                self.store,
                path=path,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                output=self.output,
                preset=self.preset,
            )
            job, created = submit(self.store, spec, WATCHER)
            self._queued.add(ident)
            if created:
                log.info("%s: queued job %s", path.name, job.id)
                queued.append(job.id)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return queued


class S3Watcher:
    """Queues every new object under ``s3://bucket/prefix`` found by listing.

    It also records a watch rule, so bucket notifications sent to
    ``POST /v1/events/s3`` are routed to the same output (and deduplicated
    against the listing by the object's ETag).
    """

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        source: str,
        output: str,
        *,
        preset: str | None = None,
        suffixes: list[str] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.source = s3.parse_s3_url(source)
        self.output = s3.parse_s3_url(output).url
        self.preset = preset
        self.suffixes = [s.lower() for s in (suffixes or DEFAULT_SUFFIXES)]
        self._queued: set[str] = set()
        store.watch_rules.put(WatchRule(self.source.url, self.output, preset, self.suffixes))

    def scan(self) -> list[str]:
        queued = []
        for obj in s3.list_objects(self.settings, self.source):
            key = obj["Key"]
            name = key.rsplit("/", 1)[-1]
            if not key.lower().endswith(tuple(self.suffixes)) or not is_media_name(name):
                continue
            spec = s3_job(
                self.store,
                bucket=self.source.bucket,
                key=key,
                etag=obj.get("ETag"),
                version_id=None,
                source_prefix=self.source.key,
                output=self.output,
                preset=self.preset,
            )
            assert spec.unique_key is not None
            if spec.unique_key in self._queued:
                continue
            job, created = submit(self.store, spec, WATCHER)
            self._queued.add(spec.unique_key)
            if created:
                log.info("%s: queued job %s", key, job.id)
                queued.append(job.id)
        return queued


def watch_loop(
    watcher: FolderWatcher | S3Watcher, *, interval: float, stop: threading.Event
) -> None:
    """Scan until ``stop``; a failed scan (network, permissions) is logged and retried."""
    while not stop.is_set():
        try:
            watcher.scan()
        except Exception as exc:
            log.warning("watch: scan failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        stop.wait(interval)
