"""Supervisor and engineer screens (work in progress, holds, control charts) and the SPC arithmetic."""

from __future__ import annotations

import re
from decimal import Decimal as D  # noqa: N817 - the arithmetic reads better short

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory, WorkCenterFactory
from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import records, reports, services, spc

# --- SPC arithmetic (no database) ---------------------------------------------------------------------------


def test_moving_ranges_are_the_absolute_differences_of_neighbours():
    assert spc.moving_ranges([D(10), D(12), D(11), D(13), D(9)]) == [D(2), D(1), D(2), D(4)]
    assert spc.moving_ranges([D(5)]) == []


def test_individuals_limits_of_known_values():
    limits = spc.individuals_limits([D(10), D(12), D(11), D(13), D(9)])
    assert limits.centre == D(11)
    assert limits.mr_bar == D("2.25")
    assert limits.ucl == D("16.985")  # 11 + 2.66 × 2.25
    assert limits.lcl == D("5.015")
    assert limits.n == 5


def test_individuals_limits_are_exact_on_decimals():
    limits = spc.individuals_limits([D("12.701"), D("12.699"), D("12.703"), D("12.700")])
    # mean 12.70075; moving ranges .002 .004 .003 -> MR̄ .003; 2.66 × .003 = .00798
    assert limits.centre == D("12.70075")
    assert limits.mr_bar == D("0.003")
    assert (limits.ucl, limits.lcl) == (D("12.70873"), D("12.69277"))


def test_limits_need_two_values():
    assert spc.individuals_limits([]) is None
    assert spc.individuals_limits([D(1)]) is None
    constant = spc.individuals_limits([D(3), D(3), D(3)])
    assert (constant.centre, constant.ucl, constant.lcl) == (D(3), D(3), D(3))


def test_values_beyond_the_control_limits_are_flagged():
    values = [D(10), D(10), D(11), D(10), D(11), D(10), D(30)]
    limits = spc.individuals_limits(values)
    assert spc.beyond_limits(values, limits) == [6]
    assert spc.beyond_limits(values, None) == []


def test_the_chart_places_every_value_and_line_inside_the_plot():
    points = [(f"T-{i}", v) for i, v in enumerate([D(10), D(12), D(11), D(13), D(9)])]
    chart = spc.individuals_chart(points, lower_spec=D(8), upper_spec=D(14), nominal=D(11), width=500, height=200)
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs) and xs[0] == chart.left and xs[-1] == chart.right
    for p in chart.points:
        assert chart.top <= p.y <= chart.bottom
    lines = {line.kind: line for line in chart.lines}
    assert set(lines) == {"ucl", "centre", "lcl", "usl", "lsl", "nominal"}
    # higher values are drawn higher (smaller y)
    assert lines["ucl"].y < lines["usl"].y < lines["centre"].y < lines["lsl"].y < lines["lcl"].y
    assert lines["ucl"].value == D("16.985")
    for line in chart.lines:
        assert chart.top <= line.y <= chart.bottom
    assert chart.polyline.count(",") == 5
    assert chart.y_ticks and all(chart.top <= y <= chart.bottom for y, _ in chart.y_ticks)
    assert [p.out_of_spec for p in chart.points] == [False] * 5


def test_labels_of_close_lines_are_spread_apart_on_their_side():
    # spec limits close to one another and to the UCL: labels must not sit on top of one another
    points = [(str(i), v) for i, v in enumerate([D("12.700"), D("12.702"), D("12.699"), D("12.701")])]
    chart = spc.individuals_chart(points, lower_spec=D("12.699"), upper_spec=D("12.7015"), nominal=D("12.700"))
    for side in ("left", "right"):
        ys = sorted(line.label_y for line in chart.lines if line.side == side)
        assert all(b - a >= spc.LABEL_GAP - 1e-9 for a, b in zip(ys, ys[1:], strict=False)), side
        assert all(chart.top <= y <= chart.bottom for y in ys)
    assert {line.kind for line in chart.lines if line.side == "left"} == {"usl", "nominal", "lsl"}


def test_a_chart_marks_out_of_spec_and_out_of_control_points():
    values = [D(10), D(10), D(11), D(10), D(11), D(10), D(30)]
    chart = spc.individuals_chart([(str(i), v) for i, v in enumerate(values)], upper_spec=D(20))
    assert [p.out_of_spec for p in chart.points] == [False] * 6 + [True]
    assert [p.out_of_control for p in chart.points] == [False] * 6 + [True]


