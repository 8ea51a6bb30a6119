"""The record bench's floor: raw psycopg doing the writes of a recorded value (measurement, audit event
with its chain head locked and moved on and its HMAC, outbox row) in one transaction, at the same
concurrency as the tablets, with one connection per tablet — what the database must do whatever the app."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
import uuid

import psycopg

from .procs import cpu_seconds, percentile


def floor(url: str, concurrency: int, seconds: float) -> dict:
    """Raw psycopg: measurement + audit event (its chain head locked and moved on, the event's HMAC) +
    outbox row in one transaction, per recorded value — what the database must do whatever the app."""
    run = uuid.uuid4().hex[:8]
    secret = os.urandom(32)
    stop = time.monotonic() + seconds
    done, latencies, lock, db_cpu = [0], [], threading.Lock(), [0.0]
    with psycopg.connect(url) as conn:
        step_id, char_id, user_id = conn.execute(
            "SELECT s.id, c.id, (SELECT id FROM auth_user WHERE username='op0') FROM travelers_travelerstep s "
            "JOIN travelers_travelercharacteristic c ON c.step_id = s.id LIMIT 1"
        ).fetchone()

    def worker(n: int) -> None:
        chain = f"floor:{run}:{n}"
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES (%s, 0, %s)",
                (chain, "0" * 64),
            )
            conn.commit()
            backend_cpu = cpu_seconds(conn.info.backend_pid)  # its PostgreSQL backend (on this machine)
            i = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                with conn.transaction():
                    seq, prev = conn.execute(
                        "SELECT last_seq, last_hash FROM compliance_auditchainhead WHERE chain = %s FOR UPDATE",
                        (chain,),
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO travelers_measurement (step_id, characteristic_id, entered_value, entered_unit, "
                        "value_numeric, value_text, judgment, deviation, spec_revision, spec_unit, spec_lower, "
                        "spec_upper, source, device, device_endpoint, device_raw, recorded_at, recorded_by_id, "
                        "correction_reason) VALUES (%s, %s, '10.000', 'mm', 10.0, '', 'in_spec', 0, 'r1', 'mm', 9.99, "
                        "10.01, 'manual', '', '', '', now(), %s, '')",
                        (step_id, char_id, user_id),
                    )
                    content = json.dumps([chain, seq + 1, "measurement.recorded", prev], separators=(",", ":"))
                    digest = hmac.new(secret, content.encode(), hashlib.sha256).hexdigest()
                    conn.execute(
                        "INSERT INTO compliance_auditevent (chain, seq, occurred_at, actor_id, actor_name, action, "
                        "object_type, object_id, changes, reason, request_id, seal, key_id, prev_hash, hash) VALUES "
                        "(%s, %s, now(), %s, 'x', 'measurement.recorded', 'm', '1', '{}', '', '', '', 'bench', %s, %s)",
                        (chain, seq + 1, user_id, prev, digest),
                    )
                    conn.execute(
                        "UPDATE compliance_auditchainhead SET last_seq = %s, last_hash = %s WHERE chain = %s",
                        (seq + 1, digest, chain),
                    )
                    conn.execute(
                        "INSERT INTO events_outboxmessage (message_id, created_at, event_type, schema_version, "
                        "aggregate_type, aggregate_id, site_code, work_center_code, payload, attempts, last_error) "
                        "VALUES (gen_random_uuid(), now(), 'measurement.recorded', 1, 'traveler', 'T', 'BEN', "
                        "'CELL', '{}', 0, '')"
                    )
                i += 1
                with lock:
                    done[0] += 1
                    latencies.append((time.perf_counter() - started) * 1000)
            with lock:
                db_cpu[0] += cpu_seconds(conn.info.backend_pid) - backend_cpu

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "rate": done[0] / elapsed,
        "count": done[0],
        "db_cpu_ms": db_cpu[0] * 1000 / max(done[0], 1),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
    }
