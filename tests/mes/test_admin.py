"""The master-data admin: every page renders, writes go through the services, released routings stay put."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mes.compliance.models import Profile
from mes.masterdata import services
from mes.masterdata.errors import CodeNotMapped
from mes.masterdata.models import (
    Characteristic,
    Operation,
    OperationAlias,
    Part,
    PartRevision,
    Qualification,
    Routing,
    RoutingChange,
    RoutingStep,
    RoutingStepComponent,
    Site,
    StepAttachment,
    UnmappedCode,
    WorkCenter,
)
from mes.masterdata.states import RoutingStatus
from tests.admin_forms import post_data
from tests.factories import release_routing
from travelers.models import WorkOrder

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- Data, built the way the application builds it -----------------------------------------------


def build_master_data(tag: str, django_user_model) -> SimpleNamespace:
    """One site's worth of every kind of master data; `tag` keeps codes of several calls apart."""
    engineer = django_user_model.objects.create_user(f"eng-{tag.lower()}", password="x-Engineer-pass-1")
    Profile.objects.create(user=engineer, employee_number=f"E-{tag}", printed_name=f"Eve Engineer {tag}")
    site = Site.objects.create(code=f"S{tag}", name=f"Plant {tag}", time_zone="Europe/Paris", legacy_system="mes7")
    Profile.objects.filter(user=engineer).update(site=site)
    work_center = WorkCenter.objects.create(site=site, code="BOOTH1", name="Paint booth")
    coating = Operation.objects.create(code=f"COAT-{tag}", name=f"Coating {tag}")
    deburr = Operation.objects.create(code=f"DEBURR-{tag}", name=f"Deburring {tag}")
    services.operation_alias_create(operation=coating, source_system="mes7", site=site, code=f"C{tag}")
    with pytest.raises(CodeNotMapped):
        services.operation_resolve(source_system="mes7", site=site, code=f"X{tag}", context={"file": "in.xml"})
    open_entry = UnmappedCode.objects.get(code=f"X{tag}", resolved_at__isnull=True)
    services.unmapped_code_record(kind="operation", source_system="mes7", site=site, code=f"D{tag}", context={})
    services.operation_alias_create(operation=deburr, source_system="mes7", site=site, code=f"D{tag}")

    part = Part.objects.create(number=f"P-{tag}", name="Bracket", customer="Acme")
    part_revision = PartRevision.objects.create(part=part, revision="A", drawing_number=f"DWG-{tag}")
    released = services.routing_create_draft(part_revision=part_revision, description="first", actor=engineer)
    step = services.routing_step_add(
        routing=released, sequence=10, operation=deburr, title="Deburr edges", work_center=work_center
    )
    services.characteristic_add(
        step=step,
        code="BORE_DIA",
        name="Bore diameter",
        unit="mm",
        nominal=Decimal("10"),
        lower_limit=Decimal("9.95"),
        upper_limit=Decimal("10.05"),
    )
    services.characteristic_add(step=step, code="VISUAL", name="No burrs", kind=Characteristic.Kind.PASS_FAIL)
    services.step_attachment_add(
        step=step, title="Drawing", filename="drawing.png", content=PNG, content_type="image/png"
    )
    screw = Part.objects.create(number=f"SCREW-{tag}", name="Screw M4", tracking=Part.Tracking.LOT)
    RoutingStepComponent.objects.create(step=step, part=screw, quantity=4)  # no service writes components yet
    coat = services.routing_step_add(routing=released, sequence=20, operation=coating, title="Coat")
    services.characteristic_add(
        step=coat, code="THICK", name="Coat thickness", unit="um", lower_limit=Decimal(20), upper_limit=Decimal(40)
    )
    release_routing(routing=released, actor=engineer)
    draft = services.routing_new_revision(routing=released, actor=engineer)

    today = timezone.localdate()
    year = dt.timedelta(days=365)
    for operation, kind, start, end in [
        (coating, Qualification.Kind.PERFORM, today - year, today + year),
        (deburr, Qualification.Kind.PERFORM, today - 2 * year, today - year),
        (coating, Qualification.Kind.INSPECT, today + year, today + 2 * year),
    ]:
        Qualification.objects.create(user=engineer, operation=operation, kind=kind, valid_from=start, expires_on=end)
    WorkOrder.objects.create(
        number=f"WO-{tag}",
        part_revision=part_revision,
        quantity=5,
        site=site,
        source_system="erp",
        external_id=f"ERP-{tag}",
    )
    return SimpleNamespace(
        engineer=engineer,
        site=site,
        coating=coating,
        deburr=deburr,
        open_entry=open_entry,
        part_revision=part_revision,
        released=Routing.objects.get(pk=released.pk),
        draft=draft,
    )


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def data(django_user_model):
    return build_master_data("A", django_user_model)


