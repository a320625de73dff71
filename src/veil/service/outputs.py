"""A job's outputs: publishing them, finding them, reading them (from veil's folder or S3).

Every reader of an output (the job API's downloads, the review app, its signed
links) goes through :func:`job_outputs` and :func:`read_output` /
:func:`output_chunks`, so where outputs live is known in this one place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from veil.names import content_type
from veil.service import s3
from veil.service.settings import ServiceSettings
from veil.service.store import Job

CHUNK = 1 << 20


@dataclass(frozen=True)
class Output:
    """One output of a finished job: a file veil keeps, or an object on S3."""

    name: str
    path: Path | None = None
    url: str | None = None  # s3://

    def exists(self) -> bool:
        return self.url is not None or (self.path is not None and self.path.is_file())


def outputs_dir(settings: ServiceSettings, job: Job) -> Path:
    """Where veil keeps a job's outputs when the job names no output of its own."""
    return settings.outputs_dir / job.id


def job_outputs(settings: ServiceSettings, job: Job) -> dict[str, Output]:
    """Each output the job recorded, by name (nothing else is ever served)."""
    found: dict[str, Output] = {}
    for item in job.outputs or []:
        if s3.is_s3_url(item):
            name = item.rsplit("/", 1)[-1]
            found[name] = Output(name, url=item)
        elif job.output:
            found[Path(item).name] = Output(Path(item).name, path=Path(item))
        else:
            found[item] = Output(item, path=outputs_dir(settings, job) / item)
    return found


def output_chunks(settings: ServiceSettings, output: Output) -> Iterator[bytes]:
    """The output's bytes, streamed."""
    if output.url is not None:
        loc = s3.parse_s3_url(output.url)
        body = s3.client(settings).get_object(Bucket=loc.bucket, Key=loc.key)["Body"]
        yield from body.iter_chunks(CHUNK)
        return
    assert output.path is not None
    with open(output.path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def read_output(settings: ServiceSettings, output: Output) -> bytes:
    return b"".join(output_chunks(settings, output))


def publish(settings: ServiceSettings, job: Job, out: Path) -> list[str]:
    """Move a finished run's files to where the job's outputs go; what the job records."""
    files = sorted(p for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    if job.output and s3.is_s3_url(job.output):
        base = s3.parse_s3_url(job.output)
        published = []
        for path in files:
            loc = s3_destination(settings, job, base, path.name)
            s3.upload(settings, path, loc, content_type(path.name), job.id)
            published.append(loc.url)
        return published
    dest = Path(job.output) if job.output else outputs_dir(settings, job)
    dest.mkdir(parents=True, exist_ok=True)
    for path in files:
        if path.stat().st_dev == dest.stat().st_dev:
            os.replace(path, dest / path.name)
        else:
            _copy(path, dest)
    return [str(dest / p.name) if job.output else p.name for p in files]


def s3_destination(
    settings: ServiceSettings, job: Job, base: s3.S3Location, name: str
) -> s3.S3Location:
    """``<prefix>/<name>``, unless an object there was not written by this job (another
    job's output, or anything else): then ``<prefix>/<job id>/<name>``. No job ever
    replaces an object it did not write (a retry of the same job may replace its own)."""
    loc = base.child(name)
    if s3.written_by_other(settings, loc, job.id):
        return base.child(job.id).child(name)
    return loc


def unpublish(settings: ServiceSettings, job: Job) -> None:
    """Best effort: a job canceled between publishing and finishing keeps no outputs."""
    if job.output:
        return  # a user's folder or bucket: leave what is there
    shutil.rmtree(outputs_dir(settings, job), ignore_errors=True)


def _copy(path: Path, folder: Path) -> None:
    tmp = folder / f".{path.name}.partial-{os.getpid()}"
    shutil.copyfile(path, tmp)
    os.replace(tmp, folder / path.name)
