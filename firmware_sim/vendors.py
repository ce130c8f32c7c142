"""Vendor wearables the simulator can present, so their host-side decoders run end to end through Bleak.

Each simulation answers as the vendor's own firmware or specification says the real device does;
the sources (repository, commit, file and line) are cited at each class and constant, and
docs/firmware-protocol.md lists them. They are transcribed here independently of the host profiles
(monitor/wearables/profiles), so the end-to-end tests compare two readings of the same sources,
while the golden tests in tests/wearables/test_vendor_golden.py hold the profiles to the vendors'
own bytes.

BBC micro:bit accelerometer service (codal-microbit-v2 / codal-core for V2, microbit-dal for V1)
    Service E95D0753-...; data E95DCA4B-... (read, notify): x, y, z int16 LE at 1024 per g, one
    sample per notification; period E95DFB24-... (read, write): uint16 ms, rounded UP by the board's
    driver to its period table and stored back. The board advertises only its name,
    ``BBC micro:bit [xxxxx]``. Range fixed at ±2 g.

Polar PMD (Verity Sense, H10): polar-ble-sdk @ 8fb5311 and its online_measurement.pdf
    Control point FB005C81-... (read, write, indicate): read gives [0x0F, feature bits, 0 x 15];
    requests [op, measurement type, (setting type, count, value LE)...] with op 0x01 get settings,
    0x02 start, 0x03 stop, ACC = type 0x02; replies are indications [0xF0, op, type, status, more,
    parameters...], split into "more" packets when longer than the MTU allows. Data FB005C82-...
    (notify): [type, uint64 LE ns since 2000-01-01 of the frame's last sample, frame type,
    samples...]; frame type 0x01 = raw int16 mG (H10), 0x80 = delta-compressed G x FACTOR (Verity
    Sense), 0x81 = delta-compressed mG x FACTOR.

Nordic Thingy:52 motion service (Nordic-Thingy52-FW @ 6ada0a9)
    Base EF68xxxx-9B35-4933-9B10-52FFA9740042; raw data 0x0406 (notify): accel x,y,z int16 Q6.10 g,
    gyro Q11.5 deg/s, compass Q12.4 µT (18 bytes); motion config 0x0401 (read, write), 9 bytes
    packed, validated and stored as ble_tms.c and m_motion.c do; raw data at 200/floor(200/f) Hz.
"""

from __future__ import annotations

import struct
import time
from typing import Final, NamedTuple

import numpy as np

from firmware_sim import bluez_defs as defs
from firmware_sim.device import Advertisement, Battery, DeviceClock, Faults, Firmware
from firmware_sim.gatt import AttError, Characteristic, Service, device_information_service, uuid16
from firmware_sim.source import Float32Array, SampleSource

HEART_RATE_SERVICE_UUID: Final = uuid16(0x180D)


def _address_bytes(address: str) -> bytes:
    return bytes(int(part, 16) for part in address.split(":"))


# ================================================================================================
# BBC micro:bit
# ================================================================================================
MICROBIT_SERVICE_UUID: Final = "e95d0753-251d-470a-a062-fa1922dfa9a8"
MICROBIT_DATA_UUID: Final = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
MICROBIT_PERIOD_UUID: Final = "e95dfb24-251d-470a-a062-fa1922dfa9a8"
# Each board's accelerometer driver: its period table (us) and the factor the request (ms) is
# multiplied by before the lookup. V2: codal-core source/drivers/LSM303Accelerometer.cpp:57-67, :105;
# V1: microbit-dal source/drivers/MMA8653.cpp:53-62, :101 and FXOS8700.cpp:53-62, :80 (twice the
# request). Commits as in monitor/wearables/profiles/microbit.py.
MICROBIT_BOARDS: Final[dict[str, tuple[tuple[int, ...], int]]] = {
    "v2": ((617, 744, 2500, 5000, 10_000, 20_000, 40_000, 100_000, 1_000_000), 1000),
    "v1": ((1250, 2500, 5000, 10_000, 20_000, 80_000, 160_000, 640_000), 1000),  # MMA8653
    "v1-fxos": ((2500, 5000, 10_000, 20_000, 80_000, 160_000, 320_000, 1_280_000), 2000),
}
MICROBIT_DEFAULT_PERIOD_MS: Final = 20  # the drivers' constructor default (Accelerometer.cpp:50)
MICROBIT_RANGE_G: Final = 2  # the default range; not settable over Bluetooth
# micro:bit "friendly names" are five letters drawn alternately from these codebooks (microbit-dal
# MicroBitDevice.cpp), derived from the serial number; ours from the address.
_MICROBIT_CODEBOOK: Final = ("zvgpt", "uoiea", "zvgpt", "uoiea", "zvgpt")
_XYZ = struct.Struct("<3h")


