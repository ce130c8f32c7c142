"""A simulated sitbreak wearable: motion model, firmware and a BlueZ emulator, for tests and the demo."""
