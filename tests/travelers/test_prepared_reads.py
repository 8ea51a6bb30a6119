"""The record path's prepared reads (mes.prepared) send what the ORM would, and read what it would."""

from __future__ import annotations

import pytest
from django.db import transaction

from mes.compliance.tokens import TOKEN_BY_HASH, _digest, api_token_issue, api_token_user
from tests.travelers.conftest import step_of
from travelers.selectors.lookups import STEP_REF
from travelers.services.common import STEP_OF, TRAVELER_LOCKED
from travelers.services.measurement_batch import STEP_CHARACTERISTICS, STEP_VALUES
from travelers.services.measurements import CHARACTERISTIC_OF

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
