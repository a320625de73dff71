"""Rendering a :class:`~evaluation.scene.Scenario`: real faces on real footage.

Each scenario pastes head crops (:class:`~evaluation.sources.FacePhoto`)
onto background footage along known trajectories and writes

- ``<name>.mp4``: H.264 through :func:`veil.media.write_video` (CRF 20), and
- ``<name>.json``: its :class:`~evaluation.scene.GroundTruth`.

Compositing. A head is pasted through a soft elliptical alpha mask (feathered
over about 8 % of the head's size, and faded out near the edges of its crop), so
no hard edge gives the face away; it is scaled with area averaging, rotated in
the image plane about the face centre, and, in ``motion_blur``, smeared along
its motion over 80 % of a frame interval. Heads are drawn far to near (``z``);
occluders (a pillar, a sweeping pole) are opaque.

Ground truth. The box of a face rotated by ``a`` is the bounding box of the
ellipse inscribed in its upright box, rotated by ``a`` (a tight box, as a
WIDER-trained detector draws one). The visible fraction is the share of that
ellipse's area that is inside the frame and not covered by anything drawn
later (alpha > 0.5).

Backgrounds are empty stretches of real footage, seen through a slowly moving
crop window (a camera pan), or a synthetic texture when there is no footage.
Everything random comes from one seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluation.scene import FPS, Actor, FaceTruth, GroundTruth, Occluder, Scenario
from evaluation.sources import BackgroundClip, FacePhoto, synthetic_background
from veil.media import write_video


def _alpha_mask(height: int, width: int, face_box: tuple[float, ...]) -> NDArray[np.float32]:
    """Soft ellipse over the head crop, faded to 0 at the crop's edges."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    fx0, fy0, fx1, fy1 = face_box
    fw, fh = fx1 - fx0, fy1 - fy0
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2 - 0.1 * fh
    # ellipse through the head: 0.72 face widths, 0.82 face heights from the centre
    r = np.sqrt(((xx - cx) / (0.72 * fw)) ** 2 + ((yy - cy) / (0.82 * fh)) ** 2)
    alpha = np.clip((1.0 - r) / 0.12, 0.0, 1.0)
    feather = max(min(height, width) * 0.08, 1.0)
    edge = np.minimum.reduce([xx + 0.5, yy + 0.5, width - 0.5 - xx, height - 0.5 - yy])
    alpha *= np.clip(edge / feather, 0.0, 1.0)
    return alpha.astype(np.float32)


def ellipse_box(
    cx: float, cy: float, w: float, h: float, angle: float
) -> tuple[float, float, float, float]:
    """Bounding box of the ellipse inscribed in a ``w`` x ``h`` box rotated by ``angle``."""
    a, b, t = w / 2, h / 2, math.radians(angle)
    hw = math.hypot(a * math.cos(t), b * math.sin(t))
    hh = math.hypot(a * math.sin(t), b * math.cos(t))
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def _ellipse_mask(
    height: int, width: int, cx: float, cy: float, w: float, h: float, angle: float
) -> tuple[NDArray[np.bool_], int]:
    """The face ellipse's pixels in the frame, and its whole area in pixels (frame or not)."""
    x0, y0, x1, y1 = ellipse_box(cx, cy, w, h, angle)
    ox, oy = math.floor(x0) - 1, math.floor(y0) - 1
    local = np.zeros((math.ceil(y1) + 2 - oy, math.ceil(x1) + 2 - ox), np.uint8)
    cv2.ellipse(
        local,
        (round((cx - ox) * 16), round((cy - oy) * 16)),
        (max(round(w / 2 * 16), 1), max(round(h / 2 * 16), 1)),
        angle,
        0,
        360,
        1,
        thickness=-1,
        shift=4,
    )
    mask = np.zeros((height, width), bool)
    fx0, fy0 = max(ox, 0), max(oy, 0)
    fx1, fy1 = min(ox + local.shape[1], width), min(oy + local.shape[0], height)
    if fx1 > fx0 and fy1 > fy0:
        mask[fy0:fy1, fx0:fx1] = local[fy0 - oy : fy1 - oy, fx0 - ox : fx1 - ox] > 0
    return mask, max(int(local.sum()), 1)


