"""Stages wired together: analyze, redact and combined jobs on one input."""

from veil.pipeline.config import PipelineConfig
from veil.pipeline.run import (
    JobResult,
    analyze,
    annotations_path,
    combined,
    redact,
    thumbnail_path,
)

__all__ = [
    "JobResult",
    "PipelineConfig",
    "analyze",
    "annotations_path",
    "combined",
    "redact",
    "thumbnail_path",
]