@pytest.fixture
def superuser_client(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def editable_inputs(html: str) -> list[str]:
    """Names of the inputs, selects and text areas a user could type into or pick from."""
    tags = re.finditer(r"<(input|select|textarea)\b[^>]*>", html)
    return [
        name.group(1)
        for tag in tags
        if 'type="hidden"' not in tag.group(0) and (name := re.search(r'name="([^"]+)"', tag.group(0)))
    ]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Every page renders ---------------------------------------------------------------------------


def test_every_changelist_and_add_page_renders_for_a_superuser(superuser_client, admin_user, data):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        response = superuser_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, f"{model.__name__} changelist: {response.status_code}"
        add = superuser_client.get(admin_url(model, "add"))
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert add.status_code == expected, f"{model.__name__} add page: {add.status_code}"


def test_every_change_page_renders_for_a_model_with_a_row(superuser_client, data):
    seen = set()
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        seen.add(model)
        response = superuser_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, f"{model.__name__} change page: {response.status_code}"
    assert {Routing, RoutingStep, Characteristic, UnmappedCode, Qualification, WorkOrder, Profile} <= seen


def test_changelists_query_count_does_not_grow_with_rows(superuser_client, data, django_user_model):
    def counts():
        result = {}
        for model in admin.site._registry:
            with CaptureQueriesContext(connection) as queries:
                response = superuser_client.get(admin_url(model, "changelist"))
            assert response.status_code == 200
            result[model.__name__] = len(queries)
        return result

    before = counts()
    build_master_data("B", django_user_model)
    build_master_data("C", django_user_model)
    assert counts() == before


def test_unmapped_codes_cannot_be_added_by_hand(superuser_client):
    assert superuser_client.get(admin_url(UnmappedCode, "add")).status_code == 403


def staff_in_role(django_user_model, username: str, role: str):
    user = django_user_model.objects.create_user(username, password="x-Role-pass-12", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_operator_gets_403_on_routing_add_page(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "op", "Operator"))
    assert client.get(admin_url(Routing, "add")).status_code == 403
    assert client.get(admin_url(Routing, "changelist")).status_code == 200


# --- Routings: actions and immutability ---------------------------------------------------------------


def test_release_action_opens_the_change_page_of_the_draft(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"), {"action": "release_drafts", "_selected_action": [data.draft.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("masterdata:change_new", args=[data.draft.pk]) + "?action=release"
    data.draft.refresh_from_db()
    assert data.draft.status == RoutingStatus.DRAFT  # a release takes a reason and two signatures


def test_release_action_on_several_drafts_links_each_change_page(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "release_drafts", "_selected_action": [data.draft.pk, data.released.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert sum("ask for its release" in m for m in messages_of(response)) == 2


def test_retire_action_opens_the_change_page_of_the_released_routing(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"), {"action": "retire_released", "_selected_action": [data.released.pk]}
    )

    assert response["Location"] == reverse("masterdata:change_new", args=[data.released.pk]) + "?action=obsolete"


def test_new_revision_action_copies_steps_and_characteristics(superuser_client, data):
    data.draft.delete()  # only one draft per part revision
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "make_new_revision", "_selected_action": [data.released.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft = Routing.objects.get(part_revision=data.part_revision, status=RoutingStatus.DRAFT)
    assert draft.revision == 2 and draft.based_on_id == data.released.pk

    def content(routing):
        return [
            (s.sequence, s.title, s.operation_id, [(c.code, c.unit, c.lower_limit) for c in s.characteristics.all()])
            for s in routing.steps.prefetch_related("characteristics")
        ]

    assert content(draft) == content(data.released)
    assert any(m.startswith("Made") for m in messages_of(response))


def test_new_revision_action_refuses_when_a_draft_exists(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "changelist"),
        {"action": "make_new_revision", "_selected_action": [data.released.pk]},
        follow=True,
    )
    assert any("already has a draft routing" in m for m in messages_of(response))
    assert Routing.objects.filter(part_revision=data.part_revision).count() == 2


def test_released_routing_change_page_has_no_editable_inputs(superuser_client, data):
    url = admin_url(Routing, "change", data.released.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert editable_inputs(html) == []
    assert 'name="_save"' not in html
    step = data.released.steps.first()
    assert admin_url(RoutingStep, "change", step.pk) in html

    response = superuser_client.post(url, {"description": "changed"})
    assert response.status_code == 403
    data.released.refresh_from_db()
    assert data.released.description == "first"
    assert superuser_client.get(admin_url(Routing, "delete", data.released.pk)).status_code == 403


def test_steps_and_characteristics_of_a_released_routing_are_view_only(superuser_client, data):
    step = data.released.steps.first()
    response = superuser_client.get(admin_url(RoutingStep, "change", step.pk))
    assert response.status_code == 200
    assert editable_inputs(response.content.decode()) == []
    assert superuser_client.post(admin_url(RoutingStep, "change", step.pk), {"title": "x"}).status_code == 403
    characteristic = step.characteristics.first()
    response = superuser_client.post(admin_url(Characteristic, "change", characteristic.pk), {"unit": "in"})
    assert response.status_code == 403


def test_draft_routing_description_can_be_changed(superuser_client, data):
    url = admin_url(Routing, "change", data.draft.pk)
    page = superuser_client.get(url)
    assert {"description", "steps-0-title"} <= set(editable_inputs(page.content.decode()))
    payload = post_data(page)
    payload["description"] = "second, with a new coat"
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    data.draft.refresh_from_db()
    assert data.draft.description == "second, with a new coat"


def test_adding_a_routing_for_a_part_revision_with_a_draft_shows_the_error(superuser_client, data):
    response = superuser_client.post(
        admin_url(Routing, "add"), {"part_revision": data.part_revision.pk, "description": "another"}
    )
    assert response.status_code == 200
    assert "already has a draft routing" in str(response.context["adminform"].form.errors["part_revision"])
    assert Routing.objects.filter(part_revision=data.part_revision).count() == 2


def test_adding_a_routing_makes_the_next_draft_revision(superuser_client, data):
    data.draft.delete()
    response = superuser_client.post(
        admin_url(Routing, "add"), {"part_revision": data.part_revision.pk, "description": "r2"}
    )
    assert response.status_code == 302
    routing = Routing.objects.get(part_revision=data.part_revision, status=RoutingStatus.DRAFT)
    assert routing.revision == 2 and routing.description == "r2"


def test_step_added_through_routing_inline_goes_through_the_service(superuser_client, data):
    url = admin_url(Routing, "change", data.draft.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["steps-TOTAL_FORMS"])
    payload["steps-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {
            f"steps-{n}-sequence": "30",
            f"steps-{n}-operation": str(data.coating.pk),
            f"steps-{n}-title": "Final inspection",
            f"steps-{n}-signoff": RoutingStep.Signoff.OPERATOR_AND_INSPECTOR,
        }
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    assert data.draft.steps.get(sequence=30).title == "Final inspection"


# --- Characteristics and attachments --------------------------------------------------------------


def test_bad_unit_is_shown_beside_the_unit_field(superuser_client, data):
    characteristic = Characteristic.objects.get(step__routing=data.draft, code="BORE_DIA")
    url = admin_url(Characteristic, "change", characteristic.pk)
    payload = post_data(superuser_client.get(url))
    payload["unit"] = "mmm"
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["unit"] == ["unknown unit 'mmm'"]
    html = response.content.decode()
    unit_row = html[html.index("field-unit") : html.index("field-nominal")]
    assert "unknown unit &#x27;mmm&#x27;" in unit_row
    characteristic.refresh_from_db()
    assert characteristic.unit == "mm"


def test_bad_unit_on_a_new_inline_characteristic_is_shown_beside_it(superuser_client, data):
    step = data.draft.steps.get(sequence=10)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["characteristics-TOTAL_FORMS"])
    payload["characteristics-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {
            f"characteristics-{n}-sequence": "30",
            f"characteristics-{n}-code": "LEN",
            f"characteristics-{n}-name": "Length",
            f"characteristics-{n}-kind": "numeric",
            f"characteristics-{n}-unit": "furlongz",
            f"characteristics-{n}-upper_limit": "5",
            f"characteristics-{n}-decimals": "2",
            f"characteristics-{n}-choices": "[]",
            f"characteristics-{n}-required": "on",
            f"characteristics-{n}-on_out_of_spec": "hold",
        }
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "characteristics"
    )
    assert formset.forms[n].errors["unit"] == ["unknown unit 'furlongz'"]
    assert not step.characteristics.filter(code="LEN").exists()

    payload[f"characteristics-{n}-unit"] = "in"
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    assert step.characteristics.get(code="LEN").unit == "in"


def test_attachment_uploaded_in_the_admin_is_stored_by_the_service(superuser_client, data):
    step = data.draft.steps.get(sequence=20)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["attachments-TOTAL_FORMS"])
    payload["attachments-TOTAL_FORMS"] = str(n + 1)
    content = PNG + b"coat"
    payload[f"attachments-{n}-title"] = "Masking plan"
    payload[f"attachments-{n}-file"] = SimpleUploadedFile("masking.png", content, content_type="image/png")
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    attachment = StepAttachment.objects.get(step=step, title="Masking plan")
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size == len(content)
    assert attachment.content_type == "image/png"
    assert attachment.file.read() == content


def test_attachment_of_a_refused_type_is_shown_beside_the_file(superuser_client, data):
    step = data.draft.steps.get(sequence=20)
    url = admin_url(RoutingStep, "change", step.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["attachments-TOTAL_FORMS"])
    payload["attachments-TOTAL_FORMS"] = str(n + 1)
    payload[f"attachments-{n}-title"] = "Notes"
    payload[f"attachments-{n}-file"] = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = superuser_client.post(url, payload)
    assert response.status_code == 200
    formset = next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "attachments")
    assert "text/plain is not accepted" in formset.forms[n].errors["file"][0]
    assert not StepAttachment.objects.filter(step=step).exists()


# --- The unmapped-code queue ----------------------------------------------------------------------


def test_mapping_an_unmapped_code_creates_the_alias_and_resolves_the_entry(superuser_client, data):
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' in response.content.decode()
    response = superuser_client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"})
    assert response.status_code == 302
    alias = OperationAlias.objects.get(source_system="mes7", code=data.open_entry.code)
    assert alias.operation == data.deburr and alias.site == data.site
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is not None and data.open_entry.resolved_alias == alias
    assert services.operation_resolve(source_system="mes7", site=data.site, code=data.open_entry.code) == data.deburr


def test_mapping_for_every_site_makes_a_system_wide_alias(superuser_client, data):
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    assert superuser_client.post(url, {"map_to_operation": data.coating.pk}).status_code == 302
    alias = OperationAlias.objects.get(source_system="mes7", code=data.open_entry.code)
    assert alias.site is None


def test_mapping_conflict_is_a_form_error_and_leaves_the_entry_open(superuser_client, data):
    # The code was mapped to coating while the entry was queued (a race the service reports).
    code = data.open_entry.code
    OperationAlias.objects.create(operation=data.coating, source_system="mes7", site=data.site, code=code)
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = superuser_client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["map_to_operation"] == [
        f"'{code}' from mes7 already means {data.coating.code}"
    ]
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is None


def test_resolved_entry_is_read_only(superuser_client, data):
    resolved = UnmappedCode.objects.filter(resolved_at__isnull=False).first()
    url = admin_url(UnmappedCode, "change", resolved.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' not in response.content.decode()
    assert superuser_client.post(url, {"map_to_operation": data.coating.pk}).status_code == 403


def test_queue_filters_open_and_resolved(superuser_client, data):
    url = admin_url(UnmappedCode, "changelist")
    open_page = superuser_client.get(url, {"state": "open"})
    assert [e.pk for e in open_page.context["cl"].result_list] == [data.open_entry.pk]
    resolved_page = superuser_client.get(url, {"state": "resolved"})
    assert all(e.resolved_at for e in resolved_page.context["cl"].result_list)
    assert resolved_page.context["cl"].result_count == 1


def test_alias_added_through_operation_inline_resolves_queued_code(superuser_client, data):
    url = admin_url(Operation, "change", data.deburr.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["aliases-TOTAL_FORMS"])
    payload["aliases-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {f"aliases-{n}-source_system": "mes7", f"aliases-{n}-site": str(data.site.pk), f"aliases-{n}-code": "XA"}
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_alias.operation == data.deburr


# --- Qualifications -----------------------------------------------------------------------------------


def test_qualification_status_column_and_expired_filter(superuser_client, data):
    url = admin_url(Qualification, "changelist")
    html = superuser_client.get(url).content.decode()
    for status in ("Valid", "Expired", "Not yet valid"):
        assert f'<td class="field-status">{status}</td>' in html
    expired = superuser_client.get(url, {"validity": "expired"}).context["cl"].result_list
    assert [q.operation for q in expired] == [data.deburr]


# --- Roles --------------------------------------------------------------------------------------------


def test_engineer_maps_a_code_and_asks_for_a_drafts_release(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "eng", "Engineer"))
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    assert client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"}).status_code == 302
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is not None

    response = client.post(
        admin_url(Routing, "changelist"), {"action": "release_drafts", "_selected_action": [data.draft.pk]}
    )
    assert response["Location"].startswith(reverse("masterdata:change_new", args=[data.draft.pk]))
    response = client.post(response["Location"], {"action": "release", "reason": "deburr alias mapped"})
    assert response.status_code == 302
    assert RoutingChange.objects.get(routing=data.draft).requested_by.username == "eng"


def test_supervisor_sees_the_queue_but_cannot_map(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "sup", "Supervisor"))
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' not in response.content.decode()
    assert client.post(url, {"map_to_operation": data.deburr.pk}).status_code == 403
    assert not OperationAlias.objects.filter(code=data.open_entry.code).exists()


# --- Users and profiles -------------------------------------------------------------------------------


def test_user_added_with_its_profile_inline(superuser_client, data, django_user_model):
    response = superuser_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "olga",
            "usable_password": "true",
            "password1": "a-Long-pass-phrase-9",
            "password2": "a-Long-pass-phrase-9",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-0-employee_number": "4711",
            "profile-0-printed_name": "Olga Operator",
            "profile-0-site": str(data.site.pk),
        },
    )
    assert response.status_code == 302, response.context["errors"]
    profile = django_user_model.objects.get(username="olga").profile
    assert (profile.employee_number, profile.printed_name, profile.site) == ("4711", "Olga Operator", data.site)
    changelist = superuser_client.get(reverse("admin:auth_user_changelist"), {"q": "4711"})
    assert [u.username for u in changelist.context["cl"].result_list] == ["olga"]
