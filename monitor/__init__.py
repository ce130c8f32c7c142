"""sitbreak: a sitting and mobility monitor for a thigh-worn BLE accelerometer."""

import logging

__version__ = "0.1.0"

# A library adds only a NullHandler; `cli` and `daemon` configure logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
