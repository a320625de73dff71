"""Draw docs/blur-types.png: the astronaut photo's face under every blur type.

python scripts/blur_gallery.py [OUT.png]
"""

import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from veil.detect import DetectorConfig, load_detector
from veil.redact import RedactionConfig, redact_frame
from veil.settings import BlurType
from veil.types import FaceBox

TILE = 240


def tile(image: np.ndarray, label: str) -> np.ndarray:
    crop = cv2.resize(image[20:260, 110:350], (TILE, TILE), interpolation=cv2.INTER_AREA)
    canvas = np.full((TILE + 30, TILE, 3), 255, np.uint8)
    canvas[:TILE] = crop
    cv2.putText(
        canvas, label, (8, TILE + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA
    )
    return canvas


def main(out: Path) -> None:
    photo = data.astronaut()
    detections = load_detector(DetectorConfig()).detect(photo)
    faces = [FaceBox(i + 1, *map(float, box)) for i, box in enumerate(detections.xyxy)]
    tiles = [tile(photo, "original")]
    for blur in BlurType:
        redacted = redact_frame(photo, faces, RedactionConfig(blur=blur))
        tiles.append(tile(redacted, blur.value))
    rows = [np.hstack(tiles[:4]), np.hstack([*tiles[4:], np.full_like(tiles[0], 255)])]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/blur-types.png"))
