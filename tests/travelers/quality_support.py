"""What the quality screens' tests share: a client signed in as someone, a traveler worked to sign-off with
something in every section of the review, an out-of-spec NCR, and one field's group of a page."""

from __future__ import annotations

import re

from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import services
from travelers.models import Nonconformance, Traveler
from travelers.states import TravelerStatus


def signed_in(client, user):
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def worked(shop, traveler) -> Traveler:
    """A traveler awaiting sign-off with a corrected value, a warned out-of-spec value and a
    dispositioned NCR, so the review has something in every section."""
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    first = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.710", actor=shop.operator)
    services.measurement_correct(
        measurement=first,
        value="12.701",
        reason="digits transposed",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    do_step(shop, traveler, 20, {"TORQUE": ("28.0", "N*m")})  # out of spec, warn only
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    do_step(shop, traveler, 40, {})
    ncr = services.ncr_raise(traveler=traveler, description="scuff on the flange", actor=shop.operator)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="cosmetic only",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF
    return traveler


def out_of_spec_ncr(shop, traveler) -> Nonconformance:
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.750", actor=shop.operator)
    return Nonconformance.objects.get(traveler=traveler)


def field_group(html: str, field_id: str) -> str:
    """The HTML from the label of `field_id` to its input: where the field's own errors are shown."""
    match = re.search(rf'<label[^>]*for="{field_id}".*?<input[^>]*id="{field_id}"[^>]*>', html, re.S)
    assert match, f"no field {field_id} in the page"
    return match.group(0)
