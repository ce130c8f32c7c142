"""The service: the wiring of one wearable's parts, link -> pipeline -> policy -> store and MQTT.

- `wearable`:       `WearableService`, one `[[wearables]]` entry end to end (only moves data between
                    the pure core and the I/O edges; decides nothing itself)
- `today_tally`:    today's totals for the `state` message, by the report's own `day_totals`
- `daily_reporter`: the daily report, built off the event loop, sent once per day

`monitor.daemon` runs one `WearableService` per wearable with signals and sd_notify.
"""

from monitor.service.wearable import WearableService

__all__ = ["WearableService"]
