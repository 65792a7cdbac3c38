"""Keep freed memory for the next iteration (glibc's malloc, on Linux).

A training loop allocates its activations in forward and frees them all in backward, every
iteration. By default glibc's malloc hands large freed memory back to the operating system:
a free heap top longer than its trim threshold is cut off, and a block longer than its mmap
threshold gets a mapping of its own, unmapped when freed. The next forward then takes the
same memory back one page fault at a time: at the medium size of benchmarks/bptt.py, in a
fresh process, 1,600 faults per iteration, 7-8 ms of system time in 60-80 ms.

glibc raises both thresholds itself once the program frees a large mapped block, up to
32 MiB (mmap) and 64 MiB (trim); a graph of many middle-sized arrays never shows it one.
``keep_freed_memory`` sets those same limits from the start, so up to 64 MiB of freed heap
is kept for reuse rather than returned. Resident memory then stays near its peak between
iterations, as it would in a program that had freed one 32 MiB array.

It runs once, when autograd_mini is imported. Set AUTOGRAD_MINI_KEEP_HEAP=0 in the
environment to leave malloc as it was. Elsewhere than glibc it does nothing.
"""
import ctypes
import os

# mallopt's parameter numbers, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20     # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD     # as glibc's own rule sets it: twice the mmap one


def on_glibc():
    """Whether this process runs on GNU libc (whose malloc takes these settings)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):    # not a GNU system: no such name
        return False


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse (see the module docstring).
    Returns True when the limits were set; False where it does nothing: not glibc, or
    AUTOGRAD_MINI_KEEP_HEAP=0."""
    if os.environ.get("AUTOGRAD_MINI_KEEP_HEAP", "1") == "0" or not on_glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    # (mallopt returns 1 on success, 0 for a value glibc refuses)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