def _headerless_malformed(payload: bytes) -> bytes:
    # Formats with no header to break (micro:bit, Thingy raw data): a wrong length is the only
    # invalid packet they can send.
    return payload + b"\x00"


def microbit_reading(board: str, g: np.ndarray) -> np.ndarray:
    """The int16 values a board's driver puts in the data characteristic for accelerations `g`
    (board axes, ±2 g range), computed as the driver computes them from its sensor's registers:
    - v2 / LSM303: 16-bit reading (16384 per g at ±2 g), / 32, x range (codal-core
      LSM303Accelerometer.cpp:194-206); C division truncates toward zero.
    - v1 / MMA8653: 8-bit reading (64 per g at ±2 g), x 8, x range (MMA8653.cpp:174-189).
    - v1-fxos / FXOS8700: 14-bit reading left-aligned in 16 bits, x range / 32 (FXOS8700.cpp:241-243).
    All come to 1024 per g. The drivers' axis swaps (into ENU and back to the user's coordinate
    space) are left out: the simulated source already gives the board's axes."""
    out: np.ndarray
    if board == "v1":
        out = np.clip(np.rint(g * 64), -128, 127).astype(np.int64) * 8 * MICROBIT_RANGE_G
    else:
        reading = np.clip(np.rint(g * 16384), -32768, 32767).astype(np.int64)
        if board == "v1-fxos":
            reading = reading & ~3  # 14 significant bits
            out = np.trunc(reading * MICROBIT_RANGE_G / 32).astype(np.int64)
        else:
            out = np.trunc(reading / 32).astype(np.int64) * MICROBIT_RANGE_G
    return out


