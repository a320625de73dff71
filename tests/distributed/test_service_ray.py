"""The job service hands combined jobs to a Ray cluster when given its address."""

from __future__ import annotations

from pathlib import Path

import pytest

from distributed.helpers import SEGMENT_SECONDS, Clip, RayCluster, Sequential
from distributed.seams import assert_same_as_sequential
from veil.service.runner import JobRunner
from veil.service.settings import ServiceSettings
from veil.service.store import JobSpec, JobState, Store

pytestmark = pytest.mark.ray

pytest.importorskip("ray")


def _analyses(cluster: RayCluster, clip: Clip) -> list:
    from ray.util.state import list_tasks

    tasks = list_tasks(address=cluster.dashboard, limit=10_000, detail=True)
    return [t for t in tasks if (t.name or "").startswith(f"veil analyze {clip.path.name} part ")]


def test_a_service_job_is_redacted_segment_by_segment_on_ray(
    ray_cluster: RayCluster, seam_clip: Clip, sequential: Sequential, tmp_path: Path
):
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        ray_address=ray_cluster.address,
        segment_seconds=SEGMENT_SECONDS,
    )
    store = Store(settings)
    job, _ = store.jobs.submit(
        JobSpec(
            mode="combined",
            source={"kind": "file", "path": str(seam_clip.path)},
            source_name=seam_clip.path.name,
            options={"mode": "combined"},
        )
    )
    before = len(_analyses(ray_cluster, seam_clip))
    runner = JobRunner(store, settings, worker="ray-test")
    claimed = store.leases.claim(runner.worker)
    assert claimed is not None and claimed.id == job.id
    runner.run(claimed)
    done = store.jobs.get(job.id)
    assert done.state == JobState.FINISHED.value, done.error
    # the three segments were analysed as Ray tasks, not in this process
    assert len(_analyses(ray_cluster, seam_clip)) == before + 3
    outputs = settings.outputs_dir / job.id
    stem = seam_clip.path.stem
    assert_same_as_sequential(
        seam_clip,
        sequential,
        outputs / f"{stem}_redacted.mp4",
        outputs / f"{stem}_annotations.json",
    )
