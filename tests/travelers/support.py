"""Helpers the travelers' tests share: a tablet at a station, the JSON API's client and refusal checks, and
a long traveler for query counts. Fixtures live in conftest.py; these are plain functions."""

from __future__ import annotations

import re
from decimal import Decimal

from django.test import Client

from mes.compliance.models import AuditEvent, Signature
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from tests.factories import PartFactory, PartRevisionFactory, release_routing
from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import services
from travelers.demo.pictures import tiny_png
from travelers.models import Measurement, Traveler

# --- A tablet at a station --------------------------------------------------------------------------------------

HX = {"HTTP_HX_REQUEST": "true"}


def station_client(user, work_center="WIC/CELL-1") -> Client:
    """A tablet at `work_center` with `user` signed in (force_login: django-axes is installed)."""
    client = Client()
    client.force_login(user)
    if work_center:
        response = client.post("/station/work-center/", {"work_center": work_center})
        assert response.status_code == 302, response.content
    return client


def step_path(traveler, sequence, action=""):
    return f"/station/travelers/{traveler.number}/steps/{sequence}/{action}"


def char_id(traveler, sequence, code):
    return step_of(traveler, sequence).characteristics.get(code=code).pk


def text(response) -> str:
    """The visible text of a response, whitespace collapsed (for assertions on what a person reads)."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def started(shop, traveler, sequence=10):
    return services.step_start(step=step_of(traveler, sequence), actor=shop.operator)


# --- The JSON API -------------------------------------------------------------------------------------------------


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def post(client, path, data=None, **headers):
    return client.post(f"/api{path}", data if data is not None else {}, content_type="application/json", **headers)


def get(client, path, **headers):
    return client.get(f"/api{path}", **headers)


def records():
    """What a refused request must leave untouched."""
    return {
        "measurements": Measurement.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "signatures": Signature.objects.count(),
    }


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    if field is not None:
        assert error["field"] == field, error
    return error


def steps_url(traveler, sequence, action):
    return f"/travelers/{traveler.number}/steps/{sequence}/{action}"


def long_traveler(shop, steps: int, part_number: str, worked: int, *, drawings: bool = False) -> Traveler:
    """A released traveler of `steps` steps, the first `worked` of them done with a value each; one value
    corrected, an attachment, a manual hold released and a dispositioned NCR, so every relation is there.
    With `drawings` (what the tablet's traveler screen shows), each step also has instructions and a
    drawing, and the attachment is a photo."""
    revision = PartRevisionFactory(part=PartFactory(number=part_number), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for n in range(1, steps + 1):
        step = md.routing_step_add(
            routing=routing,
            sequence=n * 10,
            operation=shop.ops["machining"],
            work_center=shop.wc,
            title=f"Operation {n}",
            instructions=f"Do **operation {n}**.\n\n- check\n- record" if drawings else "",
        )
        if drawings:
            md.step_attachment_add(
                step=step, title=f"Drawing {n}", filename=f"d{n}.png", content=tiny_png(), content_type="image/png"
            )
        md.characteristic_add(
            step=step,
            code="DIA",
            name="Diameter",
            unit="mm",
            nominal=Decimal(10),
            lower_limit=Decimal("9.9"),
            upper_limit=Decimal("10.1"),
            on_out_of_spec="warn",
        )
    release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{part_number}", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier="SN-1", actor=shop.supervisor)
    for n in range(1, worked + 1):
        do_step(shop, traveler, n * 10, {"DIA": ("10.01", "mm")})
    step = services.step_start(step=step_of(traveler, (worked + 1) * 10), actor=shop.operator)
    first = services.measurement_record(step=step, characteristic="DIA", value="10.2", actor=shop.operator)
    services.measurement_correct(
        measurement=first,
        value="10.02",
        reason="misread",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    filename, content, content_type = (
        ("p.png", tiny_png(), "image/png") if drawings else ("a.txt", b"note", "text/plain")
    )
    services.attachment_add(
        step=step, filename=filename, content=content, content_type=content_type, actor=shop.operator
    )
    hold = services.hold_place(traveler=traveler, reason="check", actor=shop.operator)
    services.hold_release(
        hold=hold, reason="checked", actor=shop.supervisor, secret=PASSWORD, username=shop.supervisor.get_username()
    )
    ncr = services.ncr_raise(traveler=traveler, description="scratch", step=step, actor=shop.operator)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="cosmetic",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    return traveler
