"""REST webhook (outbound): each outbox event is POSTed to settings["url"] as its CloudEvents-style JSON.

Headers: Content-Type application/cloudevents+json; X-Traveler-Event-Id (the event's stable id:
receivers de-duplicate on it); X-Traveler-Event-Type; X-Traveler-Signature: sha256=<hex HMAC-SHA256
of the exact body, keyed with the adapter's secret>. A 2xx answer is delivered; anything else (another
status, a timeout, a refused connection) is an error the relay retries with its per-delivery backoff.
Without a secret nothing is sent: an unsigned event cannot be trusted by the receiver.

settings: url (required), timeout (seconds, default 5)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from integrations.errors import DeliveryFailed
from mes.events.services import cloudevent

from .base import AdapterImpl

CONTENT_TYPE = "application/cloudevents+json"


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def body_of(message) -> bytes:
    return json.dumps(cloudevent(message), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Impl(AdapterImpl):
    def poll(self) -> int:
        return 0  # outbound only: a webhook adapter left marked inbound has nothing to fetch

    def publish(self, messages) -> dict[int, str | None]:
        url = self.setting("url")
        if not url:
            raise DeliveryFailed(f"webhook {self.adapter.name} has no url in its settings")
        secret = self.adapter.secret()
        if not secret:
            raise DeliveryFailed(
                f"webhook {self.adapter.name} has no secret: set {self.adapter.secret_env or 'secret_env'}"
            )
        outcome: dict[int, str | None] = {}
        timeout = float(self.setting("timeout", 5))
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            for message in messages:
                body = body_of(message)
                headers = {
                    "Content-Type": CONTENT_TYPE,
                    "X-Traveler-Event-Id": str(message.message_id),
                    "X-Traveler-Event-Type": message.event_type,
                    "X-Traveler-Signature": signature(body, secret),
                }
                try:
                    response = client.post(url, content=body, headers=headers)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    # the receiver is down: the rest would fail the same way, so they wait too
                    error = f"{url} unreachable: {type(exc).__name__}: {exc}"
                    return {**outcome, **{m.pk: error for m in messages if m.pk not in outcome}}
                except httpx.HTTPError as exc:
                    outcome[message.pk] = f"{type(exc).__name__}: {exc}"
                    continue
                if response.is_success:
                    outcome[message.pk] = None
                else:
                    outcome[message.pk] = f"HTTP {response.status_code}: {response.text[:200]}"
        return outcome
