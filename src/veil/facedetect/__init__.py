"""Azure Media Face Detector's outputs: faces, per-face emotion, aggregate emotion.

Faces are the redaction's own analysis (:func:`veil.pipeline.analyze.analyze_video`);
emotions come from :mod:`veil.emotion`. :func:`detect_faces` is the job behind
``veil detect``; the rest are its parts, usable on their own.
"""

from veil.facedetect.emotions import SMOOTH_MS, FaceEmotions, score_faces
from veil.facedetect.output import (
    AggregateSeries,
    aggregate,
    aggregate_document,
    aggregate_for,
    faces_document,
    span_ticks,
)
from veil.facedetect.plot import emotion_plot
from veil.facedetect.preset import (
    FaceDetectorPreset,
    parse_face_detector_preset,
    read_face_detector_preset,
)
from veil.facedetect.run import (
    FaceDetectConfig,
    FaceDetectResult,
    detect_faces,
    output_name,
    write_csv,
    write_json,
    write_plot,
)
from veil.facedetect.settings import AggregateSettings, FaceDetectMode
from veil.facedetect.stats import FaceSummary, Summary, csv_text, summarize

__all__ = [
    "SMOOTH_MS",
    "AggregateSeries",
    "AggregateSettings",
    "FaceDetectConfig",
    "FaceDetectMode",
    "FaceDetectResult",
    "FaceDetectorPreset",
    "FaceEmotions",
    "FaceSummary",
    "Summary",
    "aggregate",
    "aggregate_document",
    "aggregate_for",
    "csv_text",
    "detect_faces",
    "emotion_plot",
    "faces_document",
    "output_name",
    "parse_face_detector_preset",
    "read_face_detector_preset",
    "score_faces",
    "span_ticks",
    "summarize",
    "write_csv",
    "write_json",
    "write_plot",
]
