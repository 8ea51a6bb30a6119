"""A supervisor's actions on one traveler, on screen: place a hold, release a hold, skip a step, re-plan
onto the released routing. Each action calls its service (travelers.services) and nothing else writes;
each is refused with 403 to whoever lacks its permission (the services check again); releasing a hold,
skipping and re-planning are signed (reason, then the user id at the first signing of the session, and
the password or PIN). A refused action shows the page again with the error beside the field, the status
as the JSON API would answer it; nothing is saved. A done action goes back to the page with a notice.

An NCR's hold is not released here: it ends with the NCR's disposition (the quality screens)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from travelers import selectors, services
from travelers.forms import HoldPlaceForm, HoldReleaseForm, ReplanForm, SkipForm
from travelers.models import Hold
from travelers.states import OPEN_TRAVELER_STATES, STEP_ALLOWED, StepStatus

from .station_common import DOMAIN_ERRORS, error_status, need_user_id, signed_action
from .supervisor import supervisor_page

PAGE = "travelers/supervisor/traveler.html"
PERMS = {
    "hold": "travelers.hold_traveler",
    "release": "travelers.release_hold",
    "skip": "travelers.skip_step",
    "replan": "travelers.replan_traveler",
}


def _require(request, action: str) -> None:
    if not request.user.has_perm(PERMS[action]):
        raise PermissionDenied(_("You are not allowed to do this."))


def _supervised(number: str) -> selectors.SupervisedTraveler:
    try:
        return selectors.traveler_for_supervisor(number)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None


def _skippable(step) -> bool:
    return StepStatus.SKIPPED in STEP_ALLOWED.get(step.status, set())


def _page(request, sup: selectors.SupervisedTraveler, *, failed: tuple[str, object] | None = None, status: int = 200):
    """The traveler page with a fresh form for each action (or the one that failed, with its errors)."""
    ask_id = need_user_id(request)
    failed_key, failed_form = failed or (None, None)

    def form(key: str, make):
        return failed_form if key == failed_key else make()

    traveler = sup.traveler
    is_open = traveler.status in OPEN_TRAVELER_STATES
    open_holds = [h for h in sup.holds if h.released_at is None]
    rows = []
    for step in sup.steps:
        skippable = is_open and _skippable(step)
        key = f"skip:{step.sequence}"
        rows.append(
            {
                "step": step,
                "skippable": skippable,
                "form": form(key, lambda s=step: SkipForm(need_user_id=ask_id, auto_id=f"id_skip{s.sequence}_%s"))
                if skippable
                else None,
                "open": key == failed_key,
            }
        )
    holds = []
    for hold in sup.holds:
        key = f"release:{hold.pk}"
        releasable = is_open and hold.released_at is None and hold.kind == Hold.Kind.MANUAL
        holds.append(
            {
                "hold": hold,
                "form": form(key, lambda h=hold: HoldReleaseForm(need_user_id=ask_id, auto_id=f"id_hold{h.pk}_%s"))
                if releasable
                else None,
                "open": key == failed_key,
            }
        )
    user = request.user
    context = {
        "supervisor_nav": True,
        "traveler": traveler,
        "rows": rows,
        "holds": holds,
        "open_holds": open_holds,
        "is_open": is_open,
        "place_form": form("place", lambda: HoldPlaceForm(auto_id="id_place_%s")),
        "replan_to": sup.replan_to,
        "replan_form": form(
            "replan",
            lambda: ReplanForm(need_user_id=ask_id, auto_id="id_replan_%s", initial={"routing": sup.replan_to.pk}),
        )
        if sup.replan_to is not None and is_open
        else None,
        "can": {action: user.has_perm(perm) for action, perm in PERMS.items()},
        "failed": failed_key,
        "failed_form": failed_form,
    }
    return render(request, PAGE, context, status=status)


def _signed(request, sup, form, failed_key: str, act, notice, *, status: int = 422):
    """A signed supervisor action (station_common.signed_action): back to the traveler page with the
    notice, or the page again with the refused form open."""
    refused = signed_action(request, form, act, notice, status=status)
    if refused is None:
        return _back(sup.traveler.number)
    return _page(request, sup, failed=(failed_key, form), status=refused)


def _back(number: str):
    return redirect("travelers:supervisor_traveler", number=number)


@require_GET
@supervisor_page
def traveler_find(request):
    """Open a traveler by its number (typed or scanned on the overview)."""
    number = (request.GET.get("number") or "").strip().upper()
    if not number:
        return redirect("travelers:supervisor_overview")
    return redirect("travelers:supervisor_traveler", number=number)


@require_GET
@supervisor_page
def traveler_page(request, number: str):
    """One traveler as a supervisor sees it: its holds, its route, and the actions they may take."""
    return _page(request, _supervised(number))


@require_POST
@supervisor_page
def hold_place(request, number: str):
    _require(request, "hold")
    sup = _supervised(number)
    form = HoldPlaceForm(request.POST, auto_id="id_place_%s")
    status = 422
    if form.is_valid():
        try:
            services.hold_place(traveler=sup.traveler, reason=form.cleaned_data["reason"], actor=request.user)
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            messages.success(request, _("Traveler %(number)s is on hold.") % {"number": number})
            return _back(number)
    return _page(request, sup, failed=("place", form), status=status)


@sensitive_post_parameters("secret")
@require_POST
@supervisor_page
def hold_release(request, number: str, hold_id: int):
    _require(request, "release")
    sup = _supervised(number)
    hold = next((h for h in sup.holds if h.pk == hold_id), None)
    if hold is None:
        raise Http404(_("Traveler %(number)s has no such hold.") % {"number": number})
    form = HoldReleaseForm(request.POST, need_user_id=need_user_id(request), auto_id=f"id_hold{hold.pk}_%s")
    return _signed(
        request,
        sup,
        form,
        f"release:{hold.pk}",
        lambda **signed: services.hold_release(hold=hold, **signed),
        lambda released: (
            _("Hold released. Signed: %(manifestation)s.") % {"manifestation": released.release_signature.manifestation}
        ),
    )


@sensitive_post_parameters("secret")
@require_POST
@supervisor_page
def step_skip(request, number: str, sequence: int):
    _require(request, "skip")
    sup = _supervised(number)
    step = next((s for s in sup.steps if s.sequence == sequence), None)
    if step is None:
        raise Http404(_("Traveler %(number)s has no step %(sequence)s.") % {"number": number, "sequence": sequence})
    form = SkipForm(request.POST, need_user_id=need_user_id(request), auto_id=f"id_skip{sequence}_%s")
    return _signed(
        request,
        sup,
        form,
        f"skip:{sequence}",
        lambda **signed: services.step_skip(step=step, **signed),
        lambda skipped: (
            _("Step %(sequence)s skipped. Signed: %(manifestation)s.")
            % {"sequence": sequence, "manifestation": skipped.skip_signature.manifestation}
        ),
    )


@sensitive_post_parameters("secret")
@require_POST
@supervisor_page
def replan(request, number: str):
    """Re-plan onto the part revision's released routing: the one the page offered (a routing released
    since is refused: the supervisor confirms what they saw)."""
    _require(request, "replan")
    sup = _supervised(number)
    form = ReplanForm(request.POST, need_user_id=need_user_id(request), auto_id="id_replan_%s")
    status = 422
    if sup.replan_to is None:
        form.is_valid()
        form.add_error(None, _("There is no other released routing to re-plan this traveler onto."))
        status = 409
    elif form.is_valid() and form.cleaned_data["routing"] != sup.replan_to.pk:
        form.add_error(None, _("Another routing was released since this page was shown: look at it again."))
        status = 409
    routing = sup.replan_to
    return _signed(
        request,
        sup,
        form,
        "replan",
        lambda **signed: services.traveler_replan(traveler=sup.traveler, routing=routing, **signed),
        lambda _replanned: (
            _("Traveler %(number)s re-planned onto routing r%(revision)s.")
            % {"number": number, "revision": routing.revision}
        ),
        status=status,
    )


def traveler_url(number: str) -> str:
    return reverse("travelers:supervisor_traveler", kwargs={"number": number})
