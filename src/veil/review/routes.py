"""The review API: the review of a job, its edits, previews, redaction and signed files.

Every route but ``/v1/review/files`` needs the API token, and a job's review is
open to whoever may see the job (its owner, its team, admins; 404 for others).
The files are served on links signed for the caller's token (see
:mod:`veil.review.links`), which die with the token. Routes are plain
functions: FastAPI runs them in its thread pool, as they read files and decode.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from veil.names import annotations_name, content_type, id_list_name
from veil.review import frames, links
from veil.review.document import review_document
from veil.review.edits import EditRequest
from veil.review.reviews import Review, Reviews
from veil.review.service_port import (
    Caller,
    CallerDep,
    Job,
    JobPublic,
    ServiceSettings,
    SettingsDep,
    StoreDep,
    content_disposition,
    downloaded,
    job_outputs,
    output_response,
)
from veil.settings import BlurType

router = APIRouter(prefix="/v1/review", tags=["review"])


class RedactRequest(BaseModel):
    blur: BlurType | None = None
    confirm: Annotated[
        list[Literal["nothing-blurred", "unreviewed", "candidates"]],
        Field(max_length=3, description="the warnings of the review document seen and accepted"),
    ] = []


class DownloadRequest(BaseModel):
    """A file to download: the review's ``annotations.json`` or ``ids.txt``, or
    ``outputs/<name>`` of a redaction made from the review (``job``)."""

    name: Annotated[str, Field(max_length=300)]
    job: Annotated[str | None, Field(max_length=64)] = None


def _reviews(store, settings: ServiceSettings) -> Reviews:
    return Reviews(store, settings)


def _link(settings: ServiceSettings, job_id: str, name: str, caller: Caller) -> str:
    return links.sign(settings.data_dir, job_id, name, caller.name)


def _document(reviews: Reviews, review: Review, caller: Caller) -> dict[str, Any]:
    playable = reviews.source_path(review.job) is not None
    job_id = review.job.id
    policy = reviews.store.policy.get()  # shown here; redact and the job submission enforce it
    return review_document(
        review, lambda name: _link(reviews.settings, job_id, name, caller), playable, policy
    )


@router.get("/me")
def me(caller: CallerDep) -> dict[str, str]:
    """The name of the caller's token: the name redactions are recorded under."""
    return {"name": caller.name}


