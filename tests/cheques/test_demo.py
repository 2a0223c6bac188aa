import io

import pytest

from cheques import demo as cheques_demo
from cheques.models import Booklet, Order

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_issued_order_with_handed_over_booklets_and_a_waiting_one(demo):
    cheques_demo.load(demo, io.StringIO())
    cheques_demo.load(demo, io.StringIO())
    assert Order.objects.filter(status=Order.Status.ISSUED).count() == 1
    assert Order.objects.filter(status=Order.Status.SUBMITTED).count() == 1
    assert Booklet.objects.filter(state=Booklet.State.DISTRIBUTED).count() == 2
