"""Vendor wearables the simulator can present, so their host-side decoders run end to end through Bleak.

BBC micro:bit accelerometer service
    micro:bit Bluetooth profile (lancaster-university.github.io/microbit-docs/ble/profile/,
    accelerometer-service/; MicroBitAccelerometerService.cpp in lancaster-university/microbit-dal).
    Service E95D0753-…; data E95DCA4B-… (read, notify): x, y, z int16 LE in milli-g, one sample per
    notification; period E95DFB24-… (read, write): uint16 ms, the DAL snaps a written value to the
    nearest of 1, 2, 5, 10, 20, 80, 160, 640. The board advertises only its name,
    ``BBC micro:bit [xxxxx]``. Range fixed at ±2 g.

Polar PMD (Verity Sense, H10)
    Polar BLE SDK (github.com/polarofficial/polar-ble-sdk, Android sources
    .../api/ble/model/gatt/client/pmd/: BlePMDClient.kt, PmdControlPointResponse.kt, PmdSetting.kt,
    PmdDataFrame.kt, model/AccData.kt). Control point FB005C81-… (read, write, indicate): read gives
    [0x0F, feature bits]; requests [op, measurement type, (setting type, count, value LE)…] with op
    0x01 get settings, 0x02 start, 0x03 stop, ACC = type 0x02; replies are indications
    [0xF0, op, type, status, more, parameters…]. Data FB005C82-… (notify): [type, uint64 LE ns since
    2000-01-01 of the frame's last sample, frame type, samples…]; frame type 0x01 = raw int16 mG,
    0x80 | t = delta-compressed (BlePMDClient.parseDeltaFramesAll: reference sample of 3 × int16,
    then blocks [bit width, sample count, bits LSB first, channel after channel]); compressed type 1
    is mG × FACTOR, type 0 (Verity Sense) G × FACTOR, FACTOR (float32) sent in the start reply.

Nordic Thingy:52 motion service
    Nordic-Thingy52-FW (include/ble_services/ble_tms.h, source/ble_services/ble_tms.c,
    source/modules/m_motion.c). Base EF68xxxx-9B35-4933-9B10-52FFA9740042; raw data 0x0406 (notify):
    accel x,y,z int16 Q6.10 g, gyro x,y,z int16 Q11.5 deg/s, compass x,y,z int16 Q12.4 µT (18 bytes);
    motion config 0x0401 (read, write), 9 bytes packed: step counter interval ms, temperature
    compensation interval ms, magnetometer compensation interval ms (each 100..5000), motion
    processing frequency Hz (1..200), wake on motion (0/1). ble_tms.c refuses any other write with
    ATT "write not permitted". Raw notifications come at the motion processing frequency.
"""

from __future__ import annotations

import math
import struct
import time
from typing import Final

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
MICROBIT_PERIODS_MS: Final = (1, 2, 5, 10, 20, 80, 160, 640)
MICROBIT_DEFAULT_PERIOD_MS: Final = 20
MICROBIT_RANGE_MG: Final = 2000  # ±2 g, the DAL default; not settable over Bluetooth
# micro:bit "friendly names" are five letters drawn alternately from these codebooks (microbit-dal
# MicroBitDevice.cpp), derived from the serial number; ours from the address.
_MICROBIT_CODEBOOK: Final = ("zvgpt", "uoiea", "zvgpt", "uoiea", "zvgpt")
_XYZ = struct.Struct("<3h")


def _headerless_malformed(payload: bytes) -> bytes:
    # Formats with no header to break (micro:bit, Thingy raw data): a wrong length is the only
    # invalid packet they can send.
    return payload + b"\x00"


