"""Reads of travelers: each selector does its own select_related/prefetch_related, so whatever renders
the result (JSON, a page, a template) never fires a query per step, value or signature.

    lookups.py      single records by number, sequence or id, for the services; RecordNotFound
    outcomes.py     what a write left behind, for its response
    detail.py       a whole traveler (the API, the record)
    queue.py        a work center's queue
    station.py      the shop-floor station: badges, scans, the traveler and step a tablet shows
    orders.py       work orders and their route, and those still to release
    supervisor.py   a supervisor's view of one traveler

New code imports from the module that holds a selector. The names are also re-exported here, because
the views and services read many of them as `selectors.<name>`."""

from __future__ import annotations

from travelers.selectors.detail import traveler_detail
from travelers.selectors.lookups import (
    RecordNotFound,
    consumption_by_id,
    hold_by_id,
    measurement_by_id,
    ncr_by_number,
    step_by_sequence,
    step_ref,
    traveler_by_number,
    work_order_by_number,
)
from travelers.selectors.orders import (
    OrderToRelease,
    released_quantity,
    released_routing,
    route_difference,
    work_order_started,
    work_orders_to_release,
)
from travelers.selectors.outcomes import (
    attachment_state,
    consumption_state,
    hold_state,
    measurement_outcome,
    ncr_numbers_of,
    ncr_state,
    signoff_state,
    step_state,
    traveler_state,
)
from travelers.selectors.queue import work_center_queue
from travelers.selectors.station import (
    current_step,
    instruction_file,
    profile_by_badge,
    record_file,
    scan_miss_reason,
    signing_pin_hash,
    station_work_center,
    station_work_centers,
    step_characteristic,
    step_characteristics,
    traveler_scan_matches,
    traveler_screen,
)
from travelers.selectors.supervisor import SupervisedTraveler, traveler_for_supervisor

__all__ = [
    "OrderToRelease",
    "RecordNotFound",
    "SupervisedTraveler",
    "attachment_state",
    "consumption_by_id",
    "consumption_state",
    "current_step",
    "hold_by_id",
    "hold_state",
    "instruction_file",
    "measurement_by_id",
    "measurement_outcome",
    "ncr_by_number",
    "ncr_numbers_of",
    "ncr_state",
    "profile_by_badge",
    "record_file",
    "released_quantity",
    "released_routing",
    "route_difference",
    "scan_miss_reason",
    "signing_pin_hash",
    "signoff_state",
    "station_work_center",
    "station_work_centers",
    "step_by_sequence",
    "step_characteristic",
    "step_characteristics",
    "step_ref",
    "step_state",
    "traveler_by_number",
    "traveler_detail",
    "traveler_for_supervisor",
    "traveler_scan_matches",
    "traveler_screen",
    "traveler_state",
    "work_center_queue",
    "work_order_by_number",
    "work_order_started",
    "work_orders_to_release",
]
