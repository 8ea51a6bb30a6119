"""Building the record bench's data through the services: import it only after django.setup() (it
imports models)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from mes.compliance.credentials import signing_pin_set
from mes.compliance.models import Profile
from mes.compliance.tokens import api_token_issue
from mes.masterdata import services as md
from mes.masterdata.change_control import routing_release_signed
from mes.masterdata.models import Operation, Part, PartRevision, Qualification, Site, WorkCenter
from travelers import services

from .data import CHARS, PASSWORD, PIN, STEPS


def build(
    tablets: int, travelers_each: int | Sequence[int] = 1, *, soak_tablets: int = 0, soak_travelers: int = 0
) -> list[dict]:
    """Master data, one operator per tablet (token), `travelers_each` travelers per tablet (or a count for
    each tablet), then `soak_tablets` more with `soak_travelers` each. Returns the tablets (each with its
    first traveler as `traveler`, all of them as `travelers`), the soak's last."""
    # The bench's passwords are only ever checked here, while building: a fast hasher for them (PBKDF2 costs
    # a second a user). The signing PINs keep theirs, which the server checks on every signing.
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", "mes.compliance.hashers.SigningPinHasher"]
    ):
        return _build(tablets, travelers_each, soak_tablets, soak_travelers)


def _build(tablets: int, travelers_each: int | Sequence[int], soak_tablets: int, soak_travelers: int) -> list[dict]:
    counts = [travelers_each] * tablets if isinstance(travelers_each, int) else list(travelers_each)
    counts += [soak_travelers] * soak_tablets
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="BEN", name="Bench", time_zone="UTC", legacy_system="bench")
    wc = WorkCenter.objects.create(site=site, code="CELL", name="Cell")
    op = Operation.objects.create(code="MACHINING", name="Machining")
    revision = PartRevision.objects.create(part=Part.objects.create(number="BENCH-1", name="Bench part"), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for s in range(1, STEPS + 1):
        step = md.routing_step_add(routing=routing, sequence=s * 10, operation=op, work_center=wc, title=f"Step {s}")
        for c in range(1, CHARS + 1):
            md.characteristic_add(
                step=step,
                code=f"D{c:02d}",
                name=f"Diameter {c}",
                unit="mm",
                nominal=Decimal("10.000"),
                lower_limit=Decimal("9.990"),
                upper_limit=Decimal("10.010"),
            )
    user_model = get_user_model()
    signers = []
    for name, role in (("engineer", "Engineer"), ("quality", "Inspector")):
        signer = user_model.objects.create_user(name, password=PASSWORD, first_name=role, last_name="Bench")
        Profile.objects.create(user=signer, employee_number=f"B-{name}", printed_name=f"{role} Bench", site=site)
        signer.groups.add(Group.objects.get(name=role))
        signers.append(signer)
    routing_release_signed(
        routing=routing,
        reason="bench routing",
        engineer=signers[0],
        engineer_secret=PASSWORD,
        quality=signers[1],
        quality_secret=PASSWORD,
    )
    boss = user_model.objects.create_user("boss", password=PASSWORD)
    boss.groups.add(Group.objects.get(name="Supervisor"))
    order = services.work_order_create(
        number="WO-BENCH",
        part_revision=revision,
        quantity=sum(counts),
        site=site,
    )
    today = timezone.localdate()
    result = []
    for t, count in enumerate(counts):
        user = user_model.objects.create_user(f"op{t}", password=PASSWORD, first_name="Op", last_name=str(t))
        Profile.objects.create(user=user, employee_number=f"B{t:04d}", printed_name=f"Operator {t}", site=site)
        user.groups.add(Group.objects.get(name="Operator"))
        Qualification.objects.create(
            user=user, operation=op, kind="perform", valid_from=today, expires_on=today.replace(year=today.year + 1)
        )
        numbers = [
            services.traveler_release(work_order=order, identifier=f"SN-{t:05d}-{n:03d}", actor=boss).number
            for n in range(count)
        ]
        signing_pin_set(user=user, current_password=PASSWORD, new_pin=PIN)  # operators sign with their PIN
        _, key = api_token_issue(user=user, name="bench")
        result.append({"traveler": numbers[0], "travelers": numbers, "token": key, "username": user.username})
    return result