class MicrobitFirmware(Firmware):
    profile = "microbit"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        period_ms: int = MICROBIT_DEFAULT_PERIOD_MS,
    ) -> None:
        self.period_ms = period_ms
        self._data = Characteristic(
            MICROBIT_DATA_UUID, ("read", "notify"), on_subscribe=self.stream_while_subscribed
        )
        self._period = Characteristic(
            MICROBIT_PERIOD_UUID, ("read", "write"), on_read=self._read_period, on_write=self._write_period
        )
        super().__init__(address, source, clock=clock, battery=battery, faults=faults)

    def build_services(self) -> list[Service]:
        return [
            Service(MICROBIT_SERVICE_UUID, [self._data, self._period]),
            device_information_service("Lancaster University", "BBC micro:bit", "2.1.1"),
        ]

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
        return 1000.0 / self.period_ms

    def samples_per_packet(self) -> int:
        return 1

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
        mg = np.clip(np.rint(xyz_g[0] * 1000.0), -MICROBIT_RANGE_MG, MICROBIT_RANGE_MG).astype(int)
        value = _XYZ.pack(*mg)
        self._data.value = value
        return value

    def malformed(self, payload: bytes) -> bytes:
        return _headerless_malformed(payload)

    def _read_period(self) -> bytes:
        return struct.pack("<H", self.period_ms)

    def _write_period(self, value: bytes, with_response: bool) -> None:
        if len(value) != 2:
            raise AttError(defs.ATT_INVALID_ATTRIBUTE_VALUE_LENGTH, "period is a uint16")
        (wanted,) = struct.unpack("<H", value)
        self.period_ms = min(MICROBIT_PERIODS_MS, key=lambda p: (abs(p - wanted), p))
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
PMD_FEATURES_READ: Final = 0x0F
PMD_SETTING_SAMPLE_RATE: Final = 0
PMD_SETTING_RESOLUTION: Final = 1
PMD_SETTING_RANGE: Final = 2
PMD_SETTING_FACTOR: Final = 5
PMD_SETTING_SIZES: Final = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}
PMD_STATUS_SUCCESS: Final = 0
PMD_STATUS_INVALID_OP_CODE: Final = 1
PMD_STATUS_INVALID_MEASUREMENT_TYPE: Final = 2
PMD_STATUS_INVALID_LENGTH: Final = 4
PMD_STATUS_INVALID_PARAMETER: Final = 5
PMD_STATUS_ALREADY_IN_STATE: Final = 6
PMD_STATUS_INVALID_RESOLUTION: Final = 7
PMD_STATUS_INVALID_SAMPLE_RATE: Final = 8
PMD_STATUS_INVALID_RANGE: Final = 9
PMD_FRAME_RAW_INT16: Final = 0x01
PMD_FRAME_DELTA_G: Final = 0x80  # compressed type 0: values in G × FACTOR (Verity Sense)
PMD_FRAME_DELTA_MG: Final = 0x81  # compressed type 1: values in mG × FACTOR
PMD_HEADER_BYTES: Final = 10
PMD_RESOLUTION_BITS: Final = 16
# 2000-01-01T00:00:00Z, the PMD timestamp epoch, as Unix seconds.
POLAR_EPOCH_UNIX_S: Final = 946_684_800

