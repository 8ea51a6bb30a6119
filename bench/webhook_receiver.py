"""A webhook receiver for the relay bench, in a process of its own (so it does not share the relay's
interpreter): HTTP/1.1 keep-alive on 127.0.0.1, checks each request's HMAC signature as a real receiver
must, counts distinct event ids and duplicates, and answers 200. Both of the webhook adapter's modes are
taken: one event per request (application/cloudevents+json, X-Traveler-Event-Id) and a batch per request
(application/cloudevents-batch+json, a JSON array). GET /count answers {"distinct", "duplicates",
"bad_signatures", "requests"}; DELETE /count starts over.

    receiver = start(secret)    # -> (process, url); stop(process) ends it
    receiver = start(secret, latency=0.005)    # each answer 5 ms late, as a receiver across a network
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import multiprocessing
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _serve(secret: str, port_pipe, latency: float = 0.0) -> None:
    key = secret.encode()
    seen: set[str] = set()
    counts = {"duplicates": 0, "bad_signatures": 0, "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (40 ms)

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            counts["requests"] += 1
            expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Traveler-Signature", "")):
                counts["bad_signatures"] += 1
                self._answer(401, {"error": "bad signature"})
                return
            if latency:
                time.sleep(latency)  # the network's round trip and the receiver's own work, as it would be
            document = json.loads(body)
            for event in document if isinstance(document, list) else [document]:
                if event["id"] in seen:
                    counts["duplicates"] += 1
                seen.add(event["id"])
            self._answer(200, {"ok": True})

        def do_GET(self):  # noqa: N802
            self._answer(200, {"distinct": len(seen), **counts})

        def do_DELETE(self):  # noqa: N802
            seen.clear()
            counts.update(duplicates=0, bad_signatures=0, requests=0)
            self._answer(200, {"ok": True})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_pipe.send(server.server_address[1])
    server.serve_forever()


def start(secret: str, latency: float = 0.0) -> tuple[multiprocessing.Process, str]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(secret, child, latency), daemon=True)
    process.start()
    if not parent.poll(20):
        process.kill()
        raise RuntimeError("the bench's webhook receiver did not start")
    port = parent.recv()
    return process, f"http://127.0.0.1:{port}/hooks/traveler"


def _request(url: str, method: str) -> dict:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, "/count")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def counts(url: str) -> dict:
    return _request(url, "GET")


def reset(url: str) -> None:
    _request(url, "DELETE")


def stop(process: multiprocessing.Process) -> None:
    process.terminate()
    process.join(5)
