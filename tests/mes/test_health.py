import pytest

from mes import health


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_broker_when_it_is_down(client, monkeypatch):

    def broker_down():
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setattr(health, "check_broker", broker_down)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": False, "error": "ConnectionRefusedError: [Errno 111] Connection refused"}


@pytest.mark.django_db
def test_request_id_from_caller_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="scan-42")
    assert response["X-Request-ID"] == "scan-42"
