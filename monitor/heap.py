"""Hand freed heap back to the operating system after a burst of allocation.

Building a daily report reads eight days of epochs (about 700 000 rows) and renders HTML: some
20 MiB that is freed again at once, but glibc keeps freed memory in its arenas, so the resident size
of a service that runs for months would sit that much higher for good. `malloc_trim(0)` returns it
(measured: 135 -> 117 MiB). Where the C library has no malloc_trim (musl, macOS) this does nothing.

The service builds reports in a worker thread, and glibc gives each thread a malloc arena of its
own, which malloc_trim hardly shrinks (measured: of 17 MiB a report left in a worker's arena, 1 MiB
came back, against all but 2 MiB on the main arena). `one_malloc_arena()` makes every thread use the
main arena, so the trim works wherever the report was built.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from typing import Any

_LOGGER = logging.getLogger(__name__)

# mallopt(3) parameter: the most arenas malloc may create (glibc's malloc.h).
_M_ARENA_MAX = -8


def _libc(name: str, argtypes: list[type[ctypes.c_int] | type[ctypes.c_size_t]]) -> Any:
    """A function of the C library by name, typed (argtypes, int result); None where there is none."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    function = getattr(libc, name, None)
    if function is None:
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    trim: Callable[[int], int] | None = _libc("malloc_trim", [ctypes.c_size_t])
    return trim


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS. True when the C library could do it."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    _LOGGER.debug("returned free heap to the OS")
    return True


def one_malloc_arena() -> bool:
    """Let every thread allocate from the main malloc arena (glibc); True when set.

    Call before starting threads: an arena a thread already has stays its own. The service's threads
    (the report worker, paho's network thread) allocate little through malloc (Python's own allocator
    serves small objects), so sharing the arena's lock costs nothing measurable."""
    mallopt: Callable[[int, int], int] | None = _libc("mallopt", [ctypes.c_int, ctypes.c_int])
    if mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, 1))
