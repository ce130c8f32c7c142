"""Accelerometer recordings from CSV files, read in bounded chunks as `SampleBlock`s (`sitbreak analyze`).

    csv_reader.py  `CsvRecording`: one file's header, columns and samples (times in Unix seconds,
                   acceleration in g), every row checked
    format.py      `CsvFormat`: how to read a file (columns, units, scale, rate, delimiter), and the
                   checks on those options
    times.py       where the samples' times come from (`TimeKind`), the range analyze handles, and
                   which time options apply to a file
    lines.py       `LineReader`: the file as numbered lines in bounded chunks (.gz, UTF-8, no line
                   read whole)
    messages.py    a user's values and file names as error lines show them

There is no face here: `sitbreak analyze` and the tests import from the modules themselves.
"""
