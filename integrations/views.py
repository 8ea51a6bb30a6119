"""The sync status page: per adapter what came in, what went out, how far behind, what failed; dead
letters with their reasons and a button to process them again once the cause is fixed.

Supervisors (integrations.view_sync_status) and staff see it; reprocessing needs
integrations.reprocess_message (or staff). Everyone else gets 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from mes.compliance.alerts import integrity_summary
from mes.htmx import htmx_partial

from . import selectors
from .inbox import inbox_reprocess
from .models import InboxMessage, OutboxDelivery, Reconciliation
from .reconcile import differences_csv
from .relay import delivery_retry


def can_view(user) -> bool:
    return user.is_active and (user.is_staff or user.has_perm("integrations.view_sync_status"))


def can_reprocess(user) -> bool:
    return user.is_active and (user.is_staff or user.has_perm("integrations.reprocess_message"))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def sync_status(request):
    if not can_view(request.user):
        raise PermissionDenied(_("Only supervisors and staff see the sync status."))
    context = {
        "adapters": selectors.adapters_status(),
        "dead_letters": selectors.dead_letters(),
        "undeliverable": selectors.undeliverable(),
        "stuck": selectors.stuck_messages(),
        "conflicts": selectors.open_conflicts(),
        "open_differences": selectors.open_differences(),
        "machines": selectors.machine_states(),
        "mqtt": selectors.mqtt_global(),
        "totals": selectors.outbox_totals(),
        "can_reprocess": can_reprocess(request.user),
        "integrity": integrity_summary(),
    }
    template = "integrations/_status.html" if htmx_partial(request) else "integrations/status.html"
    return render(request, template, context)


@login_required
@require_POST
def delivery_redeliver(request, pk: int):
    """An event an adapter refused until it was dead-lettered: queue it for that adapter again."""
    if not can_reprocess(request.user):
        raise PermissionDenied(_("You may not deliver events again."))
    delivery = get_object_or_404(OutboxDelivery.objects.select_related("adapter", "message"), pk=pk)
    if delivery_retry([delivery]):
        messages.success(
            request,
            _("Event %(event)s goes to %(adapter)s again at the next relay run.")
            % {"event": delivery.message.message_id, "adapter": delivery.adapter.name},
        )
    else:
        messages.info(request, _("That event was already delivered."))
    return redirect("integrations:status")


@login_required
@require_GET
def reconciliations(request):
    """The parallel run: the latest reconciliation of each adapter, site and day, differences first."""
    if not can_view(request.user):
        raise PermissionDenied(_("Only supervisors and staff see the reconciliations."))
    return render(request, "integrations/reconciliations.html", {"runs": selectors.reconciliations()})


@login_required
@require_GET
def reconciliation_csv(request, pk: int):
    if not can_view(request.user):
        raise PermissionDenied(_("Only supervisors and staff see the reconciliations."))
    run = get_object_or_404(Reconciliation.objects.select_related("site", "adapter"), pk=pk)
    response = HttpResponse(differences_csv(run), content_type="text/csv; charset=utf-8")
    name = f"reconciliation-{run.site.code}-{run.day.isoformat()}-{run.adapter.name}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def message_reprocess(request, pk: int):
    if not can_reprocess(request.user):
        raise PermissionDenied(_("You may not reprocess inbound messages."))
    message = get_object_or_404(InboxMessage, pk=pk)
    if message.status == InboxMessage.Status.PROCESSED:
        messages.info(request, _("Message %(id)s was already processed.") % {"id": pk})
        return redirect("integrations:status")
    message = inbox_reprocess(message.pk)
    if message.status == InboxMessage.Status.PROCESSED:
        made = ", ".join(message.produced.get("work_orders", [])) or _("nothing new")
        messages.success(request, _("Message %(id)s processed: %(made)s.") % {"id": pk, "made": made})
    else:
        messages.error(
            request, _("Message %(id)s is still a dead letter: %(reason)s") % {"id": pk, "reason": message.reason}
        )
    return redirect("integrations:status")
