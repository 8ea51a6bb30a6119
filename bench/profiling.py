"""What the throughput benches share for `--profile`: cProfile around the timed part of one run, and the
top entries printed, by own time and by cumulative time (so a report can quote them before and after)."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import threading
import time


def _print(profiler, title: str, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = profiler if isinstance(profiler, pstats.Stats) else pstats.Stats(profiler)
        stats.stream = out
        stats.strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        print(f"--- profile of {title}, by {order} ---")
        print(text[text.find("   ncalls") :].rstrip(), flush=True)


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
        _print(profiler, "the timed part", top)


class PerKey:
    """cProfile for work done in threads (cProfile sees only the thread it was enabled in): wrap a function
    run in a thread with `wrap(fn, key_of)`; each call is profiled and added to the profile of its key
    (say, the adapter), and its wall time summed. `report(top)` prints each key's."""

    def __init__(self):
        self.stats: dict[str, pstats.Stats] = {}
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def wrap(self, fn, key_of):
        def profiled_call(*args, **kwargs):
            profiler = cProfile.Profile()
            started = time.perf_counter()
            try:
                return profiler.runcall(fn, *args, **kwargs)
            finally:
                seconds = time.perf_counter() - started
                key = key_of(*args, **kwargs)
                with self.lock:
                    self.seconds[key] = self.seconds.get(key, 0.0) + seconds
                    self.calls[key] = self.calls.get(key, 0) + 1
                    if key in self.stats:
                        self.stats[key].add(profiler)
                    else:
                        self.stats[key] = pstats.Stats(profiler, stream=io.StringIO())

        return profiled_call

    def report(self, top: int = 25) -> None:
        for key in sorted(self.stats):
            print(f"=== {key}: {self.calls[key]} calls, {self.seconds[key]:.2f} s wall in all ===")
            _print(self.stats[key], key, top)
