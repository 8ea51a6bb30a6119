"""The JSON API documents itself: the OpenAPI schema at /api/openapi.json lists every endpoint."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_lists_the_endpoints(db):
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["info"] == {**schema["info"], "title": "Traveler API", "version": "1"}
    paths = schema["paths"]
    for path in (
        "/api/work-centers/{site}/{code}/travelers",
        "/api/travelers/{number}",
        "/api/travelers/{number}/steps/{sequence}/start",
        "/api/travelers/{number}/steps/{sequence}/measurements",
        "/api/measurements/{id}/correct",
        "/api/travelers/{number}/steps/{sequence}/sign",
        "/api/travelers/{number}/steps/{sequence}/skip",
        "/api/travelers/{number}/hold",
        "/api/holds/{id}/release",
        "/api/travelers/{number}/ncrs",
        "/api/ncrs/{number}/disposition",
        "/api/travelers/{number}/steps/{sequence}/components",
        "/api/consumptions/{id}/remove",
        "/api/travelers/{number}/signoff",
        "/api/travelers/{number}/steps/{sequence}/attachments",
        "/api/work-orders/{number}/travelers",
    ):
        assert path in paths, path
    assert "422" in paths["/api/travelers/{number}/steps/{sequence}/measurements"]["post"]["responses"]
    assert {"TokenAuth", "SessionCsrfAuth"} <= set(schema["components"]["securitySchemes"])
    assert Client().get("/api/docs").status_code == 200


def test_the_operation_ids_do_not_depend_on_the_module_of_an_endpoint(db):
    """Generated clients name their methods after the operation ids, so they are part of the API: each
    endpoint of travelers.api names its own, whichever of the package's modules it lives in."""
    paths = Client().get("/api/openapi.json").json()["paths"]
    ids = {
        operation["operationId"]
        for operations in paths.values()
        for operation in operations.values()
        if isinstance(operation, dict) and "travelers" in operation.get("tags", [])
    }
    assert ids == {
        f"travelers_api_{name}"
        for name in (
            "work_center_travelers",
            "traveler_get",
            "traveler_release",
            "step_start",
            "step_sign",
            "step_skip",
            "component_consume",
            "component_remove",
            "attachment_add",
            "measurement_record",
            "measurement_record_batch",
            "measurement_correct",
            "hold_place",
            "hold_release",
            "ncr_raise",
            "ncr_disposition",
            "traveler_signoff",
        )
    }