@router.post("/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(settings: SettingsDep, caller: CallerDep) -> Response:
    """Every link signed for the caller's token stops working (the app's "Sign out")."""
    links.sign_out(settings.data_dir, caller.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/jobs/{job_id}")
def get_review(job_id: str, store: StoreDep, settings: SettingsDep, caller: CallerDep) -> dict:
    """The review of a finished analysis (started on first open: every face chosen)."""
    reviews = _reviews(store, settings)
    return _document(reviews, reviews.open(job_id, caller), caller)


@router.post("/jobs/{job_id}/edits")
def post_edit(
    job_id: str, body: EditRequest, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> dict:
    """Apply one edit (select, blur, merge, split, box, add, extend, delete, reset), saved."""
    reviews = _reviews(store, settings)
    return _document(reviews, reviews.edit(job_id, body.edit, caller), caller)


@router.get("/jobs/{job_id}/preview", response_class=Response)
def preview(
    job_id: str,
    store: StoreDep,
    settings: SettingsDep,
    caller: CallerDep,
    frame: Annotated[int, Query(ge=0)],
    blur: BlurType | None = None,
) -> Response:
    """One frame rendered by veil's redaction with the chosen IDs and blur (JPEG)."""
    reviews = _reviews(store, settings)
    review = reviews.open(job_id, caller)
    data = reviews.preview(review, frame, blur)
    read(store, review.job, caller, f"preview/{frame}.jpg", "api")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id}/redact", status_code=status.HTTP_202_ACCEPTED)
def redact(
    job_id: str, body: RedactRequest, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> JobPublic:
    """Queue a redact job with the edited annotations and the chosen IDs, recorded as yours."""
    policy = store.policy.get()  # the admins'
    reviews = _reviews(store, settings)
    job = reviews.redact(
        job_id,
        caller,
        body.blur,
        set(body.confirm),
        require_reviewed=policy.require_review,
        strict=policy.strict,
    )
    return JobPublic.from_job(job)


@router.get("/jobs/{job_id}/history")
def history(job_id: str, store: StoreDep, settings: SettingsDep, caller: CallerDep) -> dict:
    """Every edit, undo, redo, redaction and download of the review: who, what, when."""
    review = _reviews(store, settings).open(job_id, caller)
    return {"job": job_id, "entries": [e.to_json() for e in review.history.entries()]}


@router.post("/jobs/{job_id}/downloads")
def download(
    job_id: str, body: DownloadRequest, store: StoreDep, settings: SettingsDep, caller: CallerDep
) -> dict[str, str]:
    """A link to download one file of the review, recorded in its history as yours."""
    reviews = _reviews(store, settings)
    review = reviews.open(job_id, caller)
    if body.job is None and body.name in ("annotations.json", "ids.txt"):
        link, what = _link(settings, job_id, body.name, caller), body.name
    elif body.job is not None and body.name.startswith("outputs/"):
        if body.job not in {r["job"] for r in review.state.redactions}:
            raise HTTPException(404, f"job {body.job} is not a redaction of this review")
        output = body.name.removeprefix("outputs/")
        if output not in job_outputs(settings, store.jobs.get(body.job, caller)):
            raise HTTPException(404, f"job {body.job} has no output {output!r}")
        link = _link(settings, body.job, body.name, caller)
        what = f"{output} (job {body.job[:8]})"
    else:
        raise HTTPException(404, f"no file {body.name!r} to download here")
    reviews.record(
        review, "download", f"Downloaded {what}", caller.name, name=body.name, job=body.job
    )
    return {"link": f"{link}&download=1"}


@router.get("/jobs/{job_id}/links")
def output_links(job_id: str, store: StoreDep, settings: SettingsDep, caller: CallerDep) -> dict:
    """Signed links to a job's outputs, for players and downloads."""
    job = store.jobs.get(job_id, caller)
    names = sorted(job_outputs(settings, job))
    signed = {n: _link(settings, job.id, f"outputs/{n}", caller) for n in names}
    return {"job": job.id, "outputs": signed}


@router.get("/files/{job_id}/{name:path}", include_in_schema=False)
def signed_file(
    job_id: str,
    name: str,
    store: StoreDep,
    settings: SettingsDep,
    expires: int,
    by: Annotated[str, Query(max_length=128)],
    sig: Annotated[str, Query(max_length=128)],
    download: bool = False,
) -> Response:
    """A file named by a signed link: the source, the edits, a thumbnail, an output.

    The link must be signed for this file, unexpired, and its token still active (not
    signed out) and still allowed to see the job. Every file served is written into the
    job's audit trail, whether it is downloaded or played."""
    signed = "frames" if name.startswith("frames/") else name  # one link for every frame
    caller = store.tokens.active(by)
    if not links.verify(settings.data_dir, job_id, signed, by, expires, sig) or caller is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this link is invalid or has expired")
    job = store.jobs.get(job_id, caller)
    headers = {"Cache-Control": "private, max-age=600"}
    if name.startswith("outputs/"):
        output = job_outputs(settings, job).get(name.removeprefix("outputs/"))
        if output is None:
            raise HTTPException(404, f"job {job_id} has no output {name[8:]!r}")
        response = output_response(settings, output, download=download, headers=headers)
        downloaded(store, job, caller, output.name, "signed link")
        return response
    response = _review_file(_reviews(store, settings), job, name, caller, headers)
    read(store, job, caller, name, "signed link")
    return response


def read(store, job: Job, caller: Caller, name: str, how: str) -> None:
    """Note in the job's audit trail that ``caller`` read ``name`` (the original, a frame,
    a thumbnail, the edits) by ``how``."""
    store.audit.append(job.id, caller.name, "read", {"file": name, "via": how})


def _review_file(
    reviews: Reviews, job: Job, name: str, caller: Caller, headers: dict[str, str]
) -> Response:
    """The source, the review's edits and ID list, a frame, a thumbnail or a strip."""
    if name == "source":
        path = reviews.source_path(job)
        if path is None:
            raise HTTPException(404, "the source is not kept on this server")
        return FileResponse(path, media_type=content_type(path.name), headers=headers)
    review = reviews.open(job.id, caller)
    if name == "annotations.json":
        return Response(
            _dump(review),
            media_type="application/json",
            headers=_attachment(annotations_name(review.stem)),
        )
    if name == "ids.txt":
        return Response(
            review.id_list(),
            media_type="text/plain; charset=utf-8",
            headers=_attachment(id_list_name(review.stem)),
        )
    if name.startswith("frames/") and name.endswith(".jpg") and name[7:-4].isdigit():
        rgb = reviews.frame(review, int(name[7:-4]))
        return Response(frames.jpeg(rgb), media_type="image/jpeg", headers=headers)
    if name.startswith("thumbs/") and name.endswith(".jpg") and name[7:-4].isdigit():
        thumb = reviews.thumbnail(review, int(name[7:-4]))
        return FileResponse(thumb, media_type="image/jpeg", headers=headers)
    if name.startswith("strips/") and name.endswith(".jpg") and name[7:-4].isdigit():
        strip = reviews.strip(review, int(name[7:-4]))
        return FileResponse(strip, media_type="image/jpeg", headers=headers)
    raise HTTPException(404, f"no file {name!r}")


def _dump(review: Review) -> str:
    from veil.annotations import dump_annotations

    return dump_annotations(review.annotations)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"}
