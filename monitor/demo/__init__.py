"""The demo: a simulated office day through the real service, and everything only it needs.

`sitbreak demo` (`monitor.commands.demo`) is a thin command over this package:

- `run`       the live run: private D-Bus, the emulator process, the service, a broker, the phone
- `emulator`  the simulated wearable's child process (`python -m monitor.demo.emulator`)
- `phone`     the console "phone", an ordinary MQTT client that prints nudges and answers them
- `mosquitto` the machine's Mosquitto as a child process: the broker the demo prefers
- `broker`    the embedded MQTT broker, for machines without Mosquitto
- `offline`   `sitbreak demo --offline`: the pipeline alone, compared with the simulated schedule

This is the only product package that imports `firmware_sim` (the simulated wearable), so the service
itself never depends on the simulator. Importing the package itself loads nothing: the emulator child
process must start without the service's imports (SciPy alone is ~75 MiB).
"""
