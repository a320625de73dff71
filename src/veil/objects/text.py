"""Text and licence plates in a frame: PP-OCRv4's detector and recogniser, offline.

The ONNX files come from the installed ``rapidocr-onnxruntime`` wheel
(Apache-2.0; installed ``--no-deps``, since it asks for opencv-python, which
would replace the project's headless OpenCV): ``ch_PP-OCRv4_det_infer.onnx``
finds text as a probability map (DB), ``ch_PP-OCRv4_rec_infer.onnx`` reads a
line (CTC over the alphabet stored in its metadata). The map's post-processing
is DB's: threshold, connected regions, each grown by ``area * ratio /
perimeter`` (the "unclip"), done here on axis-aligned rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from veil.detect.models import model_file
from veil.objects.regions import Box

# DB's settings as rapidocr ships them (config.yaml), the box score a little lower
# (0.5 missed low-contrast plates in bench/eval_text.py)
PIXEL_THRESHOLD = 0.3
BOX_THRESHOLD = 0.45
UNCLIP_RATIO = 1.6
REC_HEIGHT = 48


def _session(name: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    path = str(model_file(name))  # checked against its recorded SHA-256
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class TextBox:
    """A line of text found in a frame: ``box`` (x0, y0, x1, y1) pixels and its score."""

    box: Box
    score: float


class TextDetector:
    """PP-OCRv4 text detection on frames scaled to ``max_side`` (multiples of 32)."""

    def __init__(self, max_side: int = 960, threads: int = 0) -> None:
        self.session = _session("text-detector", threads)
        self.max_side = max_side

    def detect(self, rgb: NDArray[np.uint8]) -> list[TextBox]:
        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        h32 = max(32, round(height * scale / 32) * 32)
        w32 = max(32, round(width * scale / 32) * 32)
        image = cv2.resize(rgb, (w32, h32), interpolation=cv2.INTER_AREA)
        tensor = (image.astype(np.float32) / 255.0 - 0.5) / 0.5
        tensor = tensor.transpose(2, 0, 1)[None]
        probability = self.session.run(None, {"x": tensor})[0][0, 0]
        boxes = text_boxes(probability)
        sx, sy = width / w32, height / h32
        return [
            TextBox((b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy), b.score)
            for b in boxes
        ]


def text_boxes(probability: NDArray[np.float32]) -> list[TextBox]:
    """DB post-processing: regions of the map above the threshold, scored, grown."""
    mask = (probability > PIXEL_THRESHOLD).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    height, width = probability.shape
    found = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if min(w, h) < 3:
            continue
        region = np.zeros((h, w), np.uint8)
        cv2.fillPoly(region, [contour - (x, y)], 1)
        score = float(probability[y : y + h, x : x + w][region > 0].mean())
        if score < BOX_THRESHOLD:
            continue
        grow = w * h * UNCLIP_RATIO / (2 * (w + h))
        box = (
            max(0.0, x - grow),
            max(0.0, y - grow),
            min(float(width), x + w + grow),
            min(float(height), y + h + grow),
        )
        found.append(TextBox(box, score))
    return found


class TextReader:
    """PP-OCRv4 recognition of one line of text (what the evaluation reads back)."""

    def __init__(self, threads: int = 0) -> None:
        self.session = _session("text-recogniser", threads)
        alphabet = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.characters = ["", *alphabet, " "]

    def read(self, rgb: NDArray[np.uint8]) -> str:
        height, width = rgb.shape[:2]
        if height < 2 or width < 2:
            return ""
        w = max(8, min(int(np.ceil(REC_HEIGHT * width / height)), 1600))
        image = cv2.resize(rgb, (w, REC_HEIGHT)).astype(np.float32)
        tensor = ((image / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        labels = self.session.run(None, {"x": tensor})[0][0].argmax(axis=1)
        # CTC: repeats merge, blanks (0) separate
        kept = [k for i, k in enumerate(labels) if k != 0 and (i == 0 or k != labels[i - 1])]
        return "".join(self.characters[k] for k in kept if k < len(self.characters))
