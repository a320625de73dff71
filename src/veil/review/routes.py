"""The review API: the review of a job, its edits, previews, redaction and signed files.

Every route but ``/v1/review/files`` needs the API token; the files are served
on links signed by the API (see :mod:`veil.review.links`). Routes are plain
functions: FastAPI runs them in its thread pool, as they read files and decode.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel

from veil.names import annotations_name, content_type, id_list_name, is_image_name
from veil.review import frames, links
from veil.review.edits import EditRequest
from veil.review.reviews import Review, Reviews
from veil.service.api.deps import SettingsDep, StoreDep, TokenDep
from veil.service.api.files import content_disposition, output_response
from veil.service.outputs import job_outputs
from veil.service.schemas import JobPublic
from veil.service.settings import ServiceSettings
from veil.settings import BlurType

router = APIRouter(prefix="/v1/review", tags=["review"])


class RedactRequest(BaseModel):
    blur: BlurType | None = None


def _reviews(store, settings: ServiceSettings) -> Reviews:
    return Reviews(store, settings)


def _link(settings: ServiceSettings, job_id: str, name: str) -> str:
    return links.sign(settings.data_dir, job_id, name)


def review_document(review: Review, settings: ServiceSettings, playable: bool) -> dict[str, Any]:
    """Everything the app shows: the video's frames and faces, the choices, the links."""
    from veil.review.timeline import summaries

    tl, state, job = review.timeline, review.state, review.job
    a = tl.template
    faces = []
    for s in summaries(tl, state.manual):
        faces.append(
            {
                "id": s.face_id,
                "first": s.first,
                "last": s.last,
                "frames": s.frames,
                "start": round(review.seconds(s.first), 4),
                "end": round(review.seconds(s.last), 4),
                "size": round(s.size, 6),
                "manual": s.manual,
                "edited": s.edited,
                "selected": s.face_id in state.selected,
                "thumb": _link(settings, job.id, f"thumbs/{s.face_id}.jpg")
                + f"&v={s.first}-{s.last}-{s.frames}",
            }
        )
    kind = "image" if len(tl) == 1 and is_image_name(job.source_name) else "video"
    return {
        "job": JobPublic.from_job(job).model_dump(),
        "media": {
            "kind": kind,
            "playable": playable,
            "width": a.width,
            "height": a.height,
            "timescale": a.timescale,
            "offset": a.offset,
            "framerate": a.framerate,
            "starts": list(tl.starts),
            "durations": list(tl.durations),
        },
        "frames": [
            [[f.id, f.x, f.y, f.width, f.height, 1 if f.manual else 0] for f in frame]
            for frame in tl.faces
        ],
        "faces": faces,
        "manual": [
            {"id": t.face_id, "start": t.start, "end": t.end, "keys": [f for f, _ in t.keys]}
            for _, t in sorted(state.manual.items())
        ],
        "selected": sorted(state.selected),
        "blur": state.blur.value,
        "blurs": [b.value for b in BlurType],
        "revision": state.revision,
        "updated_by": state.updated_by,
        "redactions": list(state.redactions),
        "links": {
            "source": _link(settings, job.id, "source") if playable else None,
            "annotations": _link(settings, job.id, "annotations.json"),
            "ids": _link(settings, job.id, "ids.txt"),
            # frames/<n>.jpg under this link: the source's frames, for what a browser cannot play
            "frames": _link(settings, job.id, "frames") if playable else None,
        },
    }


def _document(reviews: Reviews, review: Review) -> dict[str, Any]:
    playable = reviews.source_path(review.job) is not None
    return review_document(review, reviews.settings, playable)


@router.get("/me")
def me(token: TokenDep) -> dict[str, str]:
    """The name of the caller's token: the name redactions are recorded under."""
    return {"name": token}


@router.get("/jobs/{job_id}")
def get_review(job_id: str, store: StoreDep, settings: SettingsDep, _token: TokenDep) -> dict:
    """The review of a finished analysis (started on first open: every face chosen)."""
    reviews = _reviews(store, settings)
    return _document(reviews, reviews.open(job_id))


@router.post("/jobs/{job_id}/edits")
def post_edit(
    job_id: str, body: EditRequest, store: StoreDep, settings: SettingsDep, token: TokenDep
) -> dict:
    """Apply one edit (select, blur, merge, split, box, add, extend, delete, reset), saved."""
    reviews = _reviews(store, settings)
    return _document(reviews, reviews.edit(job_id, body.edit, token))


@router.get("/jobs/{job_id}/preview", response_class=Response)
def preview(
    job_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _token: TokenDep,
    frame: Annotated[int, Query(ge=0)],
    blur: BlurType | None = None,
) -> Response:
    """One frame rendered by veil's redaction with the chosen IDs and blur (JPEG)."""
    reviews = _reviews(store, settings)
    review = reviews.open(job_id)
    data = reviews.preview(review, frame, blur)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id}/redact", status_code=status.HTTP_202_ACCEPTED)
def redact(
    job_id: str, body: RedactRequest, store: StoreDep, settings: SettingsDep, token: TokenDep
) -> JobPublic:
    """Queue a redact job with the edited annotations and the chosen IDs, recorded as yours."""
    job = _reviews(store, settings).redact(job_id, token, body.blur)
    return JobPublic.from_job(job)


@router.get("/jobs/{job_id}/links")
def output_links(job_id: str, store: StoreDep, settings: SettingsDep, _token: TokenDep) -> dict:
    """Signed links to a job's outputs, for players and downloads."""
    job = store.jobs.get(job_id)
    names = sorted(job_outputs(settings, job))
    return {"job": job.id, "outputs": {n: _link(settings, job.id, f"outputs/{n}") for n in names}}


@router.get("/files/{job_id}/{name:path}", include_in_schema=False)
def signed_file(
    job_id: str,
    name: str,
    store: StoreDep,
    settings: SettingsDep,
    expires: int,
    sig: str,
    download: bool = False,
) -> Response:
    """A file named by a signed link: the source, the edits, a thumbnail, an output."""
    signed = "frames" if name.startswith("frames/") else name  # one link for every frame
    if not links.verify(settings.data_dir, job_id, signed, expires, sig):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this link is invalid or has expired")
    reviews = _reviews(store, settings)
    job = store.jobs.get(job_id)
    headers = {"Cache-Control": "private, max-age=3600"}
    if name == "source":
        path = reviews.source_path(job)
        if path is None:
            raise HTTPException(404, "the source is not kept on this server")
        return FileResponse(path, media_type=content_type(path.name), headers=headers)
    if name.startswith("outputs/"):
        output = job_outputs(settings, job).get(name.removeprefix("outputs/"))
        if output is None:
            raise HTTPException(404, f"job {job_id} has no output {name[8:]!r}")
        return output_response(settings, output, download=download, headers=headers)
    review = reviews.open(job_id)
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
    raise HTTPException(404, f"no file {name!r}")


def _dump(review: Review) -> str:
    from veil.annotations import dump_annotations

    return dump_annotations(review.annotations)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"}
