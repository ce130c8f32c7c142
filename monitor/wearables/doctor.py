"""`sitbreak doctor`: what a person runs first with new hardware.

    report = await examine(DoctorRequest(address="F0:5E:00:00:00:01"), progress=print)
    report.ok, report.checks, report.next_step(), report.to_dict()

In order, stopping at the first step that fails (every later check is then "skipped"):
1. Bluetooth and the scan: listen for advertisements; list every device a profile claims; take the
   one asked for (address or `--name`), else the strongest claimed one.
2. Connect (as the link does), list its GATT services by name, pick the profile: `--profile`, else
   the one its advertisement matches, else the one whose service it has; check the profile's
   service and data characteristic are there.
3. Start the stream with the link's own code (`streamstart`: the same subscriptions, the profile's
   start sequence with its read-backs, pairing once if the device asks), read the battery.
4. Listen for `seconds`, then measure and judge (`diagnose`): data kept coming; the sample rate
   against the rate the profile expects after the start (the micro:bit's read-back period, the
   Thingy's DMP rate, the Polar's chosen setting); about 1 g at rest (or "it moved"); lost,
   repeated, reordered and malformed packets counted as the service counts them; battery; signal.
5. Pause the wearable (the profile's stop writes) and disconnect.

Every failure carries one plain next step (`Check.fix`); `DoctorReport.next_step()` is the first.
The module prints nothing: `progress` gets a line per stage, the command formats the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.uuids import uuidstr_to_str
from bleak_retry_connector import BleakClientWithServiceCache

from monitor.wearables.assembler import Who
from monitor.wearables.diagnose import (
    Check,
    Stage,
    Status,
    StreamStats,
    advise,
    battery_check,
    gravity_check,
    measure,
    packets_check,
    rate_check,
    signal_check,
    stream_check,
    wrong_firmware_fix,
)
from monitor.wearables.profiles import (
    PROFILE_CLASSES,
    DeviceProfile,
    ProfileName,
    StreamConfig,
    make_profile,
    match_profile,
)
from monitor.wearables.scanner import as_advertisement
from monitor.wearables.settings import LinkSettings
from monitor.wearables.streamstart import (
    ControlPoint,
    battery_level,
    connect,
    start_stream,
    subscribe_battery,
    teardown,
)

DEFAULT_SECONDS = 10.0
DEFAULT_SCAN_S = 10.0
# Every check, in report order; those not reached are reported as skipped.
CHECK_NAMES = (
    "bluetooth",
    "found",
    "connected",
    "services",
    "started",
    "stream",
    "sample rate",
    "gravity",
    "packets",
    "battery",
    "signal",
)
# Services bleak has no name for: the profiles' own.
_SERVICE_NAMES = {cls.service_uuid: f"{cls.title} service" for cls in PROFILE_CLASSES.values()}


@dataclass(frozen=True, slots=True)
class DoctorRequest:
    """What to examine and how: the target (address or name pattern, else the strongest claimed
    device), the profile (else picked), the rate and range to ask for, how long to listen."""

    address: str | None = None
    name: str | None = None
    profile: ProfileName | None = None
    rate_hz: float = 50.0
    range_g: int = 8
    seconds: float = DEFAULT_SECONDS
    scan_s: float = DEFAULT_SCAN_S
    settings: LinkSettings = field(default_factory=LinkSettings)


@dataclass(frozen=True, slots=True)
class Heard:
    """A device heard advertising: the profile its advertisement matches, if any."""

    address: str
    name: str | None
    rssi: int
    profile: ProfileName | None


@dataclass(frozen=True, slots=True)
class Service:
    uuid: str
    name: str


@dataclass(slots=True)
class DoctorReport:
    """Everything the doctor saw and concluded (see `to_dict` for the JSON form)."""

    heard: list[Heard] = field(default_factory=list)
    device: Heard | None = None
    services: list[Service] = field(default_factory=list)
    profile: ProfileName | None = None
    profile_from: str = ""
    expected_hz: float | None = None
    paired: bool = False
    start_steps: list[str] = field(default_factory=list)
    stats: StreamStats | None = None
    battery: int | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.status is not Status.FAIL for c in self.checks)

    def next_step(self) -> str | None:
        """The fix of the first failed check, else of the first warning, else None."""
        for status in (Status.FAIL, Status.WARN):
            for check in self.checks:
                if check.status is status and check.fix:
                    return check.fix
        return None

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def skip_rest(self) -> None:
        """Mark every check not reached as skipped, and put them all in report order."""
        done = {c.name for c in self.checks}
        for name in CHECK_NAMES:
            if name not in done:
                self.checks.append(Check(name, Status.SKIPPED, "not reached"))
        self.checks.sort(key=lambda c: CHECK_NAMES.index(c.name))

    def to_dict(self) -> dict[str, Any]:
        stats = asdict(self.stats) if self.stats is not None else None
        return {
            "ok": self.ok,
            "next_step": self.next_step(),
            "device": asdict(self.device) if self.device is not None else None,
            "profile": self.profile.value if self.profile is not None else None,
            "profile_from": self.profile_from,
            "expected_hz": self.expected_hz,
            "paired": self.paired,
            "start_steps": self.start_steps,
            "battery": self.battery,
            "services": [asdict(s) for s in self.services],
            "heard": [asdict(h) for h in self.heard],
            "stream": stats,
            "checks": [asdict(c) for c in self.checks],
        }


def service_name(uuid: str) -> str:
    """Bluetooth SIG and well-known vendor names (bleak's table), then sitbreak's profiles."""
    name = uuidstr_to_str(uuid)
    return _SERVICE_NAMES.get(uuid.lower(), name) if name == "Unknown" else name


class _Listener:
    """The notifications of the window (arrival, payload) and why the stream ended early, if it did."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.received: list[tuple[float, bytes]] = []
        self.recording = False  # from the end of the start on: the profile's rate is in force
        self.ended: asyncio.Future[str] = loop.create_future()
        self.ended_at: float | None = None
        self.battery: int | None = None

    def on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if self.recording:
            self.received.append((self.loop.time(), bytes(data)))

    def end(self, why: str) -> None:
        if not self.ended.done():
            self.ended_at = self.loop.time()
            self.ended.set_result(why)

    def on_disconnected(self, _client: BleakClientWithServiceCache) -> None:
        self.end("disconnected")

    def on_battery(self, _char: BleakGATTCharacteristic | None, data: bytearray) -> None:
        self.battery = battery_level(data)


async def survey(request: DoctorRequest) -> tuple[list[Heard], dict[str, BLEDevice]]:
    """Listen for `scan_s`, or until the device asked for (address or name) advertises. Returns
    what was heard, strongest first (claimed devices and the one asked for), and their BLEDevices."""
    heard: dict[str, tuple[BLEDevice, AdvertisementData]] = {}
    found = asyncio.Event()

    def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
        if request.address is not None:
            return device.address.upper() == request.address.upper()
        name = adv.local_name or device.name
        return request.name is not None and name is not None and fnmatch.fnmatchcase(name, request.name)

    def detected(device: BLEDevice, adv: AdvertisementData) -> None:
        if wanted(device, adv) or match_profile(as_advertisement(device, adv)) is not None:
            heard[device.address] = (device, adv)
        if wanted(device, adv):
            found.set()

    scanner = BleakScanner(detection_callback=detected)
    await scanner.start()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(request.scan_s):
                await found.wait()
    finally:
        with contextlib.suppress(Exception):
            await scanner.stop()
    rows = [
        Heard(d.address, a.local_name or d.name, a.rssi, match_profile(as_advertisement(d, a)))
        for d, a in heard.values()
    ]
    rows.sort(key=lambda h: h.rssi, reverse=True)
    return rows, {address: device for address, (device, _) in heard.items()}


def choose(request: DoctorRequest, heard: list[Heard]) -> Heard | None:
    """The device asked for, else the strongest one a profile claims."""
    for h in heard:
        if request.address is not None and h.address.upper() == request.address.upper():
            return h
        if request.name is not None and h.name is not None and fnmatch.fnmatchcase(h.name, request.name):
            return h
    if request.address is None and request.name is None:
        return next((h for h in heard if h.profile is not None), None)
    return None


def pick_profile(
    request: DoctorRequest, device: Heard, services: list[Service]
) -> tuple[ProfileName | None, str]:
    """`--profile`, else the advertisement's match, else the first profile whose service it has."""
    if request.profile is not None:
        return request.profile, "--profile"
    if device.profile is not None:
        return device.profile, "its advertisement"
    uuids = {s.uuid.lower() for s in services}
    for name, cls in PROFILE_CLASSES.items():
        if cls.service_uuid in uuids:
            return name, "its GATT services"
    return None, ""


async def examine(request: DoctorRequest, progress: Callable[[str], None] | None = None) -> DoctorReport:
    """Run the doctor (see the module docstring). Never raises for what it examines: every
    failure is a failed check with its next step."""
    say = progress or (lambda _line: None)
    report = DoctorReport()
    try:
        await _examine(request, report, say)
    finally:
        report.skip_rest()
    return report


async def _examine(request: DoctorRequest, report: DoctorReport, say: Callable[[str], None]) -> None:
    what = request.address or request.name or "any wearable a profile claims"
    say(f"listening for {what} (up to {request.scan_s:g} s)...")
    try:
        report.heard, devices = await survey(request)
    except Exception as exc:
        detail, fix = advise(exc, Stage.SCAN, request.profile)
        report.add("bluetooth", Status.FAIL, detail, fix)
        return
    report.add("bluetooth", Status.OK, "the adapter is on and scanning")
    device = choose(request, report.heard)
    if device is None:
        report.add("found", Status.FAIL, _not_found(request), _not_found_fix(request))
        return
    report.device = device
    claim = f", {device.profile.value} by its advertisement" if device.profile else ""
    report.add(
        "found", Status.OK, f"{device.name or '(no name)'} ({device.address}) at {device.rssi} dBm{claim}"
    )
    await _connected(request, report, devices[device.address], device, say)


async def _connected(
    request: DoctorRequest, report: DoctorReport, ble: BLEDevice, device: Heard, say: Callable[[str], None]
) -> None:
    listener = _Listener(asyncio.get_running_loop())
    who = Who(device.name or device.address, device.address)
    say(f"connecting to {who.name}...")
    try:
        client = await connect(ble, who.name, request.settings, listener.on_disconnected)
    except Exception as exc:
        report.add("connected", Status.FAIL, *advise(exc, Stage.CONNECT, device.profile))
        return
    report.add("connected", Status.OK, f"connected to {device.address}")
    visit = _Visit(request, report, client, listener, who, say)
    profile: DeviceProfile | None = None
    try:
        profile = visit.services(device)
        if profile is not None and await visit.start(profile):
            await visit.listen(profile)
    finally:
        say("disconnecting...")
        if profile is not None:
            await teardown(client, profile, request.settings, who, pause=True)
        else:
            with contextlib.suppress(Exception):
                await client.disconnect()


@dataclass(slots=True)
class _Visit:
    """One connection's checks: services and profile, start, listen."""

    request: DoctorRequest
    report: DoctorReport
    client: BleakClientWithServiceCache
    listener: _Listener
    who: Who
    say: Callable[[str], None]

    def services(self, device: Heard) -> DeviceProfile | None:
        report, services = self.report, self.client.services
        report.services = [Service(s.uuid, service_name(s.uuid)) for s in services]
        listed = ", ".join(s.name for s in report.services) or "none"
        name, source = pick_profile(self.request, device, report.services)
        if name is None:
            detail = f"no profile knows this device; its services: {listed}"
            report.add("services", Status.FAIL, detail, wrong_firmware_fix(None))
            return None
        profile = make_profile(name, StreamConfig(rate_hz=self.request.rate_hz, range_g=self.request.range_g))
        report.profile, report.profile_from = name, source
        missing = []
        if services.get_service(profile.service_uuid) is None:
            missing.append(f"the {profile.title} service {profile.service_uuid}")
        if services.get_characteristic(profile.data_uuid) is None:
            missing.append(f"its data characteristic {profile.data_uuid}")
        if missing:
            detail = f"{' and '.join(missing)} missing; it has: {listed}"
            report.add("services", Status.FAIL, detail, wrong_firmware_fix(name))
            return None
        report.add("services", Status.OK, f"{listed}; profile {name.value} (from {source})")
        return profile

    async def start(self, profile: DeviceProfile) -> bool:
        """The link's own start (pairing if asked) and the battery; False when it failed."""
        self.say(f"starting the stream ({profile.title})...")
        listener, settings = self.listener, self.request.settings
        control = ControlPoint(profile, self.who, listener.end)
        try:
            async with asyncio.timeout(settings.connect_timeout_s):
                started = await start_stream(
                    self.client, profile, control, listener.on_data, settings=settings, who=self.who
                )
                await subscribe_battery(self.client, listener.on_battery, self.who)
        except Exception as exc:
            self.report.add("started", Status.FAIL, *advise(exc, Stage.START, profile.name))
            return False
        listener.recording = True
        self.report.paired, self.report.start_steps = started.paired, started.steps
        self.report.expected_hz = profile.rate_hz
        paired = "paired first, as it asked; " if started.paired else ""
        steps = ", ".join(started.steps) or "subscribing was enough"
        self.report.add("started", Status.OK, f"{paired}{steps}; {profile.describe()}")
        return True

    async def listen(self, profile: DeviceProfile) -> None:
        """Stream for the window (or until the stream ends), then measure and judge."""
        request, report, listener = self.request, self.report, self.listener
        self.say(f"streaming for {request.seconds:g} s: keep the wearable still...")
        started_at = listener.loop.time()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(request.seconds):
                await asyncio.shield(listener.ended)
        ended_at = listener.ended_at if listener.ended_at is not None else listener.loop.time()
        stats = measure(
            profile, listener.received, request.settings, started_at=started_at, ended_at=ended_at
        )
        report.stats, report.battery = stats, listener.battery
        ended = listener.ended.result() if listener.ended.done() else None
        report.checks.append(stream_check(stats, ended, ended_at - started_at if ended else None))
        if stats.packets:
            report.checks += [rate_check(stats, profile), gravity_check(stats), packets_check(stats, profile)]
        rssi = report.device.rssi if report.device is not None else None
        report.checks += [battery_check(report.battery), signal_check(rssi)]


def _not_found(request: DoctorRequest) -> str:
    if request.address is None and request.name is None:
        return f"no wearable heard in {request.scan_s:g} s"
    return f"{request.address or request.name} not heard in {request.scan_s:g} s"


def _not_found_fix(request: DoctorRequest) -> str:
    return (
        "switch the wearable on (Polar: put it on or press its button; micro:bit: power it) and "
        "bring it next to the Pi; a wearable that is connected elsewhere does not advertise: close "
        "its phone app and stop the service (sudo systemctl stop sitbreak)"
        + ("" if request.address is None else "; check the address with sitbreak scan")
    )
