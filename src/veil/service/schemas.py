"""What the API accepts and returns; table rows never reach a response directly."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from veil.service.options import DetectorOptions, EncoderOptions
from veil.service.store import Job, StoredPreset, Upload

PRESET_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class JobInput(BaseModel):
    """Exactly one of: an upload id, an allow-listed URL, an s3:// object, an earlier job."""

    model_config = ConfigDict(extra="forbid")

    upload_id: str | None = None
    url: str | None = None
    s3: str | None = Field(None, description="s3://bucket/key")
    version_id: str | None = Field(None, description="S3 object version (optional)")
    job_id: str | None = Field(
        None, description="the input of an earlier job (e.g. redact what was analysed)"
    )

    @model_validator(mode="after")
    def _one(self) -> JobInput:
        given = [x for x in (self.upload_id, self.url, self.s3, self.job_id) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of upload_id, url, s3, job_id")
        return self


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: JobInput
    preset: str | None = Field(None, description="a stored preset's name")
    azure_preset: dict[str, Any] | None = Field(
        None, description="an Azure preset JSON, instead of a stored preset"
    )
    mode: Literal["analyze", "redact", "combined"] | None = None
    detector: DetectorOptions | None = None
    encoder: EncoderOptions | None = None
    output: str | None = Field(None, description="s3://bucket/prefix; default: kept by veil")
    webhook_url: str | None = None
    webhook_secret: str | None = None
    annotations_upload_id: str | None = Field(
        None, description="redact jobs: an uploaded (edited) annotations JSON"
    )
    ids: list[int] | None = Field(None, description="redact jobs: the face IDs to hide")


class JobPublic(BaseModel):
    id: str
    state: str
    mode: str
    preset: str | None
    source: dict[str, Any]
    source_name: str
    output: str | None
    progress: float
    frames_done: int
    frames_total: int | None
    error: str | None
    tries: int
    max_tries: int
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    finished_at: str | None
    outputs: list[str]
    token_name: str | None

    @classmethod
    def from_job(cls, job: Job) -> JobPublic:
        summary = job.summary()
        if summary["source"].get("path"):  # server paths stay on the server
            summary["source"] = {k: v for k, v in summary["source"].items() if k != "path"}
        summary["outputs"] = [o.rsplit("/", 1)[-1] for o in summary["outputs"]]
        return cls(**summary)


class JobList(BaseModel):
    jobs: list[JobPublic]
    count: int


class PresetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: dict[str, Any] = Field(
        default_factory=dict,
        description="Azure preset JSON as is (v1 {version, options} or v3 FaceDetectorPreset)",
    )
    detector: DetectorOptions = DetectorOptions()
    encoder: EncoderOptions = EncoderOptions()
    webhook_url: str | None = None
    webhook_secret: str | None = None


class PresetCreate(PresetBody):
    name: str = Field(pattern=PRESET_NAME)


class PresetPublic(BaseModel):
    name: str
    preset: dict[str, Any]
    mode: str
    blur: str | None
    detector: dict[str, Any]
    encoder: dict[str, Any]
    webhook_url: str | None

    @classmethod
    def from_stored(cls, stored: StoredPreset) -> PresetPublic:
        from veil.service.options import resolve_options

        extras = stored.options
        options = resolve_options(
            azure=stored.azure, detector=extras.get("detector"), encoder=extras.get("encoder")
        )
        return cls(
            name=stored.name,
            preset=stored.azure,
            mode=options.mode.value,
            blur=options.blur.value if options.blur else None,
            detector=options.detector.model_dump(exclude_none=True),
            encoder=options.encoder.model_dump(exclude_none=True),
            webhook_url=stored.webhook_url,
        )


class UploadPublic(BaseModel):
    id: str
    filename: str
    size: int | None
    received: int
    complete: bool
    kind: str | None

    @classmethod
    def from_upload(cls, upload: Upload) -> UploadPublic:
        return cls(
            id=upload.id,
            filename=upload.filename,
            size=upload.size,
            received=upload.received,
            complete=upload.complete,
            kind=upload.kind,
        )


class EventResult(BaseModel):
    jobs: list[dict[str, Any]]
    ignored: list[dict[str, Any]]
