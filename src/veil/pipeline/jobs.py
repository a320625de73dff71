"""One job on one input, by mode: the dispatch the CLI and the service share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from veil.detect import FaceDetector
from veil.errors import VeilError
from veil.pipeline.config import PipelineConfig
from veil.pipeline.objects import RegionRequest
from veil.pipeline.run import JobResult, ProgressCallback, analyze, combined, redact
from veil.settings import Mode

# A segment-parallel ``combined``: (src, dst, config, annotations_out, on_frame) -> result.
Segmented = Callable[[Path, Path, PipelineConfig, Path | None, ProgressCallback], JobResult]


@dataclass(frozen=True)
class JobSpec:
    """What one input's job runs, and where it writes.

    Attributes:
        mode: analyze, redact or combined.
        src: the input.
        out: for analyze the output folder, otherwise the redacted file.
        annotations_out: combined only: where its annotations go (None: not written).
        annotations: redact only: the annotations to apply.
        ids: redact only: the face IDs to hide (None: every face).
        regions: what is hidden besides faces (plates, text, marked boxes); None: faces only.
    """

    mode: Mode
    src: Path
    out: Path
    annotations_out: Path | None = None
    annotations: Path | None = None
    ids: frozenset[int] | None = None
    regions: RegionRequest | None = None


def run_job(
    job: JobSpec,
    config: PipelineConfig,
    detector: Callable[[], FaceDetector],
    on_frame: ProgressCallback,
    segmented: Segmented | None = None,
) -> JobResult:
    """Run ``job``; ``detector`` is called only by the modes that detect, and a combined job
    runs through ``segmented`` where one is given.

    Raises:
        VeilError: a redact job without annotations, regions asked of a segmented job,
            or whatever the job raises.
    """
    if job.mode == Mode.ANALYZE:
        return analyze(job.src, job.out, detector(), config, on_frame, job.regions)
    if job.mode == Mode.COMBINED:
        if segmented is not None:
            if job.regions:
                # marked boxes and text are followed across the whole video
                raise VeilError(
                    "--track-box and --redact plates,text cannot be combined with --executor "
                    "(segment-parallel runs)"
                )
            return segmented(job.src, job.out, config, job.annotations_out, on_frame)
        return combined(
            job.src, job.out, detector(), config, job.annotations_out, on_frame, job.regions
        )
    if job.annotations is None:
        raise VeilError("a redact job needs an annotations file")
    return redact(job.src, job.out, job.annotations, job.ids, config, on_frame, job.regions)
