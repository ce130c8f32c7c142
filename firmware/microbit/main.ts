// sitbreak wearable: a BBC micro:bit (V1 or V2) that streams its accelerometer over Bluetooth.
//
// The accelerometer service sends x, y, z at every accelerometer update. Its period starts at
// 20 ms (50 Hz, the accelerometer driver's default); sitbreak writes the period it wants (20 ms for
// the default 50 Hz) each time it connects and reads back the period the board really uses.
// The range stays at the default ±2 g: posture is about gravity, and sitbreak assumes ±2 g.
bluetooth.startAccelerometerService()
// Full transmit power: the board sits in a trouser pocket, behind the body from the Pi.
bluetooth.setTransmitPower(7)
basic.showIcon(IconNames.No)

// A tick while sitbreak is connected, a cross while it is not: enough to see it works.
bluetooth.onBluetoothConnected(function () {
    basic.showIcon(IconNames.Yes)
})
bluetooth.onBluetoothDisconnected(function () {
    basic.showIcon(IconNames.No)
})
