"""Jobs: create, list, follow, cancel, retry, delete, download outputs, the audit trail.

Operators and admins create and change jobs; reviewers read them. Everyone sees
only their own jobs and their team's (admins see all); others get 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from veil.service import jobs as actions
from veil.service.access import Role
from veil.service.api.deps import CallerDep, OperatorDep, SettingsDep, StoreDep
from veil.service.api.files import output_response
from veil.service.api.routes.uploads import FilenameQuery, receive_whole
from veil.service.custody import signed_audit
from veil.service.outputs import job_outputs
from veil.service.schemas import SHORT, JobCreate, JobList, JobPublic, Url
from veil.service.store import JobState, NotFound
from veil.service.store.audit import SERVICE_TRAIL
from veil.service.submit import submit_request
from veil.service.uploads import discard

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_job(
    body: JobCreate, store: StoreDep, settings: SettingsDep, caller: OperatorDep
) -> JobPublic:
    """Queue a job on an upload, an allow-listed URL, an ``s3://`` object or an earlier job."""
    return JobPublic.from_job(submit_request(store, settings, body, caller))


@router.post("/upload", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
async def create_job_from_body(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    caller: OperatorDep,
    filename: FilenameQuery,
    preset: Annotated[str | None, Query(max_length=SHORT)] = None,
    mode: Literal["analyze", "combined"] | None = None,
    output: Url = None,
    webhook_url: Url = None,
) -> JobPublic:
    """Upload and queue in one request: the body is the file (``--data-binary @clip.mp4``)."""
    if preset is not None:
        store.presets.get(preset)  # 404 before reading the body
    upload = await receive_whole(request, store, settings, filename, caller)
    try:
        body = JobCreate.model_validate(
            {
                "input": {"upload_id": upload.id},
                "preset": preset,
                "mode": mode,
                "output": output,
                "webhook_url": webhook_url,
            }
        )
        job = submit_request(store, settings, body, caller)
    except BaseException:  # refused: the file is not kept either
        discard(store, settings, upload)
        raise
    return JobPublic.from_job(job)


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
    caller: CallerDep,
    state: Annotated[list[JobState] | None, Query(max_length=8)] = None,
    preset: Annotated[str | None, Query(max_length=SHORT)] = None,
    token_name: Annotated[str | None, Query(max_length=SHORT)] = None,
    created_after: Annotated[str | None, Query(max_length=64)] = None,
    created_before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> JobList:
    """Newest first; filter by state (repeatable), preset, token name, creation time."""
    jobs = store.jobs.list(
        visible_to=caller,
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
def get_job(job_id: str, store: StoreDep, caller: CallerDep) -> JobPublic:
    return JobPublic.from_job(store.jobs.get(job_id, caller))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job_id: str, store: StoreDep, caller: OperatorDep) -> JobPublic:
    """A queued job never runs; a running one stops at its next frame, leaving no output."""
    return JobPublic.from_job(actions.cancel(store, store.jobs.get(job_id, caller), caller))


@router.post("/{job_id}/retry", response_model=JobPublic)
def retry_job(job_id: str, store: StoreDep, caller: OperatorDep) -> JobPublic:
    """Queue a failed or canceled job again, with its tries reset."""
    return JobPublic.from_job(actions.retry(store, store.jobs.get(job_id, caller), caller))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(
    job_id: str, store: StoreDep, settings: SettingsDep, caller: OperatorDep
) -> Response:
    """Remove the job, the outputs veil keeps for it (not those written to S3), its review,
    and the uploads it used that no other job uses. Its audit trail is kept."""
    actions.delete(store, settings, store.jobs.get(job_id, caller), caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{job_id}/events")
def job_events(job_id: str, store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    """Every state change of the job, oldest first."""
    store.jobs.get(job_id, caller)
    return [
        {k: v for k, v in e.items() if k in ("state", "attempt", "worker", "detail", "at")}
        for e in store.jobs.events(job_id)
    ]


@router.get("/{job_id}/audit")
def job_audit(
    job_id: str, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> dict[str, Any]:
    """The job's chain of custody: who did what and when, each entry hashed over the one
    before, signed with the service's key (``veil verify`` checks it offline). It outlives
    the job: admins still read a deleted job's trail."""
    try:
        job_id = store.jobs.get(job_id, caller).id
    except NotFound:
        events = store.audit.of_job(job_id) if caller.role == Role.ADMIN else []
        if not events or job_id == SERVICE_TRAIL:
            raise
        return signed_audit(settings, job_id, events)
    return signed_audit(settings, job_id, store.audit.of_job(job_id))


@router.get("/{job_id}/report")
def job_report(job_id: str, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """The finished job's signed report: settings, who, timings, frames, faces, the SHA-256
    of the input, every output and the model files."""
    job = store.jobs.get(job_id, caller)
    if job.report is None:
        raise HTTPException(409, f"job {job_id} is {job.state.value}; the report comes at the end")
    return job.report


@router.get("/{job_id}/outputs")
def list_outputs(
    job_id: str, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> dict[str, Any]:
    job = store.jobs.get(job_id, caller)
    names = sorted(job_outputs(settings, job))
    return {
        "job": job.id,
        "state": job.state.value,
        "outputs": [{"name": n, "href": f"/v1/jobs/{job.id}/outputs/{n}"} for n in names],
    }


@router.get("/{job_id}/outputs/{name}")
def download_output(
    job_id: str, name: str, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> Response:
    """One output file (only names the job recorded; nothing else on the server)."""
    job = store.jobs.get(job_id, caller)
    output = job_outputs(settings, job).get(name)
    if output is None:
        raise HTTPException(404, f"job {job_id} has no output {name!r}")
    response = output_response(settings, output)
    actions.downloaded(store, job, caller, name, "api")
    return response
