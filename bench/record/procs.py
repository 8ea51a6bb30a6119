"""What the record bench reads from /proc and the server about the processes it measures: the web
workers' memory and CPU, PostgreSQL's backends' CPU; and two small helpers (a free port, percentiles)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg


def workers_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB, from /proc (Linux)."""
    return sorted(workers_rss_by_pid(master_pid).values())


def workers_rss_by_pid(master_pid: int) -> dict[int, float]:
    """pid -> resident memory in MB of each gunicorn worker (the master's children), from /proc (Linux)."""
    sizes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master_pid:  # the parent's pid
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[int(stat.parent.name)] = int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue
    return sizes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU time the gunicorn workers (the master's children) have used so far, in seconds."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


def backends_cpu(url: str) -> dict[int, float]:
    """pid -> CPU seconds so far of each PostgreSQL backend serving the scratch database (the server runs
    on this machine); a backend that appears later started from 0."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {pid: cpu_seconds(pid) for (pid,) in pids}


def cpu_since(before: dict[int, float], url: str) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backends_cpu(url).items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")
