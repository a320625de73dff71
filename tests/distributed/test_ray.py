"""Segment-parallel ``combined`` on a real two-node Ray cluster (loopback), killed workers too."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
from pathlib import Path

import pytest

from distributed.helpers import SEGMENT_SECONDS, Clip, RayCluster, Sequential
from distributed.seams import assert_same_as_sequential
from helpers import run_veil, wait_until
from veil.distributed import RAY_ADDRESS_ENV, RayExecutor, combined_segments
from veil.distributed.loopback import free_port

pytestmark = pytest.mark.ray

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")


def _tasks(cluster: RayCluster, prefix: str) -> list:
    from ray.util.state import list_tasks

    found = list_tasks(address=cluster.dashboard, limit=10_000, detail=True)
    return [t for t in found if (t.name or "").startswith(prefix)]


def test_ray_cluster_matches_the_sequential_run(
    ray_cluster: RayCluster, seam_clip: Clip, sequential: Sequential, tmp_path: Path
):
    out, ann = tmp_path / "out.mp4", tmp_path / "out.json"
    executor = RayExecutor(ray_cluster.address)
    assert executor.workers == 2
    result = combined_segments(
        seam_clip.path, out, executor, annotations_out=ann, segment_seconds=SEGMENT_SECONDS
    )
    assert result.face_ids == sequential.summary["face_ids"]
    assert_same_as_sequential(seam_clip, sequential, out, ann)
    # every segment is a named task (what the dashboard lists), run on both nodes
    analyzed = _tasks(ray_cluster, f"veil analyze {seam_clip.path.name} part ")
    rendered = _tasks(ray_cluster, f"veil render {seam_clip.path.name} part ")
    assert {t.name.split(" frames")[0][-3:] for t in analyzed} == {"1/3", "2/3", "3/3"}
    assert len({t.name for t in rendered}) == 3
    assert len({t.node_id for t in [*analyzed, *rendered]}) == 2


def _analysis_worker(name: str) -> psutil.Process | None:
    """The worker process running an analysis task: Ray titles it ``ray::<task name>``."""
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if title.startswith(f"ray::veil analyze {name} part 2/3"):
            return proc
    return None


def test_a_killed_worker_is_retried_and_the_job_completes(
    ray_cluster: RayCluster, seam_clip: Clip, sequential: Sequential, tmp_path: Path
):
    out, ann = tmp_path / "killed.mp4", tmp_path / "killed.json"
    # a name of its own, so the task names (and retries) are this job's only, even with
    # another test run on the machine
    clip = tmp_path / f"killme{os.getpid()}.mp4"
    os.link(seam_clip.path, clip)
    executor = RayExecutor(ray_cluster.address)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        job = pool.submit(
            combined_segments,
            clip,
            out,
            executor,
            annotations_out=ann,
            segment_seconds=SEGMENT_SECONDS,
        )

        def analysis_running() -> psutil.Process | None:
            # Ray says nothing when a task starts: look for its worker process
            assert not job.done(), "the job ended before its analysis task was seen running"
            return _analysis_worker(clip.name)

        victim = wait_until(analysis_running, 120, 0.02)
        os.kill(victim.pid, signal.SIGKILL)
        result = job.result(timeout=300)
    assert not psutil.pid_exists(victim.pid) or victim.status() == psutil.STATUS_ZOMBIE
    assert result.face_ids == sequential.summary["face_ids"]
    assert_same_as_sequential(
        seam_clip, sequential, out, ann
    )  # same frames, IDs and blurred seams as if nothing had happened
    # Ray ran the killed task again (a second attempt of the same task); its state API
    # catches up with the cluster a little later

    def retried() -> bool:
        task = f"veil analyze {clip.name} part 2/3"
        return max((t.attempt_number for t in _tasks(ray_cluster, task)), default=0) >= 1

    wait_until(retried, 30, 0.5)


def test_cli_executor_ray_with_the_address_from_the_environment(
    ray_cluster: RayCluster, seam_clip: Clip, sequential: Sequential, tmp_path: Path
):
    out = tmp_path / "seams_redacted.mp4"
    os.environ[RAY_ADDRESS_ENV] = ray_cluster.address
    try:
        result = run_veil(
            "combined",
            seam_clip.path,
            "-o",
            out,
            "--annotations-out",
            "--json",
            "--executor",
            "ray",
            "--segment-seconds",
            str(SEGMENT_SECONDS),
        )
    finally:
        del os.environ[RAY_ADDRESS_ENV]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    assert summary["face_ids"] == sequential.summary["face_ids"]
    assert_same_as_sequential(seam_clip, sequential, out, tmp_path / "seams_annotations.json")


def test_cli_reports_an_unreachable_cluster(seam_clip: Clip, tmp_path: Path):
    pytest.importorskip("ray")
    result = run_veil(
        "combined",
        seam_clip.path,
        "-o",
        tmp_path / "x.mp4",
        "--executor",
        "ray",
        "--ray-address",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 2
    assert "Ray cluster" in result.stderr
    assert not (tmp_path / "x.mp4").exists()
