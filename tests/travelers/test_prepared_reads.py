"""The record path's prepared reads (mes.prepared) send what the ORM would, and read what it would."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mes.compliance.audit import HEAD_LOCK
from mes.compliance.signing import signature_verify
from mes.compliance.tokens import TOKEN_BY_HASH, _digest, api_token_issue, api_token_user
from mes.prepared import read_together
from tests.travelers.conftest import do_step, step_of
from travelers import services
from travelers.content.history import History
from travelers.selectors.lookups import STEP_REF
from travelers.services.common import STEP_OF, TRAVELER_LOCKED
from travelers.services.execution import (
    MISSING_REQUIRED,
    OTHER_STEP_OPEN,
    QUALIFICATIONS_FOR_STEP,
    STEPS_BEFORE_NOT_DONE,
)
from travelers.services.measurement_batch import STEP_CHARACTERISTICS, STEP_VALUES
from travelers.services.measurements import CHARACTERISTIC_OF, NEXT_IDS

pytestmark = pytest.mark.django_db


def test_each_prepared_read_is_the_orms_sql(shop, traveler):
    step = step_of(traveler, 10)
    char = step.characteristics.first()
    reads = [
        (TOKEN_BY_HASH, (_digest("trv_something"),)),
        (STEP_REF, (traveler.number, 10)),
        (TRAVELER_LOCKED, (traveler.pk,)),
        (STEP_OF, (step.pk, traveler.pk)),
        (CHARACTERISTIC_OF, (step.pk, char.pk)),
        (CHARACTERISTIC_OF, (step.pk, char.code)),
        (STEP_CHARACTERISTICS, (step.pk,)),
        (STEP_VALUES, (step.pk,)),
        (MISSING_REQUIRED, (step.pk,)),
        (STEPS_BEFORE_NOT_DONE, (step.pk, traveler.pk)),
        (QUALIFICATIONS_FOR_STEP, (shop.operator.pk, step.pk, "perform")),
        (OTHER_STEP_OPEN, (traveler.pk, step.pk)),
    ]
    with transaction.atomic():
        for prepared, args in reads:
            bound = prepared(*args)
            assert (bound.sql, bound.params) == prepared.sql_of(*args), prepared.build


def test_the_locked_traveler_and_step_come_with_their_related_rows(shop, traveler):
    step = step_of(traveler, 10)
    with transaction.atomic():
        [locked] = TRAVELER_LOCKED(traveler.pk).all()
        [same] = STEP_OF(step.pk, traveler.pk).all()
    assert (locked.number, locked.site.code, locked.item.part.number) == (
        traveler.number,
        traveler.site.code,
        traveler.item.part.number,
    )
    assert (same.sequence, same.operation_id, same.work_center.code) == (10, step.operation_id, step.work_center.code)
    assert STEP_OF(step.pk, traveler.pk + 1000).all() == []  # a step of another traveler is not this one's


def test_a_token_brings_its_user_and_permissions(shop):
    _, key = api_token_issue(user=shop.operator, name="tablet")
    user = api_token_user(key)
    assert user == shop.operator
    assert user.has_perm("travelers.perform_step") and not user.has_perm("travelers.signoff_traveler")
    assert api_token_user(key + "x") is None


@pytest.mark.parametrize("prepared", [True, False])
def test_reads_together_in_one_round_trip_prepared_or_not(shop, traveler, settings, prepared):
    """read_together: prepared reads in psycopg's pipeline, each a server-side prepared statement; turned
    off, one execute of several statements bound on the client. The same
    rows either way, in one round trip."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    step = step_of(traveler, 10)
    before = server_statements()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        travelers, steps, heads, ids = read_together(
            [
                TRAVELER_LOCKED(traveler.pk),
                STEP_OF(step.pk, traveler.pk),
                (HEAD_LOCK, [f"traveler:{traveler.pk}"]),
                (NEXT_IDS, [2]),
            ]
        )
    assert len(queries) == 1
    assert (travelers[0].pk, travelers[0].item.part.number, steps[0].pk) == (
        traveler.pk,
        traveler.item.part.number,
        step.pk,
    )
    assert len(heads) == 1 and len(ids) == 2 and ids[0][0] < ids[1][0]
    if prepared:
        assert any("compliance_auditchainhead" in sql for sql in server_statements())
    else:
        assert server_statements() == before


def server_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("prepared", [True, False])
def test_history_reads_a_step_in_two_round_trips_and_the_same_content_either_way(shop, traveler, settings, prepared):
    """History's nine reads go together (mes.prepared.read_together), then the signatures they name; with
    prepared statements off, bound on the client in one execute. The content signed is the same; rows of a
    step of another traveler, asked for by mistake, are not taken."""
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    step = step_of(traveler, 10)
    settings.DATABASE_PREPARED_STATEMENTS = True
    expected = History([traveler.pk]).step_content(step, step.completed_at)
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    other = services.traveler_release(work_order=shop.order, identifier="SN-OTHER", actor=shop.supervisor)
    not_its = step_of(other, 10).pk
    with CaptureQueriesContext(connection) as queries:
        history = History([traveler.pk], step_ids=[step.pk, not_its])
    assert len(queries) == 2
    assert list(history.steps) == [step.pk]
    assert {c.step_id for c in history.characteristics.get(step.pk, [])} == {step.pk}
    assert all(c.step_id == step.pk for cs in history.characteristics.values() for c in cs)
    assert history.step_content(history.steps[step.pk], step.completed_at) == expected
    assert signature_verify(step.performed_signature)