class MicrobitFirmware(Firmware):
    """A micro:bit running a MakeCode program with the accelerometer service.

    ``board``: "v2" (LSM303, the only V2 accelerometer), "v1" (MMA8653) or "v1-fxos" (FXOS8700).
    A period write is handed to the driver, which rounds it UP to the next table entry and stores
    that entry in whole ms back in the characteristic (codal-microbit-v2 source/bluetooth/
    MicroBitAccelerometerService.cpp:128-140). A write shorter than 2 bytes is ignored without an
    error, as that code ignores it. ``accelerometer_service=False`` is a program that never started
    the service (no `bluetooth.startAccelerometerService()`): the board connects but has no
    accelerometer characteristics."""

    profile = "microbit"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        board: str = "v2",
        period_ms: int = MICROBIT_DEFAULT_PERIOD_MS,
        accelerometer_service: bool = True,
    ) -> None:
        if board not in MICROBIT_BOARDS:
            raise ValueError(f"micro:bit board {board!r} is not one of {sorted(MICROBIT_BOARDS)}")
        self.board = board
        self.accelerometer_service = accelerometer_service
        self.period_us = 0
        self.period_ms = 0
        self._set_period(period_ms)
        self._data = Characteristic(
            MICROBIT_DATA_UUID, ("read", "notify"), on_subscribe=self.stream_while_subscribed
        )
        self._period = Characteristic(
            MICROBIT_PERIOD_UUID, ("read", "write"), on_read=self._read_period, on_write=self._write_period
        )
        super().__init__(address, source, clock=clock, battery=battery, faults=faults)

    def build_services(self) -> list[Service]:
        services = [device_information_service("Lancaster University", "BBC micro:bit", "2.1.1")]
        if self.accelerometer_service:
            services.insert(0, Service(MICROBIT_SERVICE_UUID, [self._data, self._period]))
        return services

    def friendly_name(self) -> str:
        seed = int.from_bytes(_address_bytes(self.address), "big")
        letters = []
        for book in _MICROBIT_CODEBOOK:
            letters.append(book[seed % len(book)])
            seed //= len(book)
        return "".join(letters)

    def advertisement(self) -> Advertisement:
        return Advertisement(name=f"BBC micro:bit [{self.friendly_name()}]")

    @property
    def data_char(self) -> Characteristic:
        return self._data

    def rate_hz(self) -> float:
        # The sensor runs at the table entry itself (2.5 ms), not at the whole ms stored (2 ms).
        return 1e6 / self.period_us

    def samples_per_packet(self) -> int:
        return 1

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        value = _XYZ.pack(*(int(v) for v in microbit_reading(self.board, xyz_g[0].astype(np.float64))))
        self._data.value = value
        return value

    def malformed(self, payload: bytes) -> bytes:
        return _headerless_malformed(payload)

    def _set_period(self, requested_ms: int) -> None:
        """KeyValueTable::find (codal-core source/core/CodalUtil.cpp:33-49): the first entry >= the
        request, else the last; the driver stores it in whole ms."""
        table, scale = MICROBIT_BOARDS[self.board]
        key = requested_ms * scale
        self.period_us = next((us for us in table if us >= key), table[-1])
        self.period_ms = self.period_us // 1000

    def _read_period(self) -> bytes:
        return struct.pack("<H", self.period_ms)

    def _write_period(self, value: bytes, with_response: bool) -> None:
        if len(value) < 2:
            return  # `params->len >= sizeof(...)` fails: the firmware does nothing
        (wanted,) = struct.unpack_from("<H", value)
        self._set_period(wanted)
        if self.streaming:
            self.stop_stream()
            self.start_stream()


# ================================================================================================
# Polar PMD
# ================================================================================================
PMD_SERVICE_UUID: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_UUID: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
PMD_OP_GET_SETTINGS: Final = 0x01
PMD_OP_START: Final = 0x02
PMD_OP_STOP: Final = 0x03
PMD_MEASUREMENT_ACC: Final = 0x02
PMD_RESPONSE: Final = 0xF0
PMD_MEASUREMENT_STOPPED: Final = 0x01  # sensor -> host: online measurement stopped, then the types
PMD_FEATURES_READ: Final = 0x0F
PMD_FEATURES_BYTES: Final = 17  # "0F 6E 00 ... 00" in the spec's figure 1 (p. 12)
PMD_SETTING_SAMPLE_RATE: Final = 0
PMD_SETTING_RESOLUTION: Final = 1
PMD_SETTING_RANGE: Final = 2
PMD_SETTING_CHANNELS: Final = 4
PMD_SETTING_FACTOR: Final = 5
PMD_SETTING_SIZES: Final = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}
PMD_RESPONSE_HEADER_BYTES: Final = 5
PMD_STATUS_SUCCESS: Final = 0
PMD_STATUS_INVALID_OP_CODE: Final = 1
PMD_STATUS_INVALID_MEASUREMENT_TYPE: Final = 2
PMD_STATUS_NOT_SUPPORTED: Final = 3
PMD_STATUS_INVALID_LENGTH: Final = 4
PMD_STATUS_INVALID_PARAMETER: Final = 5
PMD_STATUS_ALREADY_IN_STATE: Final = 6
PMD_STATUS_INVALID_RESOLUTION: Final = 7
PMD_STATUS_INVALID_SAMPLE_RATE: Final = 8
PMD_STATUS_INVALID_RANGE: Final = 9
PMD_STATUS_INVALID_NUMBER_OF_CHANNELS: Final = 11
PMD_STATUS_DEVICE_IN_CHARGER: Final = 13
# The status a start answers for a wrong value of each setting type.
_PMD_VALUE_STATUS: Final = {
    PMD_SETTING_SAMPLE_RATE: PMD_STATUS_INVALID_SAMPLE_RATE,
    PMD_SETTING_RESOLUTION: PMD_STATUS_INVALID_RESOLUTION,
    PMD_SETTING_RANGE: PMD_STATUS_INVALID_RANGE,
    PMD_SETTING_CHANNELS: PMD_STATUS_INVALID_NUMBER_OF_CHANNELS,
}
PMD_FRAME_RAW_INT16: Final = 0x01
PMD_FRAME_DELTA_G: Final = 0x80  # compressed type 0: values in G x FACTOR (Verity Sense)
PMD_FRAME_DELTA_MG: Final = 0x81  # compressed type 1: values in mG x FACTOR
PMD_HEADER_BYTES: Final = 10
PMD_RESOLUTION_BITS: Final = 16
# The Verity Sense's FACTOR at ±8 G as its start reply carries it: 40 DA 7F 39 = 0x397FDA40
# = 0.000244 (spec figure 3, p. 14).
PMD_SENSE_FACTOR_BYTES: Final = bytes.fromhex("40da7f39")
# The H10's start reply carries one reserved byte, 0x01, where the Verity Sense puts FACTOR
# (spec figure 3: "F0 02 02 00 00 01", "0x01 = reserved").
PMD_H10_RESERVED: Final = b"\x01"
# 2000-01-01T00:00:00Z, the PMD timestamp epoch, as Unix seconds.
POLAR_EPOCH_UNIX_S: Final = 946_684_800


