"""Stage 3: follow faces through the video and give each a stable ID."""

from veil.track.tracker import FaceTracker, TrackerConfig
from veil.track.tracks import TrackedFace

__all__ = ["FaceTracker", "TrackedFace", "TrackerConfig"]
