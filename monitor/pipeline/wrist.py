"""Wrist rules: active vs inactive only. A wrist cannot tell sitting from standing still.

Labels emitted for a wrist wearable, exactly:
- `sit`  stands in for INACTIVE (ENMO below `wrist_active_enmo_g`, Hildebrand 2014: ~45 mg);
- `move` for ACTIVE;
- `non_wear` and `unknown` as for every placement.
`stand`, `lie` and `cycle` never come from a wrist. Reports and messages for a wrist wearable must say
"inactivity", never "sitting" (see `WRIST_INACTIVE_TERM`).
"""

from __future__ import annotations

import numpy as np

from monitor.core.types import CodeArray, PostureCode

from .features import WindowStats
from .settings import PipelineSettings

WRIST_INACTIVE_TERM = "inactivity"
WRIST_LABELS = frozenset({PostureCode.SIT, PostureCode.MOVE, PostureCode.NON_WEAR, PostureCode.UNKNOWN})


def wrist_codes(stats: WindowStats, settings: PipelineSettings) -> CodeArray:
    active = stats.enmo >= settings.wrist_active_enmo_g
    codes = np.where(active, np.uint8(PostureCode.MOVE), np.uint8(PostureCode.SIT)).astype(np.uint8)
    codes[~stats.valid] = PostureCode.UNKNOWN
    return codes
