"""Piping the command line into `head` ends quietly, as Unix tools do."""
import fcntl
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipes")


# `check 001` prints ~15 kB, more than the pipe below holds. (The rules table, ~2 kB, fits
# in any pipe, so it could not fail here; it calls the same guard.)
def test_a_reader_that_stops_early_gets_no_traceback():
    argv = ["-m", "autograd_mini.cli", "check", "001"]
    read_end, write_end = os.pipe()
    # The smallest pipe (one page), so the writer outgrows it and meets the closed end
    # instead of finishing into the kernel's buffer before the reader leaves.
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([sys.executable, *argv], stdout=write_end,
                            stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()                 # `| head -1`
    _, err = proc.communicate(timeout=120)
    assert first.strip(), "the command printed nothing"
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
