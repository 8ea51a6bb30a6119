"""The tablet's work center against the step's: a supervisor at the tablet allows a step routed to another
work center to be worked here (services.work_center_override: their user id and password or PIN, a reason;
signed and audited). Without a station chosen there is nothing to allow: the tablet picks one first."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from travelers import services
from travelers.forms import WorkCenterOverrideForm

from .screen_answers import screen_done, screen_refused, step_or_404
from .station_common import DOMAIN_ERRORS, error_status, station_view


@sensitive_post_parameters("supervisor_secret")
@require_POST
@station_view(needs_station=True)
def work_center_override(request, number: str, sequence: int):
    step = step_or_404(number, sequence)
    form = WorkCenterOverrideForm(request.POST, auto_id="id_override_%s")
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            override = services.work_center_override(
                step=step,
                station=request.station,
                actor=request.user,
                supervisor_username=data["supervisor_username"],
                supervisor_secret=data["supervisor_secret"],
                reason=data["reason"],
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            notice = _("Step %(sequence)s may be worked here at %(here)s: allowed by %(who)s.") % {
                "sequence": sequence,
                "here": request.station.code,
                "who": override.signature.printed_name,
            }
            return screen_done(request, number, sequence, notice)
    return screen_refused(
        request,
        number,
        sequence,
        key="override",
        form=form,
        status=status,
        partial="travelers/station/_work_center.html",
    )
