"""The sitbreak reference firmware ("SitSense"), as specified in docs/firmware-protocol.md.

GATT table::

    SitSense service   0213ef00-992d-42ce-b607-274942d4ca5b
      accel    ...ef01  notify              framed packets (monitor/wearables/sitsense_format.py)
      config   ...ef02  read, write         rate code, range code
      control  ...ef03  write, write-without-response   0x00 pause, 0x01 resume
    Battery            0x180F / 0x2A19      read, notify
    Device Information 0x180A               manufacturer, model, firmware revision

Streaming starts when the host enables notifications on the accel characteristic and stops when it
disables them or the link drops; the control characteristic pauses and resumes it in between.
"""

from __future__ import annotations

import logging

from firmware_sim import bluez_defs as defs
from firmware_sim.device import Advertisement, Battery, DeviceClock, Faults, Firmware
from firmware_sim.gatt import AttError, Characteristic, Service, device_information_service
from firmware_sim.source import Float32Array, SampleSource
from monitor.wearables import sitsense_format as fmt

_LOGGER = logging.getLogger(__name__)

FIRMWARE_REVISION = "1.0.0"
MODEL = "SitSense reference (simulated)"
MANUFACTURER = "sitbreak"


class SitSenseFirmware(Firmware):
    """``rate_hz``, ``range_g``: the configuration at power-on. ``ignore_rate``: a faulty (or foreign)
    firmware that accepts config writes but keeps streaming at its power-on rate, its packets and
    device times saying so: a host that checks the rate it gets sees the difference."""

    profile = "sitsense"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        rate_hz: int = fmt.DEFAULT_RATE_HZ,
        range_g: int = fmt.DEFAULT_RANGE_G,
        ignore_rate: bool = False,
    ) -> None:
        fmt.rate_code(rate_hz)
        fmt.range_code(range_g)
        self.ignore_rate = ignore_rate
        self._rate_hz = rate_hz
        self.range_g = range_g
        self.seq = 0
        self.paused = False
        self._accel = Characteristic(fmt.ACCEL_CHAR_UUID, ("notify",), on_subscribe=self._on_subscribe)
        self._config = Characteristic(
            fmt.CONFIG_CHAR_UUID, ("read", "write"), on_read=self._read_config, on_write=self._write_config
        )
        self._control = Characteristic(
            fmt.CONTROL_CHAR_UUID, ("write-without-response", "write"), on_write=self._write_control
        )
        self._first_after_start = True
        super().__init__(address, source, clock=clock, battery=battery, faults=faults)

    def build_services(self) -> list[Service]:
        return [
            Service(fmt.SERVICE_UUID, [self._accel, self._config, self._control]),
            self.battery_service(),
            device_information_service(MANUFACTURER, MODEL, FIRMWARE_REVISION),
        ]

    def advertisement(self) -> Advertisement:
        return Advertisement(
            name=fmt.device_name(self.address),
            service_uuids=(fmt.SERVICE_UUID,),
            manufacturer_data={
                fmt.COMPANY_ID: fmt.encode_manufacturer_data(self.battery.level(), self.streaming)
            },
            tx_power=0,
        )

    @property
    def data_char(self) -> Characteristic:
        return self._accel

    def rate_hz(self) -> float:
        return float(self._rate_hz)

    def samples_per_packet(self) -> int:
        return fmt.samples_per_packet(self.mtu)

    def on_stream_start(self) -> None:
        super().on_stream_start()
        self.seq = 0
        self._first_after_start = True

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        period_ms = 1000 // self._rate_hz
        flags = fmt.FLAG_STREAM_START if self._first_after_start else 0
        if self.overflowed:
            flags |= fmt.FLAG_OVERFLOW
        self._first_after_start = False
        packet = fmt.encode_packet(
            self.seq,
            first_index * period_ms,
            self._rate_hz,
            self.range_g,
            fmt.g_to_counts(xyz_g, self.range_g),
            flags,
        )
        self.seq = (self.seq + 1) % fmt.SEQ_MODULO
        return packet

    def malformed(self, payload: bytes) -> bytes:
        # An unsupported protocol version: what a host sees from a newer or corrupted firmware.
        return bytes([0xF0 | (payload[0] & 0x0F)]) + payload[1:]

    # ---- GATT handlers ---------------------------------------------------------------------------
    def _on_subscribe(self, on: bool) -> None:
        if on and not self.paused:
            self.start_stream()
        elif not on:
            self.stop_stream()

    def _read_config(self) -> bytes:
        return fmt.encode_config(self._rate_hz, self.range_g)

    def _write_config(self, value: bytes, with_response: bool) -> None:
        try:
            rate_hz, range_g = fmt.decode_config(value)
        except ValueError as exc:
            raise AttError(defs.ATT_VALUE_NOT_ALLOWED, str(exc)) from exc
        if self.ignore_rate:
            rate_hz = self._rate_hz
        changed = (rate_hz, range_g) != (self._rate_hz, self.range_g)
        self._rate_hz, self.range_g = rate_hz, range_g
        _LOGGER.debug("%s: config rate %d Hz range ±%d g", self.address, rate_hz, range_g)
        if changed and self.streaming:
            # A new rate restarts the sample clock phase; the packet flag tells the host.
            self.stop_stream()
            self.start_stream()

    def _write_control(self, value: bytes, with_response: bool) -> None:
        if value == bytes([fmt.CONTROL_PAUSE]):
            self.paused = True
            self.stop_stream()
        elif value == bytes([fmt.CONTROL_RESUME]):
            self.paused = False
            if self._accel.subscribed:
                self.start_stream()
        else:
            raise AttError(defs.ATT_VALUE_NOT_ALLOWED, f"unknown control command {value.hex()}")
