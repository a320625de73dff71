"""Jobs: create, list, follow, cancel, retry, delete, download outputs."""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from veil.service.api.deps import SettingsDep, StoreDep, TokenDep
from veil.service.api.files import output_response
from veil.service.api.routes.uploads import FilenameQuery, receive_whole
from veil.service.outputs import job_outputs, outputs_dir
from veil.service.schemas import JobCreate, JobList, JobPublic
from veil.service.store import JobState
from veil.service.submit import submit_request

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_job(
    body: JobCreate, store: StoreDep, settings: SettingsDep, token: TokenDep
) -> JobPublic:
    """Queue a job on an upload, an allow-listed URL or an ``s3://`` object."""
    return JobPublic.from_job(submit_request(store, settings, body, token))


@router.post("/upload", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
async def create_job_from_body(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    token: TokenDep,
    filename: FilenameQuery,
    preset: str | None = None,
    mode: Literal["analyze", "combined"] | None = None,
    output: str | None = None,
    webhook_url: str | None = None,
) -> JobPublic:
    """Upload and queue in one request: the body is the file (``--data-binary @clip.mp4``)."""
    if preset is not None:
        store.presets.get(preset)  # 404 before reading the body
    upload = await receive_whole(request, store, settings, filename, token)
    body = JobCreate.model_validate(
        {
            "input": {"upload_id": upload.id},
            "preset": preset,
            "mode": mode,
            "output": output,
            "webhook_url": webhook_url,
        }
    )
    return JobPublic.from_job(submit_request(store, settings, body, token))


def _time(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise HTTPException(422, f"{name}: give an ISO 8601 time or Unix seconds") from exc


@router.get("", response_model=JobList)
def list_jobs(
    store: StoreDep,
    _token: TokenDep,
    state: Annotated[list[JobState] | None, Query()] = None,
    preset: str | None = None,
    token_name: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobList:
    """Newest first; filter by state (repeatable), preset, token name, creation time."""
    jobs = store.jobs.list(
        states=[s.value for s in state or []],
        preset=preset,
        token_name=token_name,
        created_after=_time(created_after, "created_after"),
        created_before=_time(created_before, "created_before"),
        limit=limit,
        offset=offset,
    )
    return JobList(jobs=[JobPublic.from_job(j) for j in jobs], count=len(jobs))


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, store: StoreDep, _token: TokenDep) -> JobPublic:
    return JobPublic.from_job(store.jobs.get(job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job_id: str, store: StoreDep, _token: TokenDep) -> JobPublic:
    """A queued job never runs; a running one stops at its next frame, leaving no output."""
    return JobPublic.from_job(store.jobs.cancel(job_id))


@router.post("/{job_id}/retry", response_model=JobPublic)
def retry_job(job_id: str, store: StoreDep, _token: TokenDep) -> JobPublic:
    """Queue a failed or canceled job again, with its tries reset."""
    return JobPublic.from_job(store.jobs.retry(job_id))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(job_id: str, store: StoreDep, settings: SettingsDep, _token: TokenDep) -> Response:
    """Remove the job and the outputs veil keeps for it (not those written to S3)."""
    job = store.jobs.delete(job_id)
    shutil.rmtree(outputs_dir(settings, job), ignore_errors=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{job_id}/events")
def job_events(job_id: str, store: StoreDep, _token: TokenDep) -> list[dict[str, Any]]:
    """Every state change of the job, oldest first."""
    store.jobs.get(job_id)
    return [
        {k: v for k, v in e.items() if k in ("state", "attempt", "worker", "detail", "at")}
        for e in store.jobs.events(job_id)
    ]


@router.get("/{job_id}/report")
def job_report(job_id: str, store: StoreDep, _token: TokenDep) -> dict[str, Any]:
    """The finished job's report: settings, who, timings, frames, faces, damaged frames."""
    job = store.jobs.get(job_id)
    if job.report is None:
        raise HTTPException(409, f"job {job_id} is {job.state.value}; the report comes at the end")
    return job.report


@router.get("/{job_id}/outputs")
def list_outputs(job_id: str, store: StoreDep, settings: SettingsDep, _token: TokenDep) -> dict:
    job = store.jobs.get(job_id)
    names = sorted(job_outputs(settings, job))
    return {
        "job": job.id,
        "state": job.state.value,
        "outputs": [{"name": n, "href": f"/v1/jobs/{job.id}/outputs/{n}"} for n in names],
    }


@router.get("/{job_id}/outputs/{name}")
def download_output(
    job_id: str, name: str, store: StoreDep, settings: SettingsDep, _token: TokenDep
) -> Response:
    """One output file (only names the job recorded; nothing else on the server)."""
    output = job_outputs(settings, store.jobs.get(job_id)).get(name)
    if output is None:
        raise HTTPException(404, f"job {job_id} has no output {name!r}")
    return output_response(settings, output)
