"""What the API accepts and returns; table rows never reach a response directly.

Every string and list a client sends is bounded here (the body as a whole is
bounded by the guard, :mod:`veil.service.api.guard`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from veil.service.access import Role
from veil.service.options import DetectorOptions, EncoderOptions
from veil.service.store import Job, StoredPreset, Upload
from veil.urls import masked

PRESET_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"
SHORT = 128  # names and IDs
LONG = 2048  # URLs
MAX_IDS = 100_000  # face IDs in one redaction

Name = Annotated[str, Field(min_length=1, max_length=SHORT)]
UrlField = Annotated[str, Field(min_length=1, max_length=LONG)]
Secret = Annotated[str, Field(min_length=8, max_length=SHORT)]
Url = Annotated[str | None, Query(max_length=LONG)]  # a URL in a query string


class JobInput(BaseModel):
    """Exactly one of: an upload id, an allow-listed URL, an s3:// object, an earlier job."""

    model_config = ConfigDict(extra="forbid")

    upload_id: Name | None = None
    url: UrlField | None = None
    s3: UrlField | None = Field(None, description="s3://bucket/key")
    version_id: Name | None = Field(None, description="S3 object version (optional)")
    job_id: Name | None = Field(
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
    preset: Name | None = Field(None, description="a stored preset's name")
    azure_preset: dict[str, Any] | None = Field(
        None, description="an Azure preset JSON, instead of a stored preset"
    )
    mode: Literal["analyze", "redact", "combined"] | None = None
    detector: DetectorOptions | None = None
    encoder: EncoderOptions | None = None
    output: UrlField | None = Field(None, description="s3://bucket/prefix; default: kept by veil")
    webhook_url: UrlField | None = None
    webhook_secret: Secret | None = None
    annotations_upload_id: Name | None = Field(
        None, description="redact jobs: an uploaded (edited) annotations JSON"
    )
    ids: list[Annotated[int, Field(ge=0, le=2**31)]] | None = Field(
        None, max_length=MAX_IDS, description="redact jobs: the face IDs to hide"
    )


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
    team: str | None

    @classmethod
    def from_job(cls, job: Job) -> JobPublic:
        return cls(**job.summary())


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
    webhook_url: UrlField | None = None
    webhook_secret: Secret | None = None


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
            webhook_url=masked(stored.webhook_url) if stored.webhook_url else None,
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
        return cls(**{name: getattr(upload, name) for name in cls.model_fields})


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOKEN_NAME)
    role: Role = Role.OPERATOR
    team: str | None = Field(None, pattern=TOKEN_NAME)


class S3Event(BaseModel):
    """A bucket notification as AWS S3 and MinIO send it (other keys are ignored)."""

    Records: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class EventResult(BaseModel):
    jobs: list[dict[str, Any]]
    ignored: list[dict[str, Any]]
