"""Correcting a recorded value without erasing anything: a new, signed value supersedes it, with a reason;
the original stays."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record, signing_authenticate
from travelers.content import correction_content, measurement_content
from travelers.errors import MeasurementInvalid, RecordConflict, StepStateRefused
from travelers.models import Measurement
from travelers.states import StepStatus

from .common import audit, bump, clock, emit, ensure_not_held, lock_step, require_perm
from .cosign import check_cosigner, correction_needs_cosign, cosigner_authenticate
from .measurements import build_measurement, raises_ncr, value_data
from .quality import ncr_raise_for_measurement


def measurement_correct(
    *,
    measurement: Measurement,
    value: object,
    actor: User,
    secret: str,
    reason: str,
    unit: str = "",
    username: str | None = None,
    session_key: str | None = None,
    attachment_id: int | None = None,
    cosigner_username: str | None = None,
    cosigner_secret: str | None = None,
    decimal_comma: bool = False,
) -> Measurement:
    """Supersede a value with a corrected one, signed, with a reason. The original stays. Where the site
    asks for it (travelers.services.cosign), an inspector co-signs with their user id and secret."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    cosign = cosigner_authenticate(username=cosigner_username, secret=cosigner_secret, field="cosigner")
    return _measurement_correct(
        measurement=measurement,
        value=value,
        actor=actor,
        authority=authority,
        cosign=cosign,
        reason=reason,
        unit=unit,
        attachment_id=attachment_id,
        decimal_comma=decimal_comma,
    )


@transaction.atomic
def _measurement_correct(
    *,
    measurement: Measurement,
    value: object,
    actor: User,
    authority: SigningAuthority,
    cosign: SigningAuthority | None,
    reason: str,
    unit: str,
    attachment_id: int | None,
    decimal_comma: bool = False,
) -> Measurement:
    traveler, step = lock_step(measurement.step_id)
    require_perm(actor, "correct_measurement", "correct recorded values")
    ensure_not_held(traveler)
    if step.status in (StepStatus.COMPLETED, StepStatus.SKIPPED):
        raise StepStateRefused(
            gettext("step %(sequence)s is closed: raise a nonconformance instead") % {"sequence": step.sequence},
            field="step",
        )
    if not (reason or "").strip():
        raise MeasurementInvalid(gettext("say why the value is corrected"), field="reason")
    original = Measurement.objects.select_related("characteristic").get(pk=measurement.pk)
    if Measurement.objects.filter(supersedes=original).exists():
        raise RecordConflict(gettext("this value was already corrected; correct the newer one"), field="measurement")
    if cosign is not None or correction_needs_cosign(traveler, original):
        why = (
            "the value was out of spec"
            if original.judgment == Measurement.Judgment.OUT_OF_SPEC
            else "a nonconformance of this traveler was dispositioned"
        )
        check_cosigner(
            cosign,
            actor=actor,
            perm="travelers.inspect_step",
            who="an inspector",
            field="cosigner_username",
            why=f"this correction needs a second signature ({why})",
        )
    m = build_measurement(
        step=step,
        char=original.characteristic,
        value=value,
        unit=unit,
        source="manual",
        device="",
        actor=actor,
        attachment_id=attachment_id,
        at=clock(traveler),
        supersedes=original,
        reason=reason.strip(),
        decimal_comma=decimal_comma,
    )
    with connection.cursor() as cursor:  # signed before it is saved: its id is drawn now for the content to name
        cursor.execute("SELECT nextval(pg_get_serial_sequence('travelers_measurement', 'id'))")
        m.pk = cursor.fetchone()[0]
    signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.CORRECTED,
        record_type="travelers.measurement",
        record_id=m.pk,
        content=correction_content(traveler, step, m),
        audit_chain=f"traveler:{traveler.pk}",
        comment=m.correction_reason,
        signed_at=m.recorded_at,
    )
    m.correction_signature = signature
    if cosign is not None:
        m.cosignature = signature_record(
            authority=cosign,
            meaning=Signature.Meaning.COSIGNED,
            record_type="travelers.measurement",
            record_id=m.pk,
            content=correction_content(traveler, step, m),
            audit_chain=f"traveler:{traveler.pk}",
            comment=m.correction_reason,
            signed_at=m.recorded_at,
        )
    m.save(force_insert=True)
    bump(traveler, step=step)
    audit(
        traveler,
        action="measurement.corrected",
        obj=m,
        actor=actor,
        reason=m.correction_reason,
        changes={
            original.characteristic.code: [
                f"{original.entered_value} {original.entered_unit}".strip(),
                f"{m.entered_value} {m.entered_unit}".strip(),
            ],
            "signature": [None, signature.pk],
        },
        state=measurement_content(m),
    )
    emit(traveler, "measurement.corrected", value_data(m), step=step)
    if raises_ncr(m, original.characteristic):
        ncr_raise_for_measurement(traveler=traveler, step=step, measurement=m, actor=actor)
    return m
