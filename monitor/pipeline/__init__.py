"""Posture pipeline: accelerometer samples -> per-second labels -> bouts. Pure: no I/O, no clock.

Live and offline use the same `PostureStream`; `classify_recording` feeds it one recording. A live
stream also gives provisional labels a few seconds behind the samples (`feed_live`, live.py).
"""

from .bouts import BoutTracker, find_bouts
from .reference import UprightReference
from .settings import PipelineSettings
from .stream import LivePosture, PostureStream, StreamOutput, classify_recording
from .windows import EpochGap
from .wrist import WRIST_INACTIVE_TERM, WRIST_LABELS

__all__ = [
    "WRIST_INACTIVE_TERM",
    "WRIST_LABELS",
    "BoutTracker",
    "EpochGap",
    "LivePosture",
    "PipelineSettings",
    "PostureStream",
    "StreamOutput",
    "UprightReference",
    "classify_recording",
    "find_bouts",
]
