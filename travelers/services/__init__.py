"""Every write to travelers passes through these services: keyword-only, one transaction each, each
writing its audit event and outbox message itself."""

from .attachments import attachment_add
from .corrections import measurement_correct
from .execution import hold_place, hold_release, step_inspect, step_perform, step_skip, step_start
from .genealogy import component_consume, component_remove
from .measurement_batch import ValueEntry, measurement_record_batch
from .measurements import measurement_record
from .orders import work_order_cancel, work_order_change, work_order_release
from .quality import ncr_disposition, ncr_raise
from .release import traveler_release, work_order_create
from .replan import traveler_replan
from .signoff import traveler_signoff
from .stations import work_center_check, work_center_override

__all__ = [
    "ValueEntry",
    "attachment_add",
    "component_consume",
    "component_remove",
    "hold_place",
    "hold_release",
    "measurement_correct",
    "measurement_record",
    "measurement_record_batch",
    "ncr_disposition",
    "ncr_raise",
    "step_inspect",
    "step_perform",
    "step_skip",
    "step_start",
    "traveler_release",
    "traveler_replan",
    "traveler_signoff",
    "work_order_cancel",
    "work_order_change",
    "work_order_create",
    "work_order_release",
    "work_center_check",
    "work_center_override",
]
