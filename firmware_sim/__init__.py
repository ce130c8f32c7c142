"""A simulated sitbreak wearable: motion model, firmware and a BlueZ emulator, for tests and the demo.

motion.py       activity schedule -> tri-axial acceleration (thigh, waist, wrist)
source.py       where a firmware gets its samples (motion model, constant, test waves)
gatt.py         the peripheral's GATT table as firmware declares it
device.py       what every firmware shares: device clock, battery, packet faults, the streaming loop
firmware.py     the sitbreak reference firmware (docs/firmware-protocol.md)
vendors.py      BBC micro:bit, Polar PMD and Nordic Thingy:52 as the simulator presents them
wearable.py     SimulatedWearable: one firmware plus its radio, and the fault switches
bus.py          a private dbus-daemon and a fake bluetoothctl
bluez*.py       the bluetoothd emulator Bleak talks to (daemon, object tree, GATT, BlueZ names)
__main__.py     python -m firmware_sim: wearables on a private bus for use by hand
"""
