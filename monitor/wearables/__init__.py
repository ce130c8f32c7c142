"""BLE acquisition: device profiles and the link that streams from a wearable (an I/O edge).

    from monitor.wearables.link import WearableLink
    from monitor.wearables.profiles import StreamConfig, make_profile
    from monitor.wearables.scanner import WearableTarget

    link = WearableLink(
        WearableTarget.from_config(w.address, w.name, w.service_uuid),
        make_profile(w.profile, StreamConfig(w.rate_hz, w.range_g)),
        config.link,
    )

`link.run()` streams forever (until `link.stop()`); `await link.get()` (or `async for`) yields
`SampleBlock`s for the pipeline and `LinkEvent`s (monitor.core.links) for the store, in data order.

The shape, one job per module:
- `link`: the Bleak lifecycle only (scan, connect, stream, teardown, backoff, silence watchdog,
  link states); it stashes each notification with its arrival time and hands batches of them to
  the assembler.
- `streamstart`: connect, subscribe and run the profile's start sequence (pairing once when the
  device asks), the battery characteristic and the teardown: the one copy, shared by the link and
  `doctor` (`sitbreak doctor`: find, connect, start, stream a few seconds, check, advise), whose
  judgement (rates, gravity, packets, the next step for every failure) is `diagnose`, pure.
- `assembler`: pure. Bytes -> `profile.decode` -> `timeline` -> `SampleBlock`s and the events that
  sit in the data (gaps, tallies of dropped packets, holds, clock steps), with its counters.
- `clockwatch`: arrival times (loop time -> UTC) and host clock steps, with injectable clocks;
  `hostclock` words a step's likely cause from what the kernel or timesyncd says.
- `timeline` (pure): where a packet's samples go on the data-time axis; `devclock` (pure): the
  device's time against its arrivals (never timed after them by more than the tolerance: re-timed,
  re-anchored or dropped), which the timeline applies. `queue`: the hand-over that never blocks the
  Bluetooth callback. `scanner`, `watchdog`, `backoff`: the lifecycle's parts.
- `profiles/`, `sitsense_format`, `settings`: pure descriptions of the wearables and the link.

Kept free of imports so `monitor.config` can read `settings` and `profiles.base` without
loading Bleak.
"""
