"""Demo travelers in every state, made through the services as a shop would make them: pending, in
progress (with a correction), held with an open NCR, awaiting sign-off, closed, an assembly whose
genealogy holds a housing, a pin and a bushing lot, one re-planned onto a new routing revision with a
tighter tolerance, and one rejected at final sign-off, reworked and approved — the two histories whose
signatures must still verify years later. Idempotent: a scenario whose item exists is left."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from mes.compliance.models import SigningCredential
from mes.masterdata import services as masterdata
from mes.masterdata.change_control import routing_release_signed
from mes.masterdata.models import Routing
from mes.masterdata.states import RoutingStatus
from travelers import services
from travelers.models import Item, TravelerStep, WorkOrder
from travelers.states import StepStatus

from .people import DEMO_PASSWORD, ROUTING_QUALITY
from .pictures import tiny_png

# (work order, identifier, how far, lot quantity): "pending", "in_progress", "held", "awaiting", "closed"
SCENARIOS = [
    ("WO-QRO-30103", "L24-117", "closed", Decimal(200)),
    ("WO-TLS-20418", "P-24-0001", "closed", None),
    ("WO-WIC-10021", "H-24-0001", "closed", None),
    ("WO-WIC-10021", "H-24-0002", "closed", None),
    ("WO-WIC-10021", "H-24-0003", "awaiting", None),
    ("WO-WIC-10021", "H-24-0004", "held", None),
    ("WO-WIC-10021", "H-24-0005", "in_progress", None),
    ("WO-WIC-10021", "H-24-0006", "pending", None),
    ("WO-TLS-20417", "B-24-0101", "in_progress", None),
    ("WO-QRO-30102", "V-24-0501", "awaiting", None),
    ("WO-WIC-10035", "A-24-0001", "assembly", None),
    ("WO-WIC-10022", "H-24-0007", "replanned", None),
    ("WO-WIC-10022", "H-24-0008", "reworked", None),
]
ENGINEER = "camille"

KIT = {"H-24-0001": 1, "P-24-0001": 1, "L24-117": 2}  # what the demo assembly consumes

CREW = {  # site: (operator, inspector)
    "WIC": ("maria", "dwight"),
    "TLS": ("luc", "ines"),
    "QRO": ("lupita", "rosa"),
}
SUPERVISOR = "sandra"


# The housings' bore grows as the boring bar wears, by this much per traveler (scenario index), still inside
# its tolerance: the last two housings sit above the upper control limit, so the bore's control chart
# (/supervisor/spc/7420-101/BORE_DIA/) shows the process changing before any part is out of spec.
WEARING = {"BORE_DIA": Decimal("0.001")}
FIRST_HOUSING = 2  # the scenario index of H-24-0001


def value_for(char, index: int = 0) -> str:
    """A plausible in-spec entry for a characteristic."""
    if char.kind == "numeric" and char.code in WEARING and char.nominal is not None:
        worn = char.nominal + WEARING[char.code] * max(index - FIRST_HOUSING, 0)
        return f"{min(worn, char.upper_limit):.{char.decimals}f}" if char.upper_limit is not None else f"{worn}"
    if char.kind == "numeric":
        low, high = char.lower_limit, char.upper_limit
        centre = (
            char.nominal
            if char.nominal is not None
            else ((low + high) / 2 if low is not None and high is not None else (low or high))
        )
        spread = ((high - low) / 10) if low is not None and high is not None else Decimal(0)
        value = centre + spread * Decimal((index % 5) - 2) / 2
        return f"{value:.{char.decimals}f}"
    if char.kind == "pass_fail":
        return "pass"
    if char.kind == "choice":
        return char.choices[0]
    if char.kind == "text":
        return f"HT-24-{117 + index}"
    return "photo"


def _user(username):
    return get_user_model().objects.get(username=username)


def _ready_to_sign(users) -> None:
    for user in users:  # a demo lock from someone's experiments must not break the seed
        SigningCredential.objects.filter(user=user).update(failed_attempts=0, locked_at=None, must_set_new_secret=False)


def _record_all(step: TravelerStep, actor, index: int) -> None:
    for char in step.characteristics.all():
        if char.kind == "attachment":
            attachment = services.attachment_add(
                step=step,
                filename=f"{char.code.lower()}.png",
                content=tiny_png(),
                content_type="image/png",
                actor=actor,
            )
            services.measurement_record(
                step=step, characteristic=char.code, value="photo", actor=actor, attachment_id=attachment.pk
            )
        else:
            services.measurement_record(step=step, characteristic=char.code, value=value_for(char, index), actor=actor)


def _run_step(step, operator, inspector, index, consume=None) -> None:
    step = services.step_start(step=step, actor=operator)
    for identifier, quantity in consume or []:
        services.component_consume(step=step, identifier=identifier, quantity=quantity, actor=operator)
    _record_all(step, operator, index)
    step = services.step_perform(step=step, actor=operator, secret=DEMO_PASSWORD, username=operator.get_username())
    if step.status == StepStatus.AWAITING_INSPECTION:
        services.step_inspect(step=step, actor=inspector, secret=DEMO_PASSWORD, username=inspector.get_username())


def _scenario(order: WorkOrder, identifier: str, stage: str, quantity, index: int) -> None:
    operator, inspector = (_user(u) for u in CREW[order.site.code])
    supervisor = _user(SUPERVISOR)
    _ready_to_sign([operator, inspector, supervisor])
    traveler = services.traveler_release(work_order=order, identifier=identifier, actor=supervisor, quantity=quantity)
    steps = list(traveler.steps.order_by("sequence"))
    if stage == "pending":
        return
    if stage in ("closed", "awaiting"):
        for step in steps:
            _run_step(step, operator, inspector, index)
        if stage == "closed":
            services.traveler_signoff(
                traveler=traveler,
                approve=True,
                actor=inspector,
                secret=DEMO_PASSWORD,
                username=inspector.get_username(),
            )
        return
    if stage == "replanned":
        _run_step(steps[0], operator, inspector, index)
        routing = _tighter_revision(traveler.routing)
        traveler = services.traveler_replan(
            traveler=traveler,
            routing=routing,
            actor=supervisor,
            secret=DEMO_PASSWORD,
            username=supervisor.get_username(),
            reason=f"engineering change: routing r{routing.revision} tightens a tolerance",
        )
        for step in traveler.steps.filter(status=StepStatus.PENDING).order_by("sequence"):
            _run_step(step, operator, inspector, index)
        traveler.refresh_from_db()
        services.traveler_signoff(
            traveler=traveler, approve=True, actor=inspector, secret=DEMO_PASSWORD, username=inspector.get_username()
        )
        return
    if stage == "reworked":
        for step in steps:
            _run_step(step, operator, inspector, index)
        traveler.refresh_from_db()
        services.traveler_signoff(
            traveler=traveler,
            approve=False,
            actor=inspector,
            secret=DEMO_PASSWORD,
            username=inspector.get_username(),
            reason="burr on the flange edge",
        )
        ncr = traveler.ncrs.get(status="open")
        services.ncr_disposition(
            ncr=ncr,
            disposition="rework",
            notes="deburr the flange edge and inspect again",
            actor=inspector,
            secret=DEMO_PASSWORD,
            username=inspector.get_username(),
            rework_steps=[{"operation": steps[0].operation.code, "title": "Deburr the flange edge"}],
        )
        for step in traveler.steps.filter(status=StepStatus.PENDING).order_by("sequence"):
            _run_step(step, operator, inspector, index)
        traveler.refresh_from_db()
        services.traveler_signoff(
            traveler=traveler, approve=True, actor=inspector, secret=DEMO_PASSWORD, username=inspector.get_username()
        )
        return
    if stage == "assembly":
        _run_step(steps[0], operator, inspector, index, consume=list(KIT.items()))
        _run_step(steps[1], operator, inspector, index)
        services.step_start(step=steps[2], actor=operator)
        return
    # In progress or held. In progress: the first step has a value typed wrong and corrected (signed).
    first = steps[0]
    numeric = [c for c in first.characteristics.all() if c.kind == "numeric"]
    if stage == "in_progress" and numeric:
        step = services.step_start(step=first, actor=operator)
        char = numeric[0]
        typo = services.measurement_record(
            step=step, characteristic=char.code, value=value_for(char, index + 2), actor=operator
        )
        services.measurement_correct(
            measurement=typo,
            value=value_for(char, index),
            actor=operator,
            secret=DEMO_PASSWORD,
            username=operator.get_username(),
            reason="digits transposed when typing",
        )
        for other in step.characteristics.exclude(pk=char.pk):
            services.measurement_record(
                step=step, characteristic=other.code, value=value_for(other, index), actor=operator
            )
        step = services.step_perform(step=step, actor=operator, secret=DEMO_PASSWORD, username=operator.get_username())
        if step.status == StepStatus.AWAITING_INSPECTION:
            services.step_inspect(step=step, actor=inspector, secret=DEMO_PASSWORD, username=inspector.get_username())
    else:
        _run_step(first, operator, inspector, index)
    _run_step(steps[1], operator, inspector, index)
    current = services.step_start(step=steps[2], actor=operator)
    if stage != "held":
        return
    limited = [
        c
        for c in current.characteristics.all()
        if c.kind == "numeric" and c.upper_limit is not None and c.on_out_of_spec == "hold"
    ]
    if limited:  # a value over the limit holds the traveler and opens the NCR by itself
        char = limited[0]
        too_big = char.upper_limit + (char.upper_limit - (char.lower_limit or 0)) / 4
        services.measurement_record(
            step=current, characteristic=char.code, value=f"{too_big:.{char.decimals}f}", actor=operator
        )
    else:
        services.ncr_raise(
            traveler=traveler, step=current, actor=operator, description="Tool mark on the sealing face, 0.3 mm long"
        )


def _tighter_revision(routing: Routing) -> Routing:
    """The part revision's next routing revision, released, with the upper limit of its first toleranced
    characteristic after the first step brought in by a tenth of its tolerance (made once)."""
    newer = Routing.objects.filter(part_revision=routing.part_revision, revision__gt=routing.revision)
    if newer.filter(status=RoutingStatus.RELEASED).exists():
        return newer.get(status=RoutingStatus.RELEASED)
    engineer = _user(ENGINEER)
    draft = masterdata.routing_new_revision(routing=routing, actor=engineer)
    for step in draft.steps.order_by("sequence")[1:]:
        char = step.characteristics.filter(kind="numeric", lower_limit__isnull=False, upper_limit__isnull=False).first()
        if char is not None:
            char.upper_limit -= (char.upper_limit - char.lower_limit) / 10
            char.save(update_fields=["upper_limit"])
            break
    return routing_release_signed(
        routing=draft,
        reason="tighter upper limit after the capability study",
        reference="ECO-DEMO-2",
        engineer=engineer,
        engineer_secret=DEMO_PASSWORD,
        quality=_user(ROUTING_QUALITY),
        quality_secret=DEMO_PASSWORD,
    )


def demo_travelers_seed(report) -> None:
    for index, (number, identifier, stage, quantity) in enumerate(SCENARIOS):
        order = WorkOrder.objects.select_related("site", "part_revision__part").get(number=number)
        if Item.objects.filter(part=order.part_revision.part, identifier=identifier).exists():
            report.add("demo travelers", "already present")
            continue
        if not order.part_revision.routings.filter(status=RoutingStatus.RELEASED).exists():
            report.add("demo travelers", "skipped")
            report.notes.append(f"no demo traveler {identifier}: {order.part_revision} has no released routing")
            continue
        if stage == "assembly" and Item.objects.filter(identifier__in=KIT, status=Item.Status.AVAILABLE).count() < 3:
            report.add("demo travelers", "skipped")
            report.notes.append(f"no demo traveler {identifier}: its components are not all available")
            continue
        _scenario(order, identifier, stage, quantity, index)
        report.add("demo travelers", "created")
