"""What the throughput benches share for `--profile`: cProfile around the timed part of one run, and the
top entries printed, by own time and by cumulative time (so a report can quote them before and after)."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats


@contextlib.contextmanager
def profiled(enabled: bool, *, top: int = 25):
    """Profile the block when `enabled`; print its top `top` entries when it ends."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
            stats.print_stats(top)
            text = out.getvalue()
            print(f"--- profile of the timed part, by {order} ---")
            print(text[text.find("   ncalls") :].rstrip(), flush=True)
