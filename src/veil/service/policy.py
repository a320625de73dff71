"""What admins decide for everyone: the weakest redaction a published output may have,
whether unreviewed spans block a review's export, which private webhook addresses
are allowed, which S3 prefixes each team may read and write, whether ``box`` (outline)
videos may be written for non-admins, and each token's quotas.

Blur types are ordered by how much of a face they hide (:data:`HIDING_ORDER`).
``box`` hides nothing: it only outlines faces, so it never makes a published
output (a ``box`` job writes ``<stem>_review.mp4``, never ``_redacted``) and is
allowed whatever the policy says.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from veil.errors import VeilError
from veil.settings import BlurType

# weakest first, measured: veil's detector (RetinaFace, threshold 0.2) run again on the
# 153 faces of 24 px and more in 60 WIDER FACE images (../shared/data) after each blur
# still found 73 % of them with box (an outline: nothing hidden), 68 % pixelated
# (blocks of an eighth of the face), 31 % low, 7 % med, 4 % high, 1 % black
HIDING_ORDER = (
    BlurType.BOX,
    BlurType.PIXELATE,
    BlurType.LOW,
    BlurType.MED,
    BlurType.HIGH,
    BlurType.BLACK,
)

Prefix = Annotated[str, Field(min_length=1, max_length=2048)]
Team = Annotated[str, Field(min_length=1, max_length=128)]
EVERYONE = "*"  # the s3_allow entry for every token, with a team or without


class Quotas(BaseModel):
    """Per token; None: no limit. Admins set them; they apply to admins' tokens too."""

    model_config = ConfigDict(extra="forbid")

    jobs_queued: int | None = Field(None, ge=0, description="jobs queued or running at once")
    upload_bytes: int | None = Field(
        None, ge=0, description="bytes of uploads kept (received or declared) at once"
    )
    upload_sessions: int | None = Field(None, ge=0, description="uploads not yet complete at once")


def hides_at_least(blur: BlurType, weakest: BlurType) -> bool:
    return HIDING_ORDER.index(blur) >= HIDING_ORDER.index(weakest)


class Policy(BaseModel):
    """The service's policy (``GET /v1/policy``; admins ``PUT`` it)."""

    model_config = ConfigDict(extra="forbid")

    min_blur: BlurType = Field(
        BlurType.PIXELATE,  # any blur: what veil allowed before policies
        description="the weakest blur a published (_redacted) output may have; "
        "order: " + " < ".join(b.value for b in HIDING_ORDER[1:]),
    )
    require_review: bool = Field(
        False, description="a review with unreviewed spans may not be exported (redacted)"
    )
    webhook_allow: list[Prefix] = Field(
        default_factory=list,
        max_length=64,
        description="webhook URL prefixes allowed although they name a loopback, private or "
        "link-local address",
    )
    s3_allow: dict[Team, list[Prefix]] = Field(
        default_factory=dict,
        max_length=1024,
        description="per team, the s3://bucket/prefix its tokens' jobs may read and write "
        f"({EVERYONE!r}: every token); nothing else on S3 is reachable but by admins",
    )
    box_outputs: bool = Field(
        True, description="false: only admins' jobs may write a box (outline) video"
    )
    quotas: Quotas = Field(default_factory=Quotas)

    @field_validator("s3_allow")
    @classmethod
    def _s3_prefixes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from veil.service.s3 import parse_s3_url

        try:
            return {team: [parse_s3_url(p).url for p in named] for team, named in value.items()}
        except VeilError as exc:
            raise ValueError(str(exc)) from None

    @property
    def strict(self) -> bool:
        """Review required or a blur above the default asked: settings and edits that
        hide less than the analysis found are refused."""
        return self.require_review or hides_at_least(self.min_blur, BlurType.LOW)

    @field_validator("min_blur")
    @classmethod
    def _not_box(cls, value: BlurType) -> BlurType:
        if value == BlurType.BOX:
            raise ValueError("box hides nothing: the weakest published blur must hide faces")
        return value

    def check_published_blur(self, blur: BlurType) -> None:
        """Raises VeilError if a published output with ``blur`` would break the policy."""
        if blur != BlurType.BOX and not hides_at_least(blur, self.min_blur):
            raise VeilError(
                f"blur {blur.value!r} hides less than the policy allows: the weakest is "
                f"{self.min_blur.value!r} (order: "
                + " < ".join(b.value for b in HIDING_ORDER[1:])
                + ")"
            )
