"""Eight processes (each with its own database connection) race to redeem the same 1,000
cheques, half through the redemption function and half through the API."""

import multiprocessing

import pytest
from django.db import connections
from django.db.models import Sum

from cheques.models import Cheque, Redemption
from tests.cheques.race_worker import race
from tests.cheques.redemption_fixtures import codes_of
from tests.conftest import database_url_for_subprocess

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 8


def test_eight_processes_redeem_the_same_thousand_cheques_exactly_once(
    make_order, funder_a, manager_a, operator, place, mediator_x
):
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=100,
                       cheques_per_booklet=10)
    codes = codes_of(order)
    assert len(codes) == 1000
    database_url = database_url_for_subprocess()
    connections.close_all()
    jobs = [(worker, database_url, mediator_x.pk, place.pk, list(codes), worker % 2 == 1)
            for worker in range(PROCESSES)]
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.map(race, jobs)
    won = sum(r[0] for r in results)
    lost = sum(r[1] for r in results)
    assert [r[2] for r in results] == [[]] * PROCESSES, "unexpected refusals"
    assert won == 1000
    assert lost == 1000 * (PROCESSES - 1)
    assert Redemption.objects.filter(undone_at=None).count() == 1000
    assert Cheque.objects.filter(order=order, state=Cheque.State.REDEEMED).count() == 1000
    assert Redemption.objects.aggregate(s=Sum("amount_cents"))["s"] == 1000 * 1000