def test_a_chart_of_one_value_has_no_control_limits():
    chart = spc.individuals_chart([("T-1", D("12.7"))], lower_spec=D("12.687"), upper_spec=D("12.713"))
    assert chart.limits is None and len(chart.points) == 1
    assert {line.kind for line in chart.lines} == {"usl", "lsl"}


# --- Pages ----------------------------------------------------------------------------------------------------


def signed_in(client, user):
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def bored(shop, identifier: str, value: str):
    """A traveler whose bore step is done with `value`."""
    t = services.traveler_release(work_order=shop.order, identifier=identifier, actor=shop.supervisor)
    do_step(shop, t, 10, {"BORE_DIA": (value, "mm"), "SURFACE": ("pass", "")})
    return t


@pytest.mark.django_db
def test_work_in_progress_counts_travelers_by_work_center_and_state(shop, traveler, client):
    paint = WorkCenterFactory(site=shop.site, code="PAINT-2", name="Paint booth")
    # traveler: step 10 in progress at CELL-1
    services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    # a second waits at CELL-1 (step 10 pending), a third is held there
    services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    held = services.traveler_release(work_order=shop.order, identifier="SN-0003", actor=shop.supervisor)
    services.hold_place(traveler=held, reason="drawing query", actor=shop.operator)
    # a fourth is at step 20, awaiting its inspection, which a supervisor moved to the paint booth
    fourth = bored(shop, "SN-0004", "12.700")
    fourth.steps.filter(sequence=20).update(work_center=paint)
    step = services.step_start(step=step_of(fourth, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25", actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())

    rows, awaiting = reports.wip_by_work_center()
    table = {row.work_center_code: (dict(row.counts), row.held, row.total) for row in rows}
    assert table == {
        "CELL-1": ({"pending": 1, "in_progress": 1, "awaiting_inspection": 0}, 1, 3),
        "PAINT-2": ({"pending": 0, "in_progress": 0, "awaiting_inspection": 1}, 0, 1),
    }
    assert awaiting.total == 0

    r = signed_in(client, shop.supervisor).get("/supervisor/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "WIC/CELL-1" in html and "WIC/PAINT-2" in html and "Awaiting inspection" in html
    assert "drawing query" in html and held.number in html  # the holds list
    assert "/admin/masterdata/workcenter/" in html  # master data links


@pytest.mark.django_db
def test_the_holds_list_shows_reason_since_when_and_the_ncr(shop, traveler, client):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.750", actor=shop.operator)
    ncr = traveler.ncrs.get()
    hold = traveler.holds.get()
    r = signed_in(client, shop.supervisor).get("/supervisor/?part=holds", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"<html" not in r.content
    html = r.content.decode()
    assert ncr.number in html and "above the upper limit" in html
    assert f"/travelers/{traveler.number}/print/" in html  # the supervisor may not disposition: the record
    assert records.site_time(hold.placed_at, "America/Chicago") in html and records.utc_time(hold.placed_at) in html
    # an inspector-supervisor (both roles) gets the disposition link
    both = UserFactory(username="quincy")
    both.groups.add(Group.objects.get(name="Supervisor"), Group.objects.get(name="Inspector"))
    html = signed_in(client, both).get("/supervisor/?part=holds", HTTP_HX_REQUEST="true").content.decode()
    assert f"/quality/ncrs/{ncr.number}/" in html
    # a released hold leaves the list
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="ok",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    html = signed_in(client, shop.supervisor).get("/supervisor/").content.decode()
    assert "No traveler is on hold." in html


@pytest.mark.django_db
def test_the_control_chart_of_a_characteristic_draws_the_current_values_and_limits(shop, client):
    values = ["12.701", "12.699", "12.703"]
    for n, value in enumerate(values, 1):
        bored(shop, f"SN-000{n}", value)
    # a fourth value is corrected: only the correction counts
    t = services.traveler_release(work_order=shop.order, identifier="SN-0004", actor=shop.supervisor)
    step = services.step_start(step=step_of(t, 10), actor=shop.operator)
    wrong = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.790", actor=shop.operator)
    assert t.ncrs.exists()  # that held it: release it to correct
    services.ncr_disposition(
        ncr=t.ncrs.get(),
        disposition="use_as_is",
        notes="misread",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    services.measurement_correct(
        measurement=wrong,
        value="12.700",
        reason="misread",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    series = reports.spc_series("HSG-1", "BORE_DIA")
    assert [str(m.value_numeric.normalize()) for m in series] == ["12.701", "12.699", "12.703", "12.7"]

    signed_in(client, shop.supervisor)
    index = client.get("/supervisor/spc/").content.decode()
    assert "/supervisor/spc/HSG-1/BORE_DIA/" in index and "/supervisor/spc/HSG-1/TORQUE/" not in index
    r = client.get("/supervisor/spc/HSG-1/BORE_DIA/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<svg class="chart"' in html and html.count('<circle class="point') == 4
    assert 'class="line-ucl"' in html and 'class="line-usl"' in html and 'class="line-lsl"' in html
    limits = spc.individuals_limits([D("12.701"), D("12.699"), D("12.703"), D("12.700")])
    assert f"UCL {limits.ucl:.3f}" in html and f"LCL {limits.lcl:.3f}" in html
    assert "USL 12.713" in html and "LSL 12.687" in html
    assert "12.790" not in html  # the superseded value is not charted
    partial = client.get("/supervisor/spc/HSG-1/BORE_DIA/?last=2", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content
    assert partial.content.decode().count('<circle class="point') == 2
    assert client.get("/supervisor/spc/HSG-1/NOPE/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/supervisor/", "/supervisor/spc/", "/supervisor/spc/HSG-1/BORE_DIA/"])
def test_only_supervisors_engineers_and_staff_see_the_supervisor_pages(shop, client, path):
    bored(shop, "SN-0001", "12.701")
    bored(shop, "SN-0002", "12.702")
    assert client.get(path)["Location"].startswith("/station/login/")
    assert signed_in(client, shop.operator).get(path).status_code == 403
    assert signed_in(client, shop.inspector).get(path).status_code == 403
    assert signed_in(client, shop.supervisor).get(path).status_code == 200
    engineer = UserFactory(username="erin")
    engineer.groups.add(Group.objects.get(name="Engineer"))
    assert signed_in(client, engineer).get(path).status_code == 200
    staff = UserFactory(username="stan", is_staff=True)
    assert signed_in(client, staff).get(path).status_code == 403  # staff, but may not view travelers
    staff.user_permissions.add(Permission.objects.get(codename="view_traveler"))
    staff = type(staff).objects.get(pk=staff.pk)  # drop the cached permissions
    assert signed_in(client, staff).get(path).status_code == 200


@pytest.mark.django_db
def test_overview_queries_do_not_grow_with_the_travelers(shop, client, django_assert_num_queries):
    signed_in(client, shop.supervisor)
    first = services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    services.hold_place(traveler=first, reason="check", actor=shop.operator)
    client.get("/supervisor/")
    with CaptureQueriesContext(connection) as one:
        client.get("/supervisor/")
    for n in range(2, 6):
        t = services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        services.hold_place(traveler=t, reason=f"check {n}", actor=shop.operator)
    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get("/supervisor/").content.decode()
    assert html.count("check ") == 4


@pytest.mark.django_db
def test_chart_queries_do_not_grow_with_the_values(shop, client, django_assert_num_queries):
    bored(shop, "SN-0001", "12.701")
    bored(shop, "SN-0002", "12.702")
    signed_in(client, shop.supervisor)
    client.get("/supervisor/spc/HSG-1/BORE_DIA/")
    with CaptureQueriesContext(connection) as two:
        client.get("/supervisor/spc/HSG-1/BORE_DIA/")
    for n in range(3, 6):
        bored(shop, f"SN-000{n}", f"12.70{n}")
    with django_assert_num_queries(len(two.captured_queries)):
        html = client.get("/supervisor/spc/HSG-1/BORE_DIA/").content.decode()
    assert html.count('<circle class="point') == 5


def test_the_control_chart_labels_its_axes_with_the_characteristic_and_its_unit(shop, client):
    for n, value in enumerate(["12.701", "12.699"], 1):
        bored(shop, f"SN-000{n}", value)
    html = signed_in(client, shop.supervisor).get("/supervisor/spc/HSG-1/BORE_DIA/").content.decode()
    labels = re.findall(r'<text class="axis-label"[^>]*>([^<]*)</text>', html)
    assert labels == ["BORE_DIA (mm)", "values in the order recorded, oldest to newest →"]
