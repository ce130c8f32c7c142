"""Posture pipeline: accelerometer samples -> per-second labels -> bouts. Pure: no I/O, no clock.

Live and offline use the same `PostureStream`; `classify_recording` feeds it one recording.
"""

from .bouts import BoutTracker, find_bouts
from .reference import UprightReference
from .settings import PipelineSettings
from .stream import PostureStream, classify_recording
from .windows import EpochGap
from .wrist import WRIST_INACTIVE_TERM, WRIST_LABELS

__all__ = [
    "WRIST_INACTIVE_TERM",
    "WRIST_LABELS",
    "BoutTracker",
    "EpochGap",
    "PipelineSettings",
    "PostureStream",
    "UprightReference",
    "classify_recording",
    "find_bouts",
]
