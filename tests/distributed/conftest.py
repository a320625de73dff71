"""Fixtures for segment-parallel redaction: a clip with faces across the seams, the
sequential ``veil combined`` result to compare with, and a real two-node Ray cluster
on 127.0.0.1 (``veil.distributed.loopback``: ``ray start --head`` and a second node
joining with ``ray start --address``, stopped by signalling them, never ``ray stop``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from distributed.helpers import Clip, RayCluster, Sequential, write_clip
from helpers import run_veil
from veil.distributed.loopback import LoopbackCluster, loopback_environment

# before anything imports ray: every Ray address stays on loopback
loopback_environment()


@pytest.fixture(scope="session")
def seam_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    path = tmp_path_factory.mktemp("distributed") / "seams.mp4"
    return Clip(path, write_clip(path))


@pytest.fixture(scope="session")
def sequential(seam_clip: Clip, tmp_path_factory: pytest.TempPathFactory) -> Sequential:
    out = tmp_path_factory.mktemp("sequential") / "seams_redacted.mp4"
    result = run_veil("combined", seam_clip.path, "-o", out, "--annotations-out", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    return Sequential(out, out.parent / "seams_annotations.json", summary)


# -- a real Ray cluster on loopback -------------------------------------------------


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A head node and a second node joining it (``ray start --address``), 1 CPU each."""
    ray = pytest.importorskip("ray")
    with LoopbackCluster(cpus=[1, 1]) as cluster:
        try:
            ray.init(address=cluster.address, namespace="veil", log_to_driver=False)
            cluster.wait_for_nodes(ray)
            yield RayCluster(cluster.address, cluster.dashboard_url, cluster.logs)
        finally:
            ray.shutdown()
