"""Executors: where segment tasks run. One interface, three implementations.

- :class:`InlineExecutor`: in this process, one task after another (debugging, tests).
- :class:`LocalExecutor`: a pool of worker processes on this machine (the default);
  nothing of Ray is imported.
- :class:`RayExecutor`: tasks on a Ray cluster, named so the dashboard shows each
  segment, retried by Ray (``max_retries``) when their worker or node dies.

An executor runs a batch of :class:`Task` and yields each result as soon as
its task finishes, with the task's position in the batch. Closing the
iterator early (an error, a cancelled job) cancels what has not finished.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from veil.errors import VeilError

log = logging.getLogger(__name__)

RAY_ADDRESS_ENV = "VEIL_RAY_ADDRESS"
EXECUTOR_NAMES = ("local", "ray")


@dataclass(frozen=True)
class Task:
    """One call ``fn(*args)``; ``fn`` must be a module-level function (it is pickled)."""

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]


class Executor(Protocol):
    """Runs tasks, possibly elsewhere; results come back in completion order."""

    @property
    def workers(self) -> int:
        """How many tasks can run at once (for planning; may change on a cluster)."""
        ...

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        """Yield ``(position in tasks, result)`` for each task as it finishes."""
        ...

    def close(self) -> None: ...


class InlineExecutor:
    """Runs each task in this process, in order."""

    workers = 1

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        for position, task in enumerate(tasks):
            yield position, task.fn(*task.args)

    def close(self) -> None:
        pass


class LocalExecutor:
    """A pool of worker processes on this machine.

    Processes are started with ``spawn`` (onnxruntime and FFmpeg threads do
    not survive ``fork``) and reused across tasks, so each loads the detector
    once. A worker process that dies (killed, out of memory) breaks the pool:
    it is rebuilt and the unfinished tasks run again, up to ``max_retries`` times.
    """

    def __init__(self, processes: int | None = None, max_retries: int = 3) -> None:
        self._processes = processes or os.cpu_count() or 1
        self.max_retries = max_retries
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._processes

    def _get_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self._processes, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        todo = dict(enumerate(tasks))
        tries = 0
        while todo:
            pool = self._get_pool()
            futures = {pool.submit(t.fn, *t.args): position for position, t in todo.items()}
            try:
                for future in concurrent.futures.as_completed(futures):
                    position = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        break
                    del todo[position]
                    yield position, result
            finally:
                if todo:
                    for future in futures:
                        future.cancel()
            if todo:
                tries += 1
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                if tries > self.max_retries:
                    raise VeilError(f"a worker process died {tries} times; giving up")
                log.warning("a worker process died; running %d task(s) again", len(todo))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayExecutor:
    """Tasks on a Ray cluster (``ray.init(address=...)``).

    Every worker node must have veil installed (same version) and see the input
    at the same path. Each task asks for one CPU; a task whose worker process or
    node dies is retried up to ``max_retries`` times by Ray; an error raised by
    the task itself (a bad input) is not retried.
    """

    def __init__(self, address: str | None = None, max_retries: int = 3) -> None:
        address = address or os.environ.get(RAY_ADDRESS_ENV) or None
        try:
            if address is None:
                # a private instance: keep it on 127.0.0.1 (read when Ray is first imported)
                from veil.distributed.loopback import loopback_environment

                loopback_environment()
            import ray
        except ImportError as exc:
            raise VeilError(
                "the Ray executor needs Ray: pip install 'veil[ray]' (or ray[default])"
            ) from exc
        self._ray = ray
        self.address = address
        self.max_retries = max_retries
        self._remote: dict[Callable[..., Any], Any] = {}
        self._connected_here = False

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        options: dict[str, Any] = {
            "namespace": "veil",
            "log_to_driver": False,
            "ignore_reinit_error": True,
        }
        if self.address:
            _check_reachable(self.address)
            options["address"] = self.address
        else:  # a private one-machine instance, on loopback only
            options["include_dashboard"] = False
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise VeilError(f"cannot reach the Ray cluster at {self.address}: {exc}") from exc
        self._connected_here = True

    @property
    def workers(self) -> int:
        self._connect()
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def _remote_fn(self, fn: Callable[..., Any]) -> Any:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(
                num_cpus=1, max_retries=self.max_retries, retry_exceptions=False
            )(fn)
        return self._remote[fn]

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        self._connect()
        ray = self._ray
        refs = {
            self._remote_fn(t.fn).options(name=t.name).remote(*t.args): position
            for position, t in enumerate(tasks)
        }
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield refs[ref], _ray_result(ray, ref)
        finally:
            for ref in pending:
                ray.cancel(ref, force=False)

    def close(self) -> None:
        if self._connected_here and self._ray.is_initialized():
            self._ray.shutdown()
        self._connected_here = False


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a wrong address: ``ray.init`` waits forever for a GCS that is not there."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # "auto", "ray://...": Ray's own resolution
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise VeilError(f"cannot reach the Ray cluster at {address}: {exc}") from exc


def _ray_result(ray: Any, ref: Any) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        # the task's own exception (a VeilError for a bad input) as the caller knows it
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        raise cause from None
    except ray.exceptions.RayError as exc:  # retries used up, cluster gone...
        raise VeilError(f"a Ray task failed: {exc}") from exc


def make_executor(
    name: str, ray_address: str | None = None, processes: int | None = None
) -> Executor:
    """``local`` (a process pool here) or ``ray`` (``ray_address``, else $VEIL_RAY_ADDRESS)."""
    if name == "local":
        return LocalExecutor(processes)
    if name == "ray":
        return RayExecutor(ray_address)
    if name == "inline":
        return InlineExecutor()
    raise VeilError(f"unknown executor {name!r}: choose one of {', '.join(EXECUTOR_NAMES)}")
