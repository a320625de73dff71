"""Reviews kept on the server: one per analysed job, saved with every edit.

A review lives in the job's output folder, ``<outputs>/<job>/review/``
(deleting the job deletes it):

- ``annotations.json``: the edited annotations, Azure's layout (what the
  redaction uses and what a user downloads);
- ``state.json``: the chosen IDs, the blur, the drawn tracks' keyframes, the
  spans marked reviewed, the decisions on candidates and suggestions, the
  undo and redo stacks, and every redaction started from the review;
- ``history.jsonl`` and ``changes/``: every edit, undo, redo, redaction and
  download, who made it and when, and what each edit changed
  (:mod:`veil.review.history`);
- ``thumbs/``: face crops made for IDs the analysis has no thumbnail for.

Edits of one review are serialised by a lock and written atomically, so a
reload (or a second tab) always sees the last edit whole. A review is its job's:
whoever may see the job may review it (:mod:`veil.service.access`), and every
edit and redaction is written into the job's audit trail.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from veil.annotations import (
    Annotations,
    dump_annotations,
    parse_annotations,
    read_annotations,
    select_ids,
)
from veil.atomic import write_atomic
from veil.errors import VeilError
from veil.names import annotations_name, thumbnail_id
from veil.review import findings, frames, strips
from veil.review.coverage import Coverage, coverage
from veil.review.edits import BaseEdit, Redo, Undo, apply, exported
from veil.review.history import (
    Change,
    Entry,
    HistoryFiles,
    describe,
    edit_summaries,
    step,
)
from veil.review.service_port import (
    Caller,
    Conflict,
    Job,
    JobCreate,
    JobState,
    ServiceSettings,
    Store,
    input_path,
    job_outputs,
    read_output,
    save_upload,
    submit_request,
)
from veil.review.state import ReviewState
from veil.review.timeline import Timeline
from veil.settings import BlurType

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(job_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(job_id, threading.Lock())


@dataclass(frozen=True)
class Review:
    job: Job
    stem: str
    original: Timeline
    timeline: Timeline
    state: ReviewState
    thumbnails: dict[int, str]  # the analysis's thumbnail output name of each ID
    history: HistoryFiles

    @property
    def annotations(self) -> Annotations:
        """What the redaction uses and a person downloads (see :func:`exported`)."""
        return exported(self.timeline, self.state)

    def seconds(self, frame: int) -> float:
        a = self.timeline.template
        return (self.timeline.starts[frame] + a.offset) / a.timescale

    def media_tick(self, frame: int) -> int:
        return self.timeline.starts[frame] + self.timeline.template.offset

    def id_list(self) -> str:
        """Azure's ID list: the chosen IDs, one per line."""
        return "".join(f"{i}\n" for i in sorted(self.state.selected))


