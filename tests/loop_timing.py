"""Helpers for tests that time the event loop.

A full garbage collection mid-suite takes 150-300 ms on whichever thread triggers it;
counted as loop time it makes a loop-hygiene check fail for a reason that has nothing to
do with the code under test.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Collect everything now, then keep the cyclic collector off until the block ends.

    What a loop-timing window means to measure is the work the code under test puts on
    the loop, not a process-wide collection that happens to start on the loop's thread.
    Reference counting still frees memory; the collector's state is restored after.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
