"""What admins decide for everyone: the weakest redaction a published output may have,
whether unreviewed spans block a review's export, and which private webhook addresses
are allowed.

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