class Reviews:
    """Open, edit and redact reviews of finished analyses in one store."""

    def __init__(self, store: Store, settings: ServiceSettings) -> None:
        self.store, self.settings = store, settings

    def folder(self, job_id: str) -> Path:
        return self.settings.outputs_dir / job_id / "review"

    # -- loading and saving -----------------------------------------------------------

    def _analysis(self, job: Job) -> tuple[Annotations, dict[int, str], str]:
        if job.mode not in ("analyze", "combined"):
            raise Conflict(f"job {job.id} is a {job.mode} job; review an analyze job")
        if job.state != JobState.FINISHED:
            raise Conflict(f"job {job.id} is {job.state.value}; review it once it has finished")
        outputs = job_outputs(self.settings, job)
        stem = Path(job.source_name).stem
        name = annotations_name(stem)
        if name not in outputs:
            raise Conflict(f"job {job.id} has no annotations output")
        annotations = parse_annotations(read_output(self.settings, outputs[name]), name)
        thumbs = {face_id: n for n in outputs if (face_id := thumbnail_id(stem, n)) is not None}
        return annotations, thumbs, stem

    def open(self, job_id: str, caller: Caller) -> Review:
        """The review of a job ``caller`` may see (NotFound otherwise)."""
        job = self.store.jobs.get(job_id, caller)
        annotations, thumbs, stem = self._analysis(job)
        original = Timeline.from_annotations(annotations)
        folder = self.folder(job.id)
        history = HistoryFiles(folder)
        edited, state_file = folder / "annotations.json", folder / "state.json"
        timeline, state = original, ReviewState.initial(original)
        if edited.is_file() and state_file.is_file():
            saved = Timeline.from_annotations(read_annotations(edited))
            if len(saved) == len(original):
                timeline = saved
                state = ReviewState.from_json(json.loads(state_file.read_text()))
            else:  # the analysis was run again: start over
                history.clear()
        return Review(job, stem, original, timeline, state, thumbs, history)

    def _save(self, review: Review) -> None:
        folder = self.folder(review.job.id)
        folder.mkdir(parents=True, exist_ok=True)
        # the annotations first: a state naming boxes that are not saved would be worse;
        # saved whole (every candidate and suggestion), the state says what was decided
        annotations = review.timeline.to_annotations()
        write_atomic(folder / "annotations.json", dump_annotations(annotations).encode())
        write_atomic(folder / "state.json", json.dumps(review.state.to_json(), indent=1).encode())

    def record(self, review: Review, action: str, summary: str, who: str, **detail: Any) -> None:
        """Add a line to the review's history, and to the job's audit trail."""
        entry = Entry(review.state.revision, action, summary, who, time.time(), detail)
        review.history.append(entry)
        audited = {"summary": summary, "revision": review.state.revision, **detail}
        self.store.audit.append(review.job.id, who, f"review.{action}", audited)

    def edit(self, job_id: str, edit: BaseEdit, caller: Caller) -> Review:
        """Apply one edit (or undo or redo one) and store the result before answering."""
        with _lock(job_id):
            review = self.open(job_id, caller)
            detail = edit.model_dump(mode="json")
            action = detail.pop("op")
            if isinstance(edit, Undo | Redo):
                redo = isinstance(edit, Redo)
                timeline, state, of = step(review.history, review.timeline, review.state, redo)
                done = edit_summaries(review.history.entries()).get(of, "")
                summary = f"{'Redid' if redo else 'Undid'}: {done}"
                detail = {"of": of}
            else:
                timeline, state = apply(edit, review.timeline, review.state, review.original)
                change = Change.between(review.timeline, timeline, review.state, state)
                review.history.save_change(state.revision, change)
                state = replace(state, done=(*state.done, state.revision), undone=())
                summary = describe(edit, review.state, state)
            state = replace(state, updated_by=caller.name, updated_at=time.time())
            review = replace(review, timeline=timeline, state=state)
            self._save(review)
            self.record(review, action, summary, caller.name, **detail)
        return review

    # -- pictures ----------------------------------------------------------------------

    def source_path(self, job: Job) -> Path | None:
        """The source file on this server (uploads and watched files), if it is still there."""
        path = input_path(self.settings, job)
        return path if path is not None and path.is_file() else None

    def _source(self, review: Review) -> Path:
        path = self.source_path(review.job)
        if path is None:
            raise Conflict(f"job {review.job.id}: the source is not kept on this server")
        return path

    def frame(self, review: Review, frame: int):
        review.timeline.check_frame(frame)
        a = review.timeline.template
        return frames.frame_rgb(self._source(review), review.media_tick(frame), a.timescale)

    def preview(self, review: Review, frame: int, blur: BlurType | None) -> bytes:
        """The frame as the redaction would render it: chosen IDs hidden with the blur."""
        from veil.redact import RedactionConfig

        rgb = self.frame(review, frame)
        height, width = rgb.shape[:2]
        rects = [
            (f.id, (f.x, f.y, f.width, f.height))
            for f in review.timeline.faces[frame]
            if f.id in review.state.selected
        ]
        config = RedactionConfig(blur=blur or review.state.blur)
        boxes = frames.pixel_boxes(rects, width, height)
        return frames.jpeg(frames.redacted_preview(rgb, boxes, config))

    def thumbnail(self, review: Review, face_id: int) -> Path | bytes:
        """The analysis's thumbnail of the ID while its boxes are the analysis's, else a
        crop of its middle box (cached): a split or a merge changes the picture.
        """
        boxes = list(review.timeline.boxes_of(face_id))
        if not boxes:
            raise VeilError(f"there is no face {face_id}")
        if face_id in review.thumbnails and boxes == list(review.original.boxes_of(face_id)):
            output = job_outputs(self.settings, review.job).get(review.thumbnails[face_id])
            if output is not None and output.path is not None and output.exists():
                return output.path
        frame, face = boxes[len(boxes) // 2]
        key = hashlib.sha256(f"{face_id}:{frame}:{face.model_dump_json()}".encode()).hexdigest()
        cached = self.folder(review.job.id) / "thumbs" / f"{face_id}-{key[:16]}.jpg"
        if cached.is_file():
            return cached
        rgb = self.frame(review, frame)
        height, width = rgb.shape[:2]
        [box] = frames.pixel_boxes(
            [(face_id, (face.x, face.y, face.width, face.height))], width, height
        )
        data = frames.jpeg(frames.crop(rgb, box))
        write_atomic(cached, data)
        return cached

    def strip(self, review: Review, face_id: int) -> Path:
        """The ID's pictures along the timeline (see :mod:`veil.review.strips`), cached.

        Missing tiles are cut for every ID at once, in one decoding pass: the app
        asks for all the strips together.
        """
        tracks = review.timeline.tracks()
        if face_id not in tracks:
            raise VeilError(f"there is no face {face_id}")
        tiles = strips.plan(tracks[face_id], len(review.timeline))
        folder = self.folder(review.job.id)
        out = folder / "strips" / f"{face_id}-{strips.version(tiles)}.jpg"
        if out.is_file():
            return out
        cache = strips.TileCache(folder / "tiles")
        with _lock(f"{review.job.id}/tiles"):
            if cache.missing(tiles):
                every = [
                    t for boxes in tracks.values() for t in strips.plan(boxes, len(review.timeline))
                ]
                cache.fill(every, lambda wanted: self._pictures(review, wanted))
            write_atomic(out, cache.strip(tiles))
        return out

    def _pictures(self, review: Review, wanted: list[int]):
        """(frame, RGB) for the frames ``wanted`` (sorted), decoded in one pass."""
        ticks = [review.media_tick(f) for f in wanted]
        timescale = review.timeline.template.timescale
        decoded = frames.pictures_at(self._source(review), ticks, timescale)
        for frame, (_, rgb) in zip(wanted, decoded, strict=True):
            yield frame, rgb

    # -- redaction ---------------------------------------------------------------------

    def redact(
        self,
        job_id: str,
        caller: Caller,
        blur: BlurType | None = None,
        confirmed: Collection[str] = (),
        require_reviewed: bool = False,
        strict: bool = False,
    ) -> Job:
        """Queue a redact job with the edited annotations and the chosen IDs; record it.

        Refused (Conflict) when nothing is chosen to blur unless ``confirmed`` holds
        ``"nothing-blurred"``, when ``require_reviewed`` (the policy) and some
        frames are not marked reviewed, and when ``strict`` (the policy) and a face the
        analysis found is neither hidden nor shown by choice (:mod:`veil.review.coverage`).
        The other warnings, and the IDs shown, are recorded with it. A blur weaker than the
        policy allows is refused (VeilError) by the job submission.
        """
        with _lock(job_id):
            review = self.open(job_id, caller)
            warned = findings.warnings(review.timeline, review.state)
            codes = {w.code: w.text for w in warned}
            if require_reviewed and "unreviewed" in codes:
                raise Conflict(
                    f"the policy asks for every frame to be reviewed first: {codes['unreviewed']}"
                )
            if "nothing-blurred" in codes and "nothing-blurred" not in confirmed:
                raise Conflict(
                    f'{codes["nothing-blurred"]} Send confirm: ["nothing-blurred"] to do so.'
                )
            covered = self._coverage(review, strict)
            blur = blur or review.state.blur
            chosen = sorted(review.state.selected)
            job = self._submit(review, caller, blur, chosen)
            record: dict[str, Any] = {
                "job": job.id,
                "ids": chosen,
                "blur": blur.value,
                "by": caller.name,
                "at": time.time(),
                "revision": review.state.revision,
                "manual_ids": sorted(review.state.manual),
                "warnings": sorted(codes),
                "ids_shown": sorted(covered.shown),
                "uncovered": len(covered.uncovered),
            }
            state = replace(review.state, redactions=(*review.state.redactions, record))
            review = replace(review, state=state)
            self._save(review)
            shown = f"faces {', '.join(map(str, chosen))}" if chosen else "no face"
            said = f"; warned: {', '.join(sorted(codes))}" if codes else ""
            summary = f'Redacted: {shown} hidden with "{blur.value}" (job {job.id[:8]}){said}'
            self.record(
                review,
                "redact",
                summary,
                caller.name,
                job=job.id,
                ids=chosen,
                warnings=sorted(codes),
                ids_shown=sorted(covered.shown),
                uncovered=len(covered.uncovered),
            )
        return job

    def _submit(self, review: Review, caller: Caller, blur: BlurType, chosen: list[int]) -> Job:
        """Queue the redact job: the edited annotations, saved as an upload, and the IDs."""
        annotations = review.annotations
        if not chosen:  # an empty ID list means "every face" to veil and Azure
            annotations = select_ids(annotations, frozenset())
        data = dump_annotations(annotations).encode()
        # the edits are the analysed job's team's, as the redaction will be
        owner = replace(caller, team=review.job.team)
        upload = save_upload(self.store, self.settings, annotations_name(review.stem), data, owner)
        analysed = review.job.options
        request = JobCreate.model_validate(
            {
                "input": {"job_id": review.job.id},
                "mode": "redact",
                "azure_preset": {"version": "1.0", "options": {"blurType": blur.value}},
                "detector": analysed.get("detector"),
                "encoder": analysed.get("encoder"),
                "annotations_upload_id": upload.id,
                "ids": chosen or None,
            }
        )
        return submit_request(self.store, self.settings, request, caller)

    @staticmethod
    def _coverage(review: Review, strict: bool) -> Coverage:
        """The review's boxes against the analysis's; Conflict under a strict policy when a
        face is left neither hidden nor shown by choice."""
        found = coverage(review.original, review.timeline, review.state.selected)
        if strict and found.uncovered:
            raise Conflict(
                f"{found.summary()}: the policy requires review or a minimum blur, so a box "
                "may not be shrunk, moved off or deleted from a face; to show a face, choose "
                "not to hide its ID (recorded by name)"
            )
        return found
