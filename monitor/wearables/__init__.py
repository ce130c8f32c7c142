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
`SampleBlock`s for the pipeline and `LinkEvent`s (monitor.core.links) for the store, in data
order. Kept free of imports so `monitor.config` can read `settings` and `profiles.base` without
loading Bleak.
"""