def _render_head(
    photo: FacePhoto,
    cx: float,
    cy: float,
    face_height: float,
    angle: float,
    velocity: tuple[float, float],
    shutter: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32], int, int]:
    """The head as premultiplied RGB and alpha on a local canvas, and its top-left."""
    scale = face_height / photo.face_height
    ph, pw = photo.rgb.shape[:2]
    size = (max(round(pw * scale), 2), max(round(ph * scale), 2))
    sx, sy = size[0] / pw, size[1] / ph
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(photo.rgb, size, interpolation=interp).astype(np.float32)
    fb = photo.box
    alpha = _alpha_mask(size[1], size[0], (fb[0] * sx, fb[1] * sy, fb[2] * sx, fb[3] * sy))
    fcx, fcy = (fb[0] + fb[2]) / 2 * sx, (fb[1] + fb[3]) / 2 * sy
    blur = math.hypot(*velocity) * shutter
    half = math.hypot(*size) / 2 + blur / 2 + 2
    canvas = 2 * math.ceil(half) + 1
    ox, oy = math.floor(cx) - canvas // 2, math.floor(cy) - canvas // 2
    # rotate about the face centre, put it at (cx, cy) in canvas coordinates
    m = cv2.getRotationMatrix2D((fcx, fcy), -angle, 1.0)
    m[0, 2] += cx - ox - fcx
    m[1, 2] += cy - oy - fcy
    premult = rgb * alpha[..., None]
    out_rgb = cv2.warpAffine(premult, m, (canvas, canvas), flags=cv2.INTER_LINEAR)
    out_a = cv2.warpAffine(alpha, m, (canvas, canvas), flags=cv2.INTER_LINEAR)
    if blur >= 1.5:
        length = max(round(blur), 2)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        direction = math.degrees(math.atan2(velocity[1], velocity[0]))
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), -direction, 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        kernel /= kernel.sum()
        out_rgb = cv2.filter2D(out_rgb, -1, kernel)
        out_a = cv2.filter2D(out_a, -1, kernel)
    return out_rgb, out_a, ox, oy


def _paste(
    frame: NDArray[np.float32],
    rgb: NDArray[np.float32],
    alpha: NDArray[np.float32],
    ox: int,
    oy: int,
) -> NDArray[np.bool_]:
    """Alpha-composites a premultiplied layer at (ox, oy); returns where it covers (a > 0.5)."""
    height, width = frame.shape[:2]
    cover = np.zeros((height, width), bool)
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + alpha.shape[1], width), min(oy + alpha.shape[0], height)
    if x1 <= x0 or y1 <= y0:
        return cover
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - a[..., None]
    region += rgb[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    cover[y0:y1, x0:x1] = a > 0.5
    return cover


def _background_frame(
    clip: BackgroundClip, t: float, seconds: float, width: int, height: int, pan: NDArray
) -> NDArray[np.float32]:
    """The clip at ``t`` through a crop window panning from ``pan[0]`` to ``pan[1]``."""
    src = clip.frame_at(t)
    sh, sw = src.shape[:2]
    # the window keeps the output's aspect ratio and covers 85 % of the source
    ww = min(sw, sh * width / height) * 0.85
    wh = ww * height / width
    u = t / max(seconds, 1e-6)
    fx, fy = pan[0] + (pan[1] - pan[0]) * u  # window position as a share of the free space
    x0, y0 = fx * (sw - ww), fy * (sh - wh)
    m = np.array([[width / ww, 0, -x0 * width / ww], [0, height / wh, -y0 * height / wh]])
    out = cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_LINEAR)
    return out.astype(np.float32)


