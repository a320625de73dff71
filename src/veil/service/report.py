"""A finished job's report: what ran, on what, by whom, and the SHA-256 of everything, signed.

The report is the job's ``<stem>_report.json`` output and ``GET /v1/jobs/ID/report``;
``veil verify REPORT`` checks its signature and the files beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from veil.pipeline import JobResult, PipelineConfig
from veil.service.custody import model_hashes, sha256_file, sign, veil_version
from veil.service.options import JobOptions
from veil.service.settings import ServiceSettings
from veil.service.store import Job


def job_report(
    settings: ServiceSettings,
    job: Job,
    options: JobOptions,
    config: PipelineConfig,
    result: JobResult,
    *,
    src: Path,
    out: Path,
    worker: str,
    started: float,
    finished: float,
) -> dict[str, Any]:
    """The signed report of a run whose outputs are the files in ``out``."""
    files = sorted(p for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    report: dict[str, Any] = {
        "type": "veil.report",
        "job": job.id,
        "veil_version": veil_version(),
        "mode": options.mode.value,
        "preset": job.preset,
        "settings": options.model_dump(mode="json"),
        "blur": config.redaction.blur.value if options.mode != "analyze" else None,
        "who": job.token_name,
        "team": job.team,
        "source": job.summary()["source"],
        "input": {"name": job.source_name, "bytes": src.stat().st_size, "sha256": sha256_file(src)},
        "worker": worker,
        "attempt": job.tries,
        "timings": {
            "created_at": job.created_at,
            "started_at": started,
            "finished_at": finished,
            "queued_seconds": round(started - job.created_at, 3),
            "run_seconds": round(finished - started, 3),
            "pipeline_seconds": round(result.seconds, 3),
        },
        "frames": result.frames,
        "faces": len(result.face_ids),
        "face_ids": result.face_ids,
        "damaged_frames": result.damaged_frames,
        "models": model_hashes(config.detector.name) if options.mode != "redact" else {},
        "outputs": {p.name: sha256_file(p) for p in files},
    }
    if job.annotations is not None:  # a redaction: the annotations it followed
        report["annotations"] = {"sha256": sha256_file(Path(job.annotations))}
        report.update(shown(Path(job.annotations), job))
    if job.ids is not None:
        report["ids"] = job.ids
    return sign(settings, report)


def shown(annotations: Path, job: Job) -> dict[str, Any]:
    """What a redaction really did with the faces of its annotations: how many IDs it
    hid, which it showed (left unblurred), and whose choice that was."""
    from veil.annotations import read_annotations

    listed = sorted(read_annotations(annotations).face_ids())
    hidden = set(job.ids) if job.ids is not None else set(listed)
    ids_shown = [i for i in listed if i not in hidden]
    return {
        "ids_hidden": len([i for i in listed if i in hidden]),
        "ids_shown": ids_shown,
        "shown_by": job.token_name if ids_shown else None,
    }
