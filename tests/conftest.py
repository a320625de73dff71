"""Fixtures for every test: a private runtime cache, a small real video with known faces;
and the markers that follow from the fixtures a test uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.samples import make_sample_video
from helpers import SampleVideo

# a test that uses the fixture is marked so (pyproject.toml lists the markers)
MARKED_BY_FIXTURE = {"browser": "browser", "ray_cluster": "ray"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKED_BY_FIXTURE.items():
            if fixture in item.fixturenames:
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder for built models and runtime choices, for every test and
    every ``veil`` they start, instead of the user's ``~/.cache/veil``."""
    folder = tmp_path_factory.mktemp("veil-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VEIL_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> SampleVideo:
    path = tmp_path_factory.mktemp("media") / "walk.mp4"
    return SampleVideo(path, make_sample_video(path, frames=36))