def _darken(frame: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """Night: a dim, slightly blue picture with sensor noise."""
    dim = 255.0 * (frame / 255.0) ** 1.5 * 0.2
    dim *= np.array([0.85, 0.95, 1.15], np.float32)
    return dim + rng.normal(0.0, 3.0, size=frame.shape).astype(np.float32)


def render(
    scenario: Scenario,
    photos: Sequence[FacePhoto],
    background: BackgroundClip | None,
    seed: int = 0,
) -> tuple[list[NDArray[np.uint8]], GroundTruth]:
    """All frames of ``scenario`` (RGB) and their ground truth."""
    rng = np.random.default_rng(seed)
    w, h = scenario.width, scenario.height
    clip = background or synthetic_background(w, h, scenario.seconds, seed)
    pan = rng.uniform(0, 1, size=(2, 2))
    frames, truth = [], []
    for i in range(scenario.frame_count):
        t = i / FPS
        frame = _background_frame(clip, t, scenario.seconds, w, h, pan)
        layers: list[tuple[float, int, object]] = [(a.z, 0, a) for a in scenario.actors]
        layers += [(o.z, 1, o) for o in scenario.occluders]
        layers.sort(key=lambda item: (item[0], item[1]))
        faces: list[tuple[int, tuple[float, float, float, float], NDArray[np.bool_], float]] = []
        for _, _, item in layers:
            if isinstance(item, Occluder):
                x0, y0, x1, y1 = item.box_at(t)
                x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
                cover = np.zeros((h, w), bool)
                if x1 > x0 and y1 > y0:
                    cover[y0:y1, x0:x1] = True
                    shade = np.linspace(0.9, 1.1, x1 - x0, dtype=np.float32)
                    frame[cover] = np.asarray(item.colour, np.float32)
                    frame[y0:y1, x0:x1] *= shade[None, :, None]
            else:
                actor: Actor = item  # type: ignore[assignment]
                cx, cy, fh, angle = actor.state(t)
                nx, ny, _, _ = actor.state(t + 1 / FPS)
                photo = photos[actor.photo % len(photos)]
                fw = fh * (photo.box[2] - photo.box[0]) / photo.face_height
                rgb, alpha, ox, oy = _render_head(
                    photo, cx, cy, fh, angle, (nx - cx, ny - cy), actor.shutter
                )
                cover = _paste(frame, rgb, alpha, ox, oy)
                mask, area = _ellipse_mask(h, w, cx, cy, fw, fh, angle)
                faces.append((actor.face_id, ellipse_box(cx, cy, fw, fh, angle), mask, area))
            # what this layer covers is hidden for every face drawn before it
            for _, _, mask, _ in faces[:-1] if not isinstance(item, Occluder) else faces:
                mask &= ~cover
        if scenario.night:
            frame = _darken(frame, rng)
        frames.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
        truth.append(
            [
                FaceTruth(fid, tuple(round(v, 2) for v in box), round(float(m.sum()) / area, 4))  # type: ignore[arg-type]
                for fid, box, m, area in sorted(faces, key=lambda f: f[0])
            ]
        )
    sources = {a.face_id: photos[a.photo % len(photos)].source for a in scenario.actors}
    gt = GroundTruth(scenario.name, w, h, FPS, truth, sources, scenario.description)
    return frames, gt


def write_scenario(
    scenario: Scenario,
    photos: Sequence[FacePhoto],
    background: BackgroundClip | None,
    folder: Path,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Renders ``scenario`` to ``folder/<name>.mp4`` and ``folder/<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, gt = render(scenario, photos, background, seed)
    video = folder / f"{scenario.name}.mp4"
    times = [Fraction(i, FPS) for i in range(len(frames))]
    write_video(video, frames, times)
    truth = folder / f"{scenario.name}.json"
    truth.write_text(gt.to_json())
    return video, truth
