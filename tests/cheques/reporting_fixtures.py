"""A small realistic dataset for the dashboards: funder A's orders with hand-overs and
redemptions at two places in two months (one undone), cancellations; funder B's order."""

import datetime
from dataclasses import dataclass

import pytest

from aptic.models import Organisation, Role
from cheques import lifecycle, redemption
from cheques.models import Order
from services.models import Service
from tests.factories import OrganisationFactory, make_place, member


@dataclass
class Dataset:
    order: object
    soon_order: object
    order_b: object
    place_33: object
    place_24: object
    services: list
    last_month: datetime.datetime
    this_month: datetime.datetime


@pytest.fixture(name="dataset")
def dataset_fixture(clock, make_order, funder_a, funder_b, manager_a, manager_b, operator,
                    place, mediator_x):
    today = clock.today
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=4,
                       cheques_per_booklet=5)
    # Ordered 40 days ago, it now ends within the J-30 window.
    clock.move_to(clock.days_ago(40))
    soon_order = make_order(funder_a, manager_a, approve_by=operator, booklets=1,
                            cheques_per_booklet=5,
                            valid_until=today + datetime.timedelta(days=20))
    clock.move_to(clock.at(today, 10))
    order_b = make_order(funder_b, manager_b, approve_by=operator, booklets=1,
                         cheques_per_booklet=10, face_value_cents=1500)
    other = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Tiers-lieu")
    place_24 = make_place(other, postcode="24000", town="Périgueux", name="Tiers-lieu 24")
    place_24.latitude, place_24.longitude = 45.18, 0.72
    place_24.save()
    mediator_24 = member(Role.MEDIATOR, other)
    services = list(Service.objects.active().filter(default_cheques=1).order_by("slug")[:2])

    booklets = list(order.booklet_set.order_by("number"))
    profiles = [("25_44", "job_seeker", "33000"), ("65_79", "retired", "24000"),
                ("25_44", "", "")]
    for booklet, (age, situation, postcode) in zip(booklets, profiles, strict=False):
        lifecycle.distribute_booklet(booklet.number, actor=manager_a, age_bracket=age,
                                     situation=situation, postcode=postcode)

    def codes(booklet):
        return list(booklet.cheques.order_by("number").values_list("code", flat=True))

    last_month = clock.last_month(hour=10)
    # The order went out the month before its first redemptions.
    Order.objects.filter(pk=order.pk).update(issued_at=last_month - datetime.timedelta(days=30))
    this_month = clock.now
    redemption.redeem(user=mediator_x, place=place.pk, service=services[0].slug,
                      codes=codes(booklets[0])[:3], now=last_month)
    redemption.redeem(user=mediator_24, place=place_24.pk, service=services[1].slug,
                      codes=codes(booklets[1])[:2], now=this_month)
    undone = redemption.redeem(user=mediator_24, place=place_24.pk, service=services[1].slug,
                               codes=codes(booklets[1])[2:3], now=this_month)
    redemption.undo(redemption=undone.redemptions[0], user=mediator_24)
    lifecycle.cancel_booklet(booklets[3].number, actor=manager_a, reason="Perdu")
    lifecycle.cancel_cheque(codes(booklets[2])[0], actor=manager_a, reason="Volé")
    # Funder B: one cheque redeemed at the Bordeaux place.
    redemption.redeem(user=mediator_x, place=place.pk, service=services[0].slug,
                      codes=list(order_b.cheques.values_list("code", flat=True)[:1]),
                      now=this_month)
    return Dataset(order=order, soon_order=soon_order, order_b=order_b, place_33=place,
                   place_24=place_24, services=services, last_month=last_month,
                   this_month=this_month)
