"""REST webhook (outbound): outbox events are POSTed to settings["url"] as CloudEvents JSON.

Modes (settings "mode"):
- "single" (the default): one event per request, application/cloudevents+json (CloudEvents' structured
  mode), with X-Traveler-Event-Id (the event's stable id: receivers de-duplicate on it) and
  X-Traveler-Event-Type.
- "batch": up to settings "batch_size" (default 100) events per request as a JSON array,
  application/cloudevents-batch+json (CloudEvents' batched mode), with X-Traveler-Event-Count. For
  receivers that take it: one request carries many events, so a busy outbox is drained many times faster.
Every request carries X-Traveler-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with the
adapter's secret>. A 2xx answer delivers what the request carried (every event of a batch); anything else
(another status, a timeout, a refused connection) is an error the relay retries with its per-delivery
backoff, so a batch is delivered whole or retried whole (at least once; receivers de-duplicate by id).
Without a secret nothing is sent: an unsigned event cannot be trusted by the receiver.

A publish holds one keep-alive HTTP/1.1 connection of the standard library's http.client (a third of
httpx's cost a request, which was most of the relay's time in single mode); a receiver that closed the
kept-alive connection between two requests gets the request again on a new one. When the environment
names a proxy for the url (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), httpx sends through it as before.

Lanes (settings "lanes", single mode): with more than one, a batch's events go over that many keep-alive
connections side by side, each aggregate's events (a traveler's) always in the same lane, in the order
written, so a receiver's round trip no longer caps the adapter at one event per round trip — for a
receiver across a network. Events of different travelers may then arrive in another order than written.
The default, one lane, sends every event in the order written.

settings: url (required), timeout (seconds, default 5), mode ("single" or "batch"), batch_size (100),
lanes (1 to 16, default 1)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.client
import ssl
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

import httpx

from integrations.errors import DeliveryFailed
from mes.events.services import cloudevent_json, cloudevents_json

from .base import AdapterImpl

CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
MODES = ("single", "batch")
MAX_BATCH = 1000
MAX_LANES = 16
USER_AGENT = "Traveler-webhook"


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def body_of(message) -> bytes:
    return cloudevent_json(message)


def batch_body_of(messages) -> bytes:
    return cloudevents_json(messages)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, built once per process (httpx reads the certificate store again for
    each client it makes: ~70 ms, once per relay batch)."""
    return httpx.create_ssl_context()


class Impl(AdapterImpl):
    def poll(self) -> int:
        return 0  # outbound only: a webhook adapter left marked inbound has nothing to fetch

    def options(self) -> tuple[str, str, str, int]:
        """(url, secret, mode, batch size), or DeliveryFailed saying what the settings lack."""
        name = self.adapter.name
        url = self.setting("url")
        if not url:
            raise DeliveryFailed(f"webhook {name} has no url in its settings")
        secret = self.adapter.secret()
        if not secret:
            raise DeliveryFailed(f"webhook {name} has no secret: set {self.adapter.secret_env or 'secret_env'}")
        mode = self.setting("mode") or "single"
        if mode not in MODES:
            raise DeliveryFailed(f"webhook {name}: settings 'mode' must be 'single' or 'batch', not {mode!r}")
        size = self.setting("batch_size", 100)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
            raise DeliveryFailed(f"webhook {name}: settings 'batch_size' must be a whole number from 1 to {MAX_BATCH}")
        return url, secret, mode, size

    def publish(self, messages) -> dict[int, str | None]:
        url, secret, mode, size = self.options()
        lanes = self.lanes()
        timeout = float(self.setting("timeout", 5))

        def sender():
            return _Proxied(url, timeout) if _proxied(url) else _Direct(url, timeout, self.adapter.name)

        if mode == "batch":
            with sender() as one:
                return self._batches(one, secret, list(messages), size)
        groups = _by_lane(messages, lanes)
        if len(groups) < 2:
            with sender() as one:
                return self._singles(one, secret, messages)
        # Each lane on a connection of its own, side by side: a receiver's round trip no longer caps the
        # adapter at one event per round trip; a traveler's events keep their order, in one lane.
        outcome: dict[int, str | None] = {}
        with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="webhook-lane") as pool:
            for part in pool.map(lambda group: self._lane(sender, secret, group), groups):
                outcome.update(part)
        return outcome

    def lanes(self) -> int:
        name, lanes = self.adapter.name, self.setting("lanes", 1)
        if isinstance(lanes, bool) or not isinstance(lanes, int) or not 1 <= lanes <= MAX_LANES:
            raise DeliveryFailed(f"webhook {name}: settings 'lanes' must be a whole number from 1 to {MAX_LANES}")
        return lanes

    def _lane(self, sender, secret: str, messages) -> dict[int, str | None]:
        with sender() as one:
            return self._singles(one, secret, messages)

    def _singles(self, sender, secret: str, messages) -> dict[int, str | None]:
        outcome: dict[int, str | None] = {}
        for message in messages:
            body = body_of(message)
            headers = {
                "Content-Type": CONTENT_TYPE,
                "X-Traveler-Event-Id": str(message.message_id),
                "X-Traveler-Event-Type": message.event_type,
                "X-Traveler-Signature": signature(body, secret),
            }
            error, down = sender.post(body, headers)
            if down:  # the receiver is down: the rest would fail the same way, so they wait too
                return {**outcome, **{m.pk: error for m in messages if m.pk not in outcome}}
            outcome[message.pk] = error
        return outcome

    def _batches(self, sender, secret: str, messages, size: int) -> dict[int, str | None]:
        outcome: dict[int, str | None] = {}
        for start in range(0, len(messages), size):
            chunk = messages[start : start + size]
            body = batch_body_of(chunk)
            headers = {
                "Content-Type": BATCH_CONTENT_TYPE,
                "X-Traveler-Event-Count": str(len(chunk)),
                "X-Traveler-Signature": signature(body, secret),
            }
            error, down = sender.post(body, headers)
            if down:
                return {**outcome, **{m.pk: error for m in messages if m.pk not in outcome}}
            outcome.update({m.pk: error for m in chunk})
        return outcome