# Per model: offered rates (Hz), ranges (g), feature bits of the control point read, default frame.
_POLAR_MODELS: Final[dict[str, tuple[tuple[int, ...], tuple[int, ...], int, int]]] = {
    "H10": ((25, 50, 100, 200), (2, 4, 8), 0x05, PMD_FRAME_RAW_INT16),  # ECG | ACC
    "Sense": ((52,), (8,), 0x6E, PMD_FRAME_DELTA_G),  # ACC | PPG | PPI | gyro | magnetometer
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


class PolarFirmware(Firmware):
    """``model="Sense"`` (Verity Sense, delta frames in G) or ``"H10"`` (raw int16 mG frames);
    ``frame_type`` overrides the frame (0x01, 0x80 or 0x81)."""

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
    ) -> None:
        if model not in _POLAR_MODELS:
            raise ValueError(f"Polar model {model!r} is not one of {sorted(_POLAR_MODELS)}")
        self.model = model
        self.rates, self.ranges, self.features, default_frame = _POLAR_MODELS[model]
        self.frame_type = default_frame if frame_type is None else frame_type
        if self.frame_type not in (PMD_FRAME_RAW_INT16, PMD_FRAME_DELTA_G, PMD_FRAME_DELTA_MG):
            raise ValueError(f"PMD frame type {self.frame_type:#04x} is not simulated")
        self.acc_rate = self.rates[0]
        self.acc_range = self.ranges[-1]
        # The sensor clock: ns since 2000-01-01 at device boot (by default the wall clock now).
        if clock_origin_ns is None:
            clock_origin_ns = int((time.time() - POLAR_EPOCH_UNIX_S) * 1e9) - int(clock.now_ms() * 1e6)
        self.clock_origin_ns = clock_origin_ns
        self._control = Characteristic(
            PMD_CONTROL_UUID,
            ("read", "write", "indicate"),
            on_read=lambda: bytes((PMD_FEATURES_READ, self.features)),
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
        return self.acc_range / 32768.0 if self.frame_type == PMD_FRAME_DELTA_G else 1.0

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

    # ---- control point -------------------------------------------------------------------------------
    def _reply(self, op: int, measurement: int, status: int, params: bytes = b"") -> None:
        self._control.notify(bytes((PMD_RESPONSE, op, measurement, status, 0)) + params)

    def _settings(self) -> bytes:
        out = bytes((PMD_SETTING_SAMPLE_RATE, len(self.rates))) + b"".join(
            r.to_bytes(2, "little") for r in self.rates
        )
        out += bytes((PMD_SETTING_RESOLUTION, 1)) + PMD_RESOLUTION_BITS.to_bytes(2, "little")
        out += bytes((PMD_SETTING_RANGE, len(self.ranges))) + b"".join(
            r.to_bytes(2, "little") for r in self.ranges
        )
        return out

    def _control_write(self, value: bytes, with_response: bool) -> None:
        if len(value) < 2:
            self._reply(value[0] if value else 0, 0, PMD_STATUS_INVALID_LENGTH)
            return
        op, measurement = value[0], value[1]
        if op not in (PMD_OP_GET_SETTINGS, PMD_OP_START, PMD_OP_STOP):
            self._reply(op, measurement, PMD_STATUS_INVALID_OP_CODE)
        elif measurement != PMD_MEASUREMENT_ACC:
            self._reply(op, measurement, PMD_STATUS_INVALID_MEASUREMENT_TYPE)
        elif op == PMD_OP_GET_SETTINGS:
            self._reply(op, measurement, PMD_STATUS_SUCCESS, self._settings())
        elif op == PMD_OP_STOP:
            self.stop_stream()
            self._reply(op, measurement, PMD_STATUS_SUCCESS)
        else:
            self._start(value[2:])

    def _start(self, params: bytes) -> None:
        if self.streaming:
            self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, PMD_STATUS_ALREADY_IN_STATE)
            return
        chosen: dict[int, int] = {}
        i = 0
        while i < len(params):
            if i + 2 > len(params) or params[i] not in PMD_SETTING_SIZES:
                self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, PMD_STATUS_INVALID_PARAMETER)
                return
            kind, size = params[i], PMD_SETTING_SIZES[params[i]]
            if i + 2 + size > len(params):
                self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, PMD_STATUS_INVALID_LENGTH)
                return
            chosen[kind] = int.from_bytes(params[i + 2 : i + 2 + size], "little")
            i += 2 + size * max(1, params[i + 1])
        rate = chosen.get(PMD_SETTING_SAMPLE_RATE, self.acc_rate)
        status = PMD_STATUS_SUCCESS
        if rate not in self.rates:
            status = PMD_STATUS_INVALID_SAMPLE_RATE
        elif chosen.get(PMD_SETTING_RESOLUTION, PMD_RESOLUTION_BITS) != PMD_RESOLUTION_BITS:
            status = PMD_STATUS_INVALID_RESOLUTION
        elif chosen.get(PMD_SETTING_RANGE, self.acc_range) not in self.ranges:
            status = PMD_STATUS_INVALID_RANGE
        if status != PMD_STATUS_SUCCESS:
            self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, status)
            return
        self.acc_rate = rate
        self.acc_range = chosen.get(PMD_SETTING_RANGE, self.acc_range)
        params_out = b""
        if self.frame_type != PMD_FRAME_RAW_INT16:
            params_out = bytes((PMD_SETTING_FACTOR, 1)) + struct.pack("<f", self.factor())
        self._reply(PMD_OP_START, PMD_MEASUREMENT_ACC, PMD_STATUS_SUCCESS, params_out)
        self.start_stream()


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
THINGY_INTERVAL_RANGE_MS: Final = (100, 5000)  # BLE_TMS_CONFIG_{PEDO,TEMP,COMP}_INT_MIN/MAX
THINGY_MPU_FREQ_RANGE_HZ: Final = (1, 200)  # BLE_TMS_CONFIG_MPUF_MIN/MAX
THINGY_ACCEL_Q: Final = 1 << 10  # Q6.10
THINGY_COMPASS_Q: Final = 1 << 4  # Q12.4
# A still board in a mid-latitude Earth field, µT: what the compass channel carries unchanged.
THINGY_COMPASS_UT: Final = (20.0, 0.0, -45.0)


class ThingyFirmware(Firmware):
    """Starts with pedometer 1000 ms, temperature and compass compensation 500 ms, 10 Hz motion
    processing and wake on motion; the host writes the frequency it wants."""

    profile = "thingy"

    def __init__(
        self,
        address: str,
        source: SampleSource,
        *,
        clock: DeviceClock,
        battery: Battery,
        faults: Faults,
        motion_freq_hz: int = 10,
    ) -> None:
        self.config = (1000, 500, 500, motion_freq_hz, 1)
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
        return float(self.config[3])

    def samples_per_packet(self) -> int:
        return 1

    def frame(self, first_index: int, xyz_g: Float32Array) -> bytes:
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
        lo, hi = THINGY_INTERVAL_RANGE_MS
        if (
            not all(lo <= v <= hi for v in (pedo, temp, comp))
            or not THINGY_MPU_FREQ_RANGE_HZ[0] <= freq <= THINGY_MPU_FREQ_RANGE_HZ[1]
            or wom > 1
        ):
            raise AttError(defs.ATT_WRITE_NOT_PERMITTED, "motion config out of range")
        changed = freq != self.config[3]
        self.config = (pedo, temp, comp, freq, wom)
        if changed and self.streaming:
            self.stop_stream()
            self.start_stream()


def nearest_period_ms(rate_hz: float) -> int:
    """The micro:bit period that gives the rate closest to ``rate_hz``."""
    return min(MICROBIT_PERIODS_MS, key=lambda p: abs(math.log(1000.0 / p / rate_hz)))