class _PolarModel(NamedTuple):
    offered: dict[int, tuple[int, ...]]  # setting type -> values, in the order the reply lists them
    features: int  # feature bits of the control point read
    frame_type: int  # the frames it sends
    start_params: bytes  # what its start reply carries after the header


# The settings replies of the spec's figure 2 (p. 13): the H10 offers rates 25/50/100/200 Hz,
# resolution 16 and ranges 2/4/8 G; the Verity Sense (outside SDK mode) 52 Hz, 16, 8 G and 3
# channels. Feature bits: Verity Sense 0x6E (spec figure 1), H10 0x05 = ECG | ACC (an H10's read
# quoted in polar-ble-sdk issue #360). Frames: the H10 sends raw int16 mG frames (type 0x01, spec
# figure 3), the Verity Sense delta frames in G x FACTOR (type 0x80, spec figure 3).
_POLAR_MODELS: Final[dict[str, _PolarModel]] = {
    "H10": _PolarModel(
        {
            PMD_SETTING_SAMPLE_RATE: (25, 50, 100, 200),
            PMD_SETTING_RESOLUTION: (16,),
            PMD_SETTING_RANGE: (2, 4, 8),
        },
        0x05,
        PMD_FRAME_RAW_INT16,
        PMD_H10_RESERVED,
    ),
    "Sense": _PolarModel(
        {
            PMD_SETTING_SAMPLE_RATE: (52,),
            PMD_SETTING_RESOLUTION: (16,),
            PMD_SETTING_RANGE: (8,),
            PMD_SETTING_CHANNELS: (3,),
        },
        0x6E,
        PMD_FRAME_DELTA_G,
        b"",  # FACTOR, built from the range in force
    ),
}


