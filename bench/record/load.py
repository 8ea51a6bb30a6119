"""The record bench's load: asyncio tablets (httpx) walking their travelers through the API — start a
step, record its values (a value per request, or the step's form at once), sign — and the soak that
drives the server longer while sampling each web worker's memory."""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time

import httpx

from .data import CHARS, PIN, STEPS
from .procs import percentile, workers_rss_by_pid


async def tablet(client, base: str, tab: dict, mode: str, deadline: float, stats: dict) -> None:
    """One tablet walking its travelers one after the other (see walk) until the deadline. A connection
    the server dropped (a worker restarted, a keep-alive closed) is counted as an error and the tablet goes
    on with its next traveler, as a tablet would after a reload."""
    for number in tab["travelers"]:
        try:
            await walk(client, base, tab, number, mode, deadline, stats)
        except httpx.TransportError as exc:
            stats["counts"][f"connection {type(exc).__name__}"] += 1
        if time.monotonic() > deadline:
            return
    stats["counts"]["tablets out of travelers"] += 1  # not an error: the tablet had nothing left to do


async def walk(client, base: str, tab: dict, number: str, mode: str, deadline: float, stats: dict) -> None:
    """One tablet walking one traveler: start a step, record its values (one request per value, or the
    step's form at once), sign it performed with the PIN; the next step."""
    headers = {"Authorization": f"Bearer {tab['token']}"}
    counts = stats["counts"]
    for s in range(1, STEPS + 1):
        if time.monotonic() > deadline:
            return
        step_url = f"{base}/api/travelers/{number}/steps/{s * 10}"
        r = await client.post(f"{step_url}/start", headers=headers)
        if r.status_code >= 400:
            counts[f"start {r.status_code}"] += 1
            return
        values = [
            {"characteristic": f"D{c:02d}", "value": f"{10 + (c % 3 - 1) * 0.002:.3f}", "unit": "mm"}
            for c in range(1, CHARS + 1)
        ]
        if mode == "batch":
            started = time.perf_counter()
            r = await client.post(f"{step_url}/measurements/batch", headers=headers, json={"values": values})
            stats["latencies"].append((time.perf_counter() - started) * 1000)
            counts["ok" if r.status_code == 201 else f"record {r.status_code}"] += len(values)
            if r.status_code != 201:
                stats["samples"].setdefault(f"record {r.status_code}", r.text[:300])
        else:
            for body in values:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                r = await client.post(f"{step_url}/measurements", headers=headers, json=body)
                stats["latencies"].append((time.perf_counter() - started) * 1000)
                counts["ok" if r.status_code == 201 else f"record {r.status_code}"] += 1
                if r.status_code != 201:
                    stats["samples"].setdefault(f"record {r.status_code}", r.text[:300])
        started = time.perf_counter()
        r = await client.post(
            f"{step_url}/sign",
            headers=headers,
            json={"meaning": "performed", "secret": PIN, "username": tab["username"]},  # a token signs with the user id
        )
        stats["sign"].append((time.perf_counter() - started) * 1000)
        counts["signed" if r.status_code == 200 else f"sign {r.status_code}"] += 1
        if r.status_code != 200:
            stats["samples"].setdefault(f"sign {r.status_code}", r.text[:300])


async def drive(base: str, tablets: list[dict], mode: str, seconds: float, *, walk_all: bool = False) -> dict:
    stats = {"latencies": [], "sign": [], "samples": {}, "counts": collections.Counter(ok=0, signed=0)}
    limits = httpx.Limits(max_connections=len(tablets) + 5, max_keepalive_connections=len(tablets) + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(tablet(client, base, t if walk_all else {**t, "travelers": [t["traveler"]]}, mode, deadline, stats)
              for t in tablets)
        )  # fmt: skip
        elapsed = time.monotonic() - started
    counts, latencies = stats["counts"], stats["latencies"]
    return {
        "rate": counts["ok"] / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "sign_p50": percentile(stats["sign"], 50),
        "errors": sum(v for k, v in counts.items() if k not in ("ok", "signed", "tablets out of travelers")),
        "counts": dict(counts),
        "error_samples": stats["samples"],
        "seconds": elapsed,
    }


def soak(base: str, master_pid: int, tablets: list[dict], mode: str, seconds: float) -> None:
    """Drive the server for `seconds` and sample each web worker's resident memory every few seconds;
    print the samples and each worker's growth from the end of the first minute (or tenth) to the end."""
    interval = max(5.0, seconds / 40)
    samples: list[tuple[float, dict[int, float]]] = []
    stop = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while True:
            samples.append((time.monotonic() - started, workers_rss_by_pid(master_pid)))
            if stop.wait(interval):
                samples.append((time.monotonic() - started, workers_rss_by_pid(master_pid)))
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        app = asyncio.run(drive(base, tablets, mode, seconds, walk_all=True))
    finally:
        stop.set()
        sampler.join()
    print(json.dumps({"soak": {"tablets": len(tablets), "mode": mode, "app": app}}), flush=True)
    pids = sorted({pid for _, sizes in samples for pid in sizes})
    print(
        f"\nsoak: {len(tablets)} tablets, mode {mode}, {seconds:.0f} s: {app['rate']:.1f} values/s, p95 "
        f"{app['p95']:.1f} ms, {app['errors']} errors; resident memory of each web worker (MB) over time"
    )
    print(f"{'s':>6} " + " ".join(f"{'pid ' + str(pid):>10}" for pid in pids))
    for at, sizes in samples:
        print(f"{at:>6.0f} " + " ".join(f"{sizes[pid]:>10.1f}" if pid in sizes else f"{'-':>10}" for pid in pids))
    warm = min(60.0, seconds / 10)
    after_warmup = next((sizes for at, sizes in samples if at >= warm), samples[-1][1])
    last_at, last = samples[-1]
    for pid in pids:
        if pid in after_warmup and pid in last:
            growth = last[pid] - after_warmup[pid]
            minutes = max(last_at - warm, 1e-9) / 60
            print(
                f"worker {pid}: {after_warmup[pid]:.1f} MB at {warm:.0f} s -> {last[pid]:.1f} MB at {last_at:.0f} s "
                f"({growth:+.1f} MB, {growth / minutes:+.2f} MB/min)"
            )
        else:
            print(f"worker {pid}: not there for the whole soak (started or ended during it)")
