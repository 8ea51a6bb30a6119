"""The JSON API of travelers, for tablets and integrations: typed inputs and outputs, documented by
OpenAPI. Every write calls a service (travelers.services); every read a selector (travelers.selectors).
Errors are raised as domain errors and turned into 4xx JSON by the exception handlers of mes.api.

Times are UTC (ISO 8601, "Z"); decimals are strings, so no value loses a digit on the way.

    schemas.py        what a client sends (strict: unknown fields refused) and what it gets back
    outputs.py        building those outputs from the rows the selectors load
    actors.py         who acts through the API, from which work center, and who may read
    travelers.py      a work center's queue, a whole traveler, releasing one
    steps.py          work at a step: start, sign, skip, components, attachments
    measurements.py   values: record one, record a step's at once, correct one
    quality.py        holds, nonconformances and their disposition, the final sign-off

`router` is what travelers.apps mounts under /api/: one router per module above, tagged "travelers".
Each endpoint names its OpenAPI operation id (`travelers_api_<function>`) itself: the ids are part of the
published API (generated clients name their methods after them), so moving an endpoint between modules
must not change them."""

from __future__ import annotations

from ninja import Router

from . import measurements, quality, steps, travelers

router = Router(tags=["travelers"])
for endpoints in (travelers, steps, measurements, quality):
    router.add_router("", endpoints.router)