def pack_deltas(deltas: np.ndarray, width: int) -> bytes:
    """Signed ``width``-bit values, bits least significant first, in row-major order."""
    values = deltas.astype(np.int64).ravel() & ((1 << width) - 1)
    bits = ((values[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes()


def delta_frame_body(samples: np.ndarray) -> bytes:
    """PMD delta compression of int samples (N, 3): reference sample, then one block of deltas."""
    ref = bytes(samples[0].astype("<i2").tobytes())
    if len(samples) == 1:
        return ref
    deltas = np.diff(samples.astype(np.int64), axis=0)
    peak = int(np.max(np.abs(deltas)))
    width = max(2, peak.bit_length() + 1)  # + sign bit
    return ref + bytes((width, len(deltas))) + pack_deltas(deltas, width)


def pmd_response_packets(op: int, measurement: int, status: int, params: bytes, mtu: int) -> list[bytes]:
    """One control point response as the indications that carry it: each packet has the 5-byte
    header [F0, op, type, status, more] and as many parameter bytes as the MTU leaves; "more" is 1
    on every packet but the last. This is the framing Polar's SDK reassembles
    (polar-ble-sdk A/BlePMDClient.kt:210-223: each further packet's parameters from byte 5)."""
    room = max(1, mtu - 3 - PMD_RESPONSE_HEADER_BYTES)
    chunks = [params[i : i + room] for i in range(0, len(params), room)] or [b""]
    return [
        bytes((PMD_RESPONSE, op, measurement, status, int(i < len(chunks) - 1))) + chunk
        for i, chunk in enumerate(chunks)
    ]


class PolarFirmware(Firmware):
    """``model="Sense"`` (Verity Sense, delta frames in G) or ``"H10"`` (raw int16 mG frames);
    ``frame_type`` overrides the frame (0x01, 0x80 or 0x81).

    Answers as the spec's figures show (settings per model, the H10's reserved start-reply byte,
    the Verity Sense's FACTOR), splits a reply that does not fit the MTU into "more" packets, and
    refuses a start that names a setting type the model does not offer or leaves one out.

    Failure modes for tests: ``refuse_settings`` / ``refuse_start`` = a PMD status to answer those
    requests with (e.g. PMD_STATUS_DEVICE_IN_CHARGER); ``bonding_required`` = control point writes
    fail with ATT 0x05 (Insufficient Authentication) until the host has paired, as an H10 answers
    an unpaired Windows host (bleak issue #1943); `stop_measurement_from_device` = the sensor stops
    the stream itself and says so on the control point."""

    profile = "polar"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        model: str = "Sense",
        frame_type: int | None = None,
        clock_origin_ns: int | None = None,
        refuse_settings: int | None = None,
        refuse_start: int | None = None,
        bonding_required: bool = False,
    ) -> None:
        if model not in _POLAR_MODELS:
            raise ValueError(f"Polar model {model!r} is not one of {sorted(_POLAR_MODELS)}")
        self.model = model
        self.spec = _POLAR_MODELS[model]
        self.offered = self.spec.offered
        self.rates = self.offered[PMD_SETTING_SAMPLE_RATE]
        self.ranges = self.offered[PMD_SETTING_RANGE]
        self.features = self.spec.features
        self.frame_type = self.spec.frame_type if frame_type is None else frame_type
        if self.frame_type not in (PMD_FRAME_RAW_INT16, PMD_FRAME_DELTA_G, PMD_FRAME_DELTA_MG):
            raise ValueError(f"PMD frame type {self.frame_type:#04x} is not simulated")
        self.refuse_settings = refuse_settings
        self.refuse_start = refuse_start
        self.bonding_required = bonding_required
        self.acc_rate = self.rates[0]
        self.acc_range = self.ranges[-1]
        self.last_start_request = b""
        # The sensor clock: ns since 2000-01-01 at device boot (by default the wall clock now).
        if clock_origin_ns is None:
            clock_origin_ns = int((time.time() - POLAR_EPOCH_UNIX_S) * 1e9) - int(clock.now_ms() * 1e6)
        self.clock_origin_ns = clock_origin_ns
        self._control = Characteristic(
            PMD_CONTROL_UUID,
            ("read", "write", "indicate"),
            on_read=self._read_features,
            on_write=self._control_write,
        )
        self._data = Characteristic(PMD_DATA_UUID, ("notify",))
        super().__init__(address, source, clock=clock, battery=battery, faults=faults)

    def build_services(self) -> list[Service]:
        return [
            Service(HEART_RATE_SERVICE_UUID, [Characteristic(uuid16(0x2A37), ("notify",))]),
            Service(PMD_SERVICE_UUID, [self._control, self._data]),
            self.battery_service(),
            device_information_service("Polar Electro Oy", f"Polar {self.model}", "2.1.9"),
        ]

    def device_id(self) -> str:
        return _address_bytes(self.address)[2:].hex().upper()

    def advertisement(self) -> Advertisement:
        name = f"Polar {self.model} {self.device_id()}"
        return Advertisement(name=name, service_uuids=(HEART_RATE_SERVICE_UUID,))

    @property
    def data_char(self) -> Characteristic:
        return self._data

    def rate_hz(self) -> float:
        return float(self.acc_rate)

    def factor(self) -> float:
        if self.frame_type == PMD_FRAME_DELTA_G:
            (at_8g,) = struct.unpack("<f", PMD_SENSE_FACTOR_BYTES)
            return float(at_8g) * self.acc_range / 8
        return 1.0

    def start_params(self) -> bytes:
        """What the start reply carries: FACTOR for compressed frames, else the model's own bytes."""
        if self.frame_type == PMD_FRAME_RAW_INT16:
            return self.spec.start_params
        if self.frame_type == PMD_FRAME_DELTA_G and self.acc_range == 8:
            factor = PMD_SENSE_FACTOR_BYTES
        else:
            factor = struct.pack("<f", self.factor())
        return bytes((PMD_SETTING_FACTOR, 1)) + factor

    def samples_per_packet(self) -> int:
        room = self.mtu - 3 - PMD_HEADER_BYTES
        if self.frame_type == PMD_FRAME_RAW_INT16:
            return max(1, room // 6)
        # reference sample + one block header, deltas sized for the worst case (17 bits with sign)
        return max(1, 1 + ((room - 6 - 2) * 8) // (3 * 17))

    def counts(self, xyz_g: Float32Array) -> np.ndarray:
        """Samples in the frame's integer unit, clipped at the range."""
        clipped = np.clip(xyz_g.astype(np.float64), -self.acc_range, self.acc_range)
        if self.frame_type == PMD_FRAME_DELTA_G:
            return np.clip(np.rint(clipped / self.factor()), -32768, 32767).astype(np.int64)
        return np.rint(clipped * 1000.0).astype(np.int64)

    def timestamp_ns(self, index: int) -> int:
        return self.clock_origin_ns + (index * 1_000_000_000) // self.acc_rate

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        counts = self.counts(xyz_g)
        last = first_index + len(counts) - 1
        header = bytes((PMD_MEASUREMENT_ACC,)) + self.timestamp_ns(last).to_bytes(8, "little")
        if self.frame_type == PMD_FRAME_RAW_INT16:
            body = counts.astype("<i2").tobytes()
        else:
            body = delta_frame_body(counts)
        return header + bytes((self.frame_type,)) + body

    def malformed(self, payload: bytes) -> bytes:
        # A measurement type the host did not start (0x09 is not a PMD measurement type).
        return bytes((0x09,)) + payload[1:]

    def stop_measurement_from_device(self) -> None:
        """The sensor stops ACC on its own (charger, low battery) and says so: [0x01, ACC]
        (polar-ble-sdk A/PmdControlPointCommand.kt:16-17; its unit test BlePmdClientTest.kt:180)."""
        self.stop_stream()
        self._control.notify(bytes((PMD_MEASUREMENT_STOPPED, PMD_MEASUREMENT_ACC)))

    # ---- control point -------------------------------------------------------------------------------
    def _read_features(self) -> bytes:
        return bytes((PMD_FEATURES_READ, self.features)) + bytes(PMD_FEATURES_BYTES - 2)

    def _reply(self, op: int, measurement: int, status: int, params: bytes = b"") -> None:
        for packet in pmd_response_packets(op, measurement, status, params, self.mtu):
            self._control.notify(packet)

    def _settings(self) -> bytes:
        out = b""
        for setting, values in self.offered.items():
            size = PMD_SETTING_SIZES[setting]
            out += bytes((setting, len(values))) + b"".join(v.to_bytes(size, "little") for v in values)
        return out

    def _control_write(self, value: bytes, with_response: bool) -> None:
        if self.bonding_required and not self.bonded:
            raise AttError(defs.ATT_INSUFFICIENT_AUTHENTICATION, "PMD control point needs a bonded link")
        if len(value) < 2:
            self._reply(value[0] if value else 0, 0, PMD_STATUS_INVALID_LENGTH)
            return
        op, measurement = value[0], value[1]
        if op not in (PMD_OP_GET_SETTINGS, PMD_OP_START, PMD_OP_STOP):
            self._reply(op, measurement, PMD_STATUS_INVALID_OP_CODE)
        elif measurement != PMD_MEASUREMENT_ACC:
            self._reply(op, measurement, PMD_STATUS_INVALID_MEASUREMENT_TYPE)
        elif op == PMD_OP_GET_SETTINGS:
            if self.refuse_settings is not None:
                self._reply(op, measurement, self.refuse_settings)
            else:
                self._reply(op, measurement, PMD_STATUS_SUCCESS, self._settings())
        elif op == PMD_OP_STOP:
            self.stop_stream()
            self._reply(op, measurement, PMD_STATUS_SUCCESS)
        else:
            self.last_start_request = bytes(value)
            self._start(value[2:])

    def _start(self, params: bytes) -> None:
        status = self._start_status(params)
        if status != PMD_STATUS_SUCCESS:
            self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, status)
            return
        self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, PMD_STATUS_SUCCESS, self.start_params())
        self.start_stream()

    def _start_status(self, params: bytes) -> int:
        """Check a start request; on success take its rate and range."""
        if self.streaming:
            return PMD_STATUS_ALREADY_IN_STATE
        if self.refuse_start is not None:
            return self.refuse_start
        chosen: dict[int, int] = {}
        i = 0
        while i < len(params):
            if i + 2 > len(params):
                return PMD_STATUS_INVALID_LENGTH
            kind, count = params[i], params[i + 1]
            if kind not in self.offered:
                # A setting the model does not have (the H10 capture: error 5).
                return PMD_STATUS_INVALID_PARAMETER
            size = PMD_SETTING_SIZES[kind]
            if count != 1 or i + 2 + size > len(params):
                return PMD_STATUS_INVALID_LENGTH
            chosen[kind] = int.from_bytes(params[i + 2 : i + 2 + size], "little")
            i += 2 + size
        if set(chosen) != set(self.offered):
            # Simulation's choice, not Polar's documented answer: a start must name every setting
            # the model offered (spec figure 3 and the SDK both send them all).
            return PMD_STATUS_INVALID_PARAMETER
        for kind, value in chosen.items():
            if value not in self.offered[kind]:
                return _PMD_VALUE_STATUS.get(kind, PMD_STATUS_INVALID_PARAMETER)
        self.acc_rate = chosen[PMD_SETTING_SAMPLE_RATE]
        self.acc_range = chosen[PMD_SETTING_RANGE]
        return PMD_STATUS_SUCCESS


# ================================================================================================
# Nordic Thingy:52
# ================================================================================================
def thingy_uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


THINGY_CONFIG_SERVICE_UUID: Final = thingy_uuid(0x0100)
THINGY_MOTION_SERVICE_UUID: Final = thingy_uuid(0x0400)
THINGY_MOTION_CONFIG_UUID: Final = thingy_uuid(0x0401)
THINGY_RAW_UUID: Final = thingy_uuid(0x0406)
_THINGY_CONFIG = struct.Struct("<HHHHB")
_THINGY_RAW = struct.Struct("<9h")
# Nordic-Thingy52-FW @ 6ada0a9 include/ble_services/ble_tms.h:158-167: the limits a config write
# must keep, else ATT "write not permitted" (source/ble_services/ble_tms.c:263-301).
THINGY_PEDO_RANGE_MS: Final = (100, 5000)
THINGY_TEMP_RANGE_MS: Final = (100, 5000)
THINGY_COMPASS_RANGE_MS: Final = (100, 1000)
THINGY_MPU_FREQ_RANGE_HZ: Final = (5, 200)
THINGY_DMP_RATE_HZ: Final = 200  # libs/eMD6/core/driver/eMPL/inv_mpu_dmp_motion_driver.c:496
THINGY_DEFAULT_CONFIG: Final = (
    1000,
    500,
    500,
    10,
    1,
)  # MOTION_DEFAULT_CONFIG, include/modules/m_motion.h:59-66
THINGY_ACCEL_Q: Final = 1 << 10  # Q6.10
THINGY_COMPASS_Q: Final = 1 << 4  # Q12.4
# A still board in a mid-latitude Earth field, µT: what the compass channel carries unchanged.
THINGY_COMPASS_UT: Final = (20.0, 0.0, -45.0)


class ThingyFirmware(Firmware):
    """Starts with the firmware's default motion config (step counter 1000 ms, temperature and
    compass compensation 500 ms, 10 Hz, wake on motion) or ``config``; raw data comes at
    200 / floor(200 / f) Hz (the DMP's FIFO divider, inv_mpu_dmp_motion_driver.c:708-710).

    Every accepted config write is stored "in flash" (m_motion.c:219): it survives reconnects, and
    `flash_writes` counts the writes, so tests can see a host that rewrites the config on every
    connect or clobbers the other fields."""

    profile = "thingy52"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        motion_freq_hz: int | None = None,
        config: tuple[int, int, int, int, int] | None = None,
    ) -> None:
        stored = config or THINGY_DEFAULT_CONFIG
        if motion_freq_hz is not None:
            stored = (*stored[:3], motion_freq_hz, stored[4])
        self.config = stored
        self.flash_writes = 0
        self._raw = Characteristic(THINGY_RAW_UUID, ("notify",), on_subscribe=self.stream_while_subscribed)
        self._config = Characteristic(
            THINGY_MOTION_CONFIG_UUID,
            ("read", "write"),
            on_read=lambda: _THINGY_CONFIG.pack(*self.config),
            on_write=self._write_config,
        )
        super().__init__(address, source, clock=clock, battery=battery, faults=faults)

    def build_services(self) -> list[Service]:
        return [
            Service(THINGY_CONFIG_SERVICE_UUID, [Characteristic(thingy_uuid(0x0101), ("read",), b"Thingy")]),
            Service(THINGY_MOTION_SERVICE_UUID, [self._config, self._raw]),
            self.battery_service(),
        ]

    def advertisement(self) -> Advertisement:
        return Advertisement(name="Thingy", service_uuids=(THINGY_CONFIG_SERVICE_UUID,))

    @property
    def data_char(self) -> Characteristic:
        return self._raw

    def rate_hz(self) -> float:
        return THINGY_DMP_RATE_HZ / (THINGY_DMP_RATE_HZ // self.config[3])

    def samples_per_packet(self) -> int:
        return 1

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        # m_motion.c:306-353: the 16Q16 value clamped to the field's integer range, then >> 6.
        limit = 32767 / THINGY_ACCEL_Q
        accel = np.rint(np.clip(xyz_g[0], -limit, limit) * THINGY_ACCEL_Q).astype(int)
        compass = [round(v * THINGY_COMPASS_Q) for v in THINGY_COMPASS_UT]
        return _THINGY_RAW.pack(*accel, 0, 0, 0, *compass)

    def malformed(self, payload: bytes) -> bytes:
        return _headerless_malformed(payload)

    def _write_config(self, value: bytes, with_response: bool) -> None:
        if len(value) != _THINGY_CONFIG.size:
            raise AttError(defs.ATT_WRITE_NOT_PERMITTED, f"motion config is {_THINGY_CONFIG.size} bytes")
        pedo, temp, comp, freq, wom = _THINGY_CONFIG.unpack(value)
        limits = (
            (pedo, THINGY_PEDO_RANGE_MS),
            (temp, THINGY_TEMP_RANGE_MS),
            (comp, THINGY_COMPASS_RANGE_MS),
            (freq, THINGY_MPU_FREQ_RANGE_HZ),
            (wom, (0, 1)),
        )
        if not all(lo <= v <= hi for v, (lo, hi) in limits):
            raise AttError(defs.ATT_WRITE_NOT_PERMITTED, "motion config out of range")
        self.config = (pedo, temp, comp, freq, wom)
        self.flash_writes += 1
        # Every accepted write restarts the motion driver (drv_motion.c:856-875).
        if self.streaming:
            self.stop_stream()
            self.start_stream()
