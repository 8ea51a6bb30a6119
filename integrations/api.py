"""The integrations' JSON API, mounted under /api/ by mes.api (docs/integrations.md):

    POST /api/integrations/{adapter}/work-orders        the legacy MES pushes work orders (bearer token)
    GET  /api/integrations/{adapter}/messages/{id}      what became of a pushed message (bearer token)
    POST /api/integrations/gauges/read                  the tablet's "read from gauge" button
    GET  /api/schemas/                                  the event types that have a JSON Schema
    GET  /api/schemas/{event_type}/v{version}.json      one JSON Schema (public: no secret in a schema)

Errors keep the API's one body, {"error": {"code", "message", "field"}}."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field

from mes.compliance.tokens import api_token_user
from mes.events.services import schema_url
from travelers.api.outputs import measurement_result
from travelers.api.schemas import ERRORS, ErrorOut, MeasurementResultOut
from travelers.errors import TravelerError
from travelers.selectors.lookups import step_by_sequence

from .adapters.rest_inbound import push_allowed, work_orders_push
from .formats import event_schemas
from .gauges import gauge_read
from .models import Adapter, InboxMessage

router = Router(tags=["integrations"])
schemas_router = Router(tags=["schemas"])


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` only: a legacy system pushes with a token, never a session."""

    def authenticate(self, request, token):
        return api_token_user(token)


class NotFound(TravelerError):
    status_code = 404


# --- Schemas ------------------------------------------------------------------------------------------


class WorkOrderLineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=30, description="The work order number, e.g. WO-1001.")
    part_number: str = Field(min_length=1, max_length=40)
    part_revision: str = Field(min_length=1, max_length=10)
    quantity: int = Field(gt=0)
    due_date: dt.date | None = None
    site: str | None = Field(None, description="Site code; the adapter's site when absent.")
    operations: list[str] = Field(default_factory=list, description="The legacy system's operation codes.")
    external_id: str | None = Field(None, max_length=120, description="The order's id in the legacy system.")


class WorkOrdersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=120, description="With `version`: the idempotency key.")
    version: str = Field(min_length=1, max_length=60, description="A new version for changed content.")
    site: str | None = None
    work_orders: list[WorkOrderLineIn] = Field(min_length=1, max_length=1000)


class InboxMessageOut(Schema):
    id: int
    adapter: str
    status: str = Field(description="pending, processed or dead (a dead letter: see `reason`).")
    external_id: str
    version: str
    received_at: dt.datetime
    processed_at: dt.datetime | None
    attempts: int
    reason: str
    work_orders: list[str] = Field(description="The work orders it made or confirmed, once processed.")


class PushOut(Schema):
    created: bool = Field(description="False for a repeat: the first message is returned, nothing changed.")
    message: InboxMessageOut


class GaugeReadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    traveler: str = Field(description="The traveler number.")
    step: int = Field(description="The step's sequence.")
    characteristic: str = Field(description="The characteristic's code, e.g. BORE_DIA.")


def _message(message: InboxMessage) -> InboxMessageOut:
    return InboxMessageOut(
        id=message.pk,
        adapter=message.adapter.name,
        status=message.status,
        external_id=message.external_id,
        version=message.version,
        received_at=message.received_at,
        processed_at=message.processed_at,
        attempts=message.attempts,
        reason=message.reason,
        work_orders=list((message.produced or {}).get("work_orders", [])),
    )


def _push_adapter(name: str) -> Adapter:
    adapter = (
        Adapter.objects.select_related("site")
        .filter(name=name, kind=Adapter.Kind.REST_INBOUND, enabled=True, inbound=True)
        .first()
    )
    if adapter is None:
        raise NotFound(f"there is no enabled REST inbound adapter '{name}'", field="adapter")
    return adapter


# --- Work orders pushed by the legacy MES -------------------------------------------------------------


@router.post(
    "/{adapter}/work-orders",
    auth=BearerToken(),
    response={200: PushOut, 202: PushOut, **ERRORS},
    summary="Push work orders (legacy MES → Traveler)",
)
def work_orders_push_endpoint(request, adapter: str, payload: WorkOrdersIn):
    """Store the work orders once, exactly as sent, and process them (queued): 202 with the inbox
    message. A repeat of the same `external_id` + `version` answers 200 with the same message and changes
    nothing; the same key with other content is refused (409). Needs the permission
    integrations.push_work_orders, or to be the adapter's configured user."""
    row = _push_adapter(adapter)
    message, created = work_orders_push(
        adapter=row,
        body=request.body.decode("utf-8"),
        external_id=payload.external_id,
        version=payload.version,
        user=request.auth,
    )
    message = InboxMessage.objects.select_related("adapter").get(pk=message.pk)
    return Status(202 if created else 200, PushOut(created=created, message=_message(message)))


@router.get("/{adapter}/messages/{message_id}", auth=BearerToken(), response={200: InboxMessageOut, **ERRORS})
def inbox_message_get(request, adapter: str, message_id: int):
    """What became of a pushed message: pending, processed (with its work orders) or a dead letter."""
    row = _push_adapter(adapter)
    if not push_allowed(row, request.auth):
        raise PermissionDenied(f"{request.auth.get_username()} may not read {row.name}'s messages")
    message = InboxMessage.objects.select_related("adapter").filter(pk=message_id, adapter=row).first()
    if message is None:
        raise NotFound(f"{row.name} has no message {message_id}", field="message_id")
    return _message(message)


# --- Gauges -------------------------------------------------------------------------------------------


@router.post("/gauges/read", response={201: MeasurementResultOut, 503: ErrorOut, **ERRORS})
def gauge_read_endpoint(request, payload: GaugeReadIn):
    """Read the characteristic's OPC UA gauge and record the value at the (started) step, as
    source=device. 503 when the gauge does not answer within 3 s: the operator can type the value."""
    step = step_by_sequence(payload.traveler, payload.step)
    m = gauge_read(step=step, characteristic_code=payload.characteristic, actor=request.auth)
    return Status(201, measurement_result(m.pk))


# --- JSON Schemas of the events -----------------------------------------------------------------------


class SchemaRef(Schema):
    event_type: str
    url: str


@schemas_router.get("/", auth=None, response=list[SchemaRef], summary="Event types with a JSON Schema")
def schemas_index(request):
    return [SchemaRef(event_type=name, url=schema_url(name, 1)) for name in event_schemas.event_types()]


@schemas_router.get("/{event_type}/v{version}.json", auth=None, response={200: dict, 404: ErrorOut})
def schema_get(request, event_type: str, version: int):
    """The JSON Schema (Draft 2020-12) an event names in its `dataschema`; `common` holds shared parts."""
    try:
        schema = event_schemas.load_schema(event_type, version)
    except event_schemas.SchemaNotFound:
        raise NotFound(f"there is no schema for {event_type} v{version}", field="event_type") from None
    response = HttpResponse(json.dumps(schema, indent=2), content_type="application/schema+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response
