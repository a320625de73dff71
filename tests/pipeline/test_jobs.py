"""The one dispatch by mode that the CLI and the service share (veil.pipeline.jobs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.errors import VeilError
from veil.pipeline import JobResult, PipelineConfig
from veil.pipeline.jobs import JobSpec, run_job
from veil.settings import Mode


def _no_detector():
    raise AssertionError("this job must not load a detector")


def test_a_redact_job_without_annotations_is_refused_before_any_work(tmp_path: Path) -> None:
    job = JobSpec(Mode.REDACT, tmp_path / "in.mp4", tmp_path / "out.mp4")
    with pytest.raises(VeilError, match="a redact job needs an annotations file"):
        run_job(job, PipelineConfig(), _no_detector, lambda n: None)


def test_a_combined_job_runs_segmented_where_given(tmp_path: Path) -> None:
    job = JobSpec(Mode.COMBINED, tmp_path / "in.mp4", tmp_path / "out.mp4", tmp_path / "out.json")
    config, calls = PipelineConfig(), []

    def segmented(src, dst, given, annotations_out, on_frame) -> JobResult:
        calls.append((src, dst, given, annotations_out))
        return JobResult(input=src, outputs=[dst], frames=0)

    result = run_job(job, config, _no_detector, lambda n: None, segmented)
    assert calls == [(job.src, job.out, config, job.annotations_out)]
    assert result.outputs == [job.out]
