"""Azure-compatible annotations: the contract between analysis, review and rendering.

``tracks_to_annotations`` writes what analysis found, ``write_annotations`` /
``read_annotations`` move it through files (veil's or Azure Media Redactor's),
``select_ids`` applies an ID list, and ``AnnotationIndex`` gives the renderer
the boxes of each frame.
"""

from veil.annotations.convert import (
    AnnotationIndex,
    FrameClock,
    faces_at,
    select_ids,
    to_ticks,
    tracks_to_annotations,
)
from veil.annotations.io import (
    dump_annotations,
    parse_annotations,
    parse_id_list,
    read_annotations,
    read_id_list,
    validate_annotations,
    write_annotations,
)
from veil.annotations.models import (
    Annotations,
    AudioSpanEntry,
    Candidate,
    CandidateBox,
    Face,
    Fragment,
    IdInfo,
    MergeSuggestion,
)

__all__ = [
    "AnnotationIndex",
    "Annotations",
    "AudioSpanEntry",
    "Candidate",
    "CandidateBox",
    "Face",
    "Fragment",
    "FrameClock",
    "IdInfo",
    "MergeSuggestion",
    "dump_annotations",
    "faces_at",
    "parse_annotations",
    "parse_id_list",
    "read_annotations",
    "read_id_list",
    "select_ids",
    "to_ticks",
    "tracks_to_annotations",
    "validate_annotations",
    "write_annotations",
]