def _by_lane(messages, lanes: int) -> list[list]:
    """The messages in `lanes` groups, each in order, by what they are about: one aggregate's events (a
    traveler's, say) always fall in the same lane, across batches and processes (CRC-32, not hash())."""
    if lanes == 1:
        return [list(messages)] if messages else []
    groups: list[list] = [[] for _ in range(lanes)]
    for message in messages:
        key = f"{message.aggregate_type}:{message.aggregate_id}".encode()
        groups[zlib.crc32(key) % lanes].append(message)
    return [group for group in groups if group]


def _proxied(url: str) -> bool:
    """Whether the environment names a proxy for `url` (httpx, which honours it, then sends)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    return bool(proxy) and not urllib.request.proxy_bypass(parts.hostname or "")


class _Direct:
    """POSTs to `url` over one keep-alive connection; `post` answers (error or None, receiver unreachable)."""

    def __init__(self, url: str, timeout: float, name: str):
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise DeliveryFailed(f"webhook {name}: url must be http(s)://host[:port]/path, not {url!r}")
        self.url = url
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.extra = {"User-Agent": USER_AGENT}
        if parts.username is not None:  # user info in the url: HTTP basic authentication, as httpx sent it
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.extra["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        if parts.scheme == "https":
            self.conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=_tls_context())
        else:
            self.conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)

    def __enter__(self) -> _Direct:
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def post(self, body: bytes, headers: dict) -> tuple[str | None, bool]:
        kept_alive = self.conn.sock is not None
        try:
            return self._post(body, headers)
        except (ConnectionResetError, BrokenPipeError) as exc:  # http.client's RemoteDisconnected is one
            self.conn.close()
            if not kept_alive:
                return f"{type(exc).__name__}: {exc}", False
        # The receiver closed the kept-alive connection since the last request: once more, on a new one.
        try:
            return self._post(body, headers)
        except (ConnectionResetError, BrokenPipeError) as exc:
            self.conn.close()
            return f"{type(exc).__name__}: {exc}", False

    def _post(self, body: bytes, headers: dict) -> tuple[str | None, bool]:
        if self.conn.sock is None:
            try:
                self.conn.connect()
            except OSError as exc:  # refused, no route, unknown name, connect timeout
                self.conn.close()
                return f"{self.url} unreachable: {type(exc).__name__}: {exc}", True
        try:
            self.conn.request("POST", self.target, body, {**headers, **self.extra})
            response = self.conn.getresponse()
            text = response.read()
        except (ConnectionResetError, BrokenPipeError):
            raise
        except (OSError, http.client.HTTPException) as exc:  # a timeout, an answer that is not HTTP
            self.conn.close()
            return f"{type(exc).__name__}: {exc}", False
        if 200 <= response.status < 300:
            return None, False
        return f"HTTP {response.status}: {text[:200].decode('utf-8', 'replace')}", False


class _Proxied:
    """POSTs to `url` through the environment's proxy, with httpx."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, verify=_tls_context())

    def __enter__(self) -> _Proxied:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def post(self, body: bytes, headers: dict) -> tuple[str | None, bool]:
        return _post(self.client, self.url, body, headers)


def _post(client, url: str, body: bytes, headers: dict) -> tuple[str | None, bool]:
    """(None when the receiver answered 2xx, else the error; whether the receiver could not be reached)."""
    try:
        response = client.post(url, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return f"{url} unreachable: {type(exc).__name__}: {exc}", True
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}", False
    if response.is_success:
        return None, False
    return f"HTTP {response.status_code}: {response.text[:200]}", False
