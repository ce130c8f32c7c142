"""Vendor device profiles presented by the simulator: BBC micro:bit, Polar PMD and Nordic Thingy:52."""

from __future__ import annotations

from firmware_sim.device import Firmware

MicrobitFirmware: type[Firmware]
PolarFirmware: type[Firmware]
ThingyFirmware: type[Firmware]
