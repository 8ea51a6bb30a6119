"""Master data as documents: the export_routing and import_routing management commands."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mes.masterdata.documents.export import routing_document_export
from mes.masterdata.models import (
    Routing,
    RoutingChange,
)
from mes.masterdata.states import RoutingStatus
from tests.factories import change_signers
from tests.mes.documents_support import *  # noqa: F403 - the fixture `plant`
from tests.mes.documents_support import (
    make_routing,
    valid_document,
)

pytestmark = pytest.mark.django_db


def test_export_routing_command_prints_the_released_routing(plant, capsys):
    routing = make_routing(plant)

    call_command("export_routing", "P-100", "B")

    assert json.loads(capsys.readouterr().out) == routing_document_export(routing=routing)


def test_export_routing_command_exports_a_chosen_revision(plant, capsys):
    make_routing(plant, status=RoutingStatus.DRAFT)

    call_command("export_routing", "P-100", "B", "--routing-revision", "1")

    assert json.loads(capsys.readouterr().out)["routing"]["status"] == "draft"


def test_export_routing_command_fails_clearly_without_a_released_routing(plant):
    make_routing(plant, status=RoutingStatus.DRAFT)

    with pytest.raises(CommandError, match=r"no released routing \(it has r1 draft\)"):
        call_command("export_routing", "P-100", "B")
    with pytest.raises(CommandError, match="no part P-999 revision B"):
        call_command("export_routing", "P-999", "B")


def test_import_routing_command_imports_files_and_says_what_it_created(plant, tmp_path, capsys):
    path = tmp_path / "p200.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8")

    call_command("import_routing", str(path))
    call_command("import_routing", str(path))

    out = capsys.readouterr().out
    routing = Routing.objects.get()
    assert f"{path}: created P-200 rev A routing r1 (draft)" in out
    assert f"released in its source, a draft here: ask for its release at /changes/routing/{routing.pk}/new/" in out
    assert "created alias legacy-tls@TLS:F-10 -> MILL" in out
    assert f"{path}: unchanged (already imported) P-200 rev A routing r1 (draft)" in out


def test_import_routing_command_with_a_user_asks_for_the_release(plant, tmp_path, capsys):
    engineer, _ = change_signers()
    path = tmp_path / "p200.json"
    path.write_text(json.dumps(valid_document()), encoding="utf-8")

    call_command("import_routing", str(path), "--user", engineer.username)

    change = RoutingChange.objects.get()
    assert (change.requested_by, change.status) == (engineer, "open")
    assert f"its release waits for two signatures (engineering, quality) at /changes/{change.pk}/" in (
        capsys.readouterr().out
    )


def test_import_routing_command_lists_every_problem_and_exits_non_zero(plant, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid_document()), encoding="utf-8")
    bad = copy.deepcopy(valid_document())
    bad["part"]["number"] = "P-300"
    bad["steps"][0]["characteristics"][0]["unit"] = "furlong-ish"
    bad["steps"][1]["operation"] = "ANODIZE"
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps(bad), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    with pytest.raises(CommandError, match=r"2 of 3 document\(s\) refused"):
        call_command("import_routing", str(bad_path), str(good), str(broken))

    err = capsys.readouterr().err
    assert f"{bad_path}: refused, nothing saved (2 problem(s))" in err
    assert "  steps[0].characteristics[0].unit: unknown unit 'furlong-ish'" in err
    assert "  steps[1].operation: unknown operation 'ANODIZE'" in err
    assert f"{broken}: refused" in err and "document: not valid JSON" in err
