"""The use funnel (issued → handed out → started → fully used) per order, prescriber and
territory, the idle-stock alerts and their weekly digest, and the move of undistributed
booklets between prescribers. Figures equal counts computed here row by row, for two
funders, three prescribers and two territories."""

import csv
import datetime
import io
import statistics

import pytest
from django.core import mail
from django.urls import reverse

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation, Role
from cheques import funnel, lifecycle, redemption
from cheques.models import Booklet, BookletMove, IdleStockDigest, Order, Redemption
from cheques.tasks import idle_stock_digest_task
from tests.factories import OrganisationFactory, member
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SERVICE = "outils-accompagnement"  # one cheque a session: single cheques are redeemed


class World:
    pass


@pytest.fixture
def world(clock, make_order, funder_a, funder_b, manager_a, manager_b, operator, place,
          mediator_x):
    """Funder A: two orders (4 and 3 booklets of 2 cheques) shared by prescribers P1 and P2;
    funder B: one order (3 booklets) held by P3. Hand-overs in Bordeaux (33) and Perigueux
    (24) over the last 100 days, redemptions since, some booklets fully used."""
    w = World()
    start = clock.today

    def ago(days):
        return clock.at(start - datetime.timedelta(days=days), 10)

    clock.move_to(ago(100))
    w.order_a1 = make_order(funder_a, manager_a, approve_by=operator, booklets=4,
                            cheques_per_booklet=2)
    w.order_a2 = make_order(funder_a, manager_a, approve_by=operator, booklets=3,
                            cheques_per_booklet=2)
    w.order_b = make_order(funder_b, manager_b, approve_by=operator, booklets=3,
                           cheques_per_booklet=2)
    w.p1 = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, name="CCAS Bordeaux",
                               funder=funder_a, email="ccas@bordeaux.example")
    w.p2 = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, name="France Travail 24",
                               funder=funder_a)
    w.p3 = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, name="Mairie B",
                               funder=funder_b)
    w.agent1 = member(Role.PRESCRIBER, w.p1, email="agent1@ccas.example")
    w.agent2 = member(Role.PRESCRIBER, w.p2)
    w.agent3 = member(Role.PRESCRIBER, w.p3)
    a1 = [b.number for b in w.order_a1.booklet_set.order_by("number")]
    a2 = [b.number for b in w.order_a2.booklet_set.order_by("number")]
    bb = [b.number for b in w.order_b.booklet_set.order_by("number")]
    w.a1, w.a2, w.bb = a1, a2, bb
    clock.move_to(ago(95))
    lifecycle.move_booklets(a1[:3] + a2[:1], to_holder=w.p1, actor=manager_a)
    lifecycle.move_booklets([a1[3], a2[1]], to_holder=w.p2, actor=manager_a)
    lifecycle.move_booklets(bb, to_holder=w.p3, actor=manager_b)
    # A booklet changes hands: P1 gives one to P2.
    clock.move_to(ago(93))
    lifecycle.move_booklets([a1[2]], to_holder=w.p2, actor=manager_a)
    clock.move_to(ago(92))
    lifecycle.distribute_booklet(a1[0], actor=w.agent1, postcode="33000")
    lifecycle.distribute_booklet(a1[1], actor=w.agent1, postcode="33000")
    clock.move_to(ago(80))
    lifecycle.distribute_booklet(a1[3], actor=w.agent2, postcode="24000")
    lifecycle.distribute_booklet(bb[0], actor=w.agent3, postcode="24000")
    lifecycle.distribute_booklet(bb[1], actor=w.agent3, postcode="33000")
    clock.move_to(ago(20))
    lifecycle.distribute_booklet(a2[0], actor=w.agent1, postcode="33000")

    def use(number, count, days_ago):
        booklet = Booklet.objects.get(number=number)
        codes = list(booklet.cheques.order_by("number").values_list("code", flat=True))
        clock.move_to(ago(days_ago))
        for code in codes[:count]:
            redemption.redeem(user=mediator_x, place=place.pk, service=SERVICE, codes=[code])

    use(a1[0], 1, 70)  # started
    booklet = Booklet.objects.get(number=a1[0])
    last = booklet.cheques.order_by("number").last()
    clock.move_to(ago(50))
    redemption.redeem(user=mediator_x, place=place.pk, service=SERVICE, codes=[last.code])
    use(a1[3], 2, 60)  # fully used in one go
    use(bb[0], 1, 40)  # started
    clock.move_to(clock.at(start, 10))
    w.funder_a, w.funder_b = funder_a, funder_b
    return w


def expected(booklets):
    """The funnel of these booklets, counted one by one."""
    rows = []
    for booklet in booklets:
        order = booklet.order
        live = sorted(Redemption.objects.filter(cheque__booklet=booklet, undone_at=None)
                      .values_list("redeemed_at", flat=True))
        rows.append({
            "issued": order.issued_at, "handed": booklet.distributed_at,
            "started": live[0] if live else None,
            "completed": live[-1] if len(live) == order.cheques_per_booklet else None})

    def median(pairs):
        days = [(b - a).total_seconds() / 86400 for a, b in pairs if a and b]
        return round(statistics.median(days), 1) if days else None

    return {
        "counts": {"issued": len(rows),
                   "handed_out": len([r for r in rows if r["handed"]]),
                   "started": len([r for r in rows if r["started"]]),
                   "completed": len([r for r in rows if r["completed"]])},
        "delays": {"handed_out": median((r["issued"], r["handed"]) for r in rows),
                   "started": median((r["handed"], r["started"]) for r in rows),
                   "completed": median((r["started"], r["completed"]) for r in rows)},
    }


def check(figures, booklets):
    want = expected(list(booklets))
    assert figures.counts == want["counts"]
    assert figures.delays == want["delays"]
    issued = want["counts"]["issued"]
    for step, count in want["counts"].items():
        assert figures.rates[step] == (round(count * 100 / issued, 1) if issued else 0.0)


def test_the_funnel_equals_counts_made_booklet_by_booklet(world):
    w = world
    report = funnel.report(Order.objects.filter(funder=w.funder_a))
    check(report["total"], Booklet.objects.filter(order__funder=w.funder_a))
    assert report["total"].counts == {"issued": 7, "handed_out": 4, "started": 2,
                                      "completed": 2}
    orders = {order.pk: figures for order, figures in report["orders"]}
    assert set(orders) == {w.order_a1.pk, w.order_a2.pk}
    for order in (w.order_a1, w.order_a2):
        check(orders[order.pk], Booklet.objects.filter(order=order))
    # Per prescriber: funder A's three holders (P1, P2) and its own stock.
    prescribers = {label: figures for label, _org, figures in report["prescribers"]}
    assert set(prescribers) == {"CCAS Bordeaux", "France Travail 24",
                                "Stock du financeur (non attribué)"}
    for prescriber in (w.p1, w.p2):
        check(prescribers[prescriber.name], Booklet.objects.filter(holder=prescriber))
    check(prescribers["Stock du financeur (non attribué)"],
          Booklet.objects.filter(order__funder=w.funder_a, holder=None))
    # Moves: P1 received 4 and gave 1 away, P2 received 3.
    assert (prescribers["CCAS Bordeaux"].moved_in, prescribers["CCAS Bordeaux"].moved_out) \
        == (4, 1)
    assert prescribers["France Travail 24"].moved_in == 3
    assert report["total"].moved == BookletMove.objects.filter(
        order__funder=w.funder_a).count() == 7
    # Per territory of hand-over: Bordeaux (33) and Perigueux (24), and not handed out.
    territories = {(d, c): figures for d, c, _label, figures in report["territories"]}
    assert set(territories) == {("33", "Bordeaux"), ("24", "Perigueux"), ("", "")}
    for department, commune in (("33", "Bordeaux"), ("24", "Perigueux")):
        check(territories[(department, commune)], Booklet.objects.filter(
            order__funder=w.funder_a, department=department, commune=commune))
    # Funder B's figures are its own.
    report_b = funnel.report(Order.objects.filter(funder=w.funder_b))
    check(report_b["total"], Booklet.objects.filter(order__funder=w.funder_b))
    assert [label for label, _o, _f in report_b["prescribers"]] == ["Mairie B"]
    territories_b = {(d, c) for d, c, _l, _f in report_b["territories"]}
    assert territories_b == {("33", "Bordeaux"), ("24", "Perigueux"), ("", "")}


def test_the_funnel_by_month_counts_each_step_in_its_month(world, clock):
    months = funnel.by_month(funnel.booklet_facts(Order.objects.filter(
        funder=world.funder_a)))
    assert sum(row[1] for row in months) == 4  # hand-overs
    assert sum(row[2] for row in months) == 2 and sum(row[3] for row in months) == 2
    assert months[-1][0] == clock.today.replace(day=1)
    handed = {}
    for booklet in Booklet.objects.filter(order__funder=world.funder_a,
                                          distributed_at__isnull=False):
        month = funnel._month(booklet.distributed_at)
        handed[month] = handed.get(month, 0) + 1
    assert {m: n for m, n, _s, _c in months if n} == handed


def test_the_funnel_page_shows_the_figures_the_chart_and_exports_csv(world, manager_a,
                                                                     manager_b):
    client = signed_in(manager_a)
    page = client.get(reverse("funder-funnel"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="issued">7<' in html and 'data-figure="moved">7<' in html
    assert "France Travail 24" in html and "Mairie B" not in html
    assert 'class="bar s0"' in html and "Bordeaux (33)" in html
    rows = list(csv.reader(io.StringIO(client.get(
        reverse("funder-funnel"), {"format": "csv", "table": "prescribers"})
        .content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "prescripteur" and rows[0][-2:] == ["carnets reçus", "carnets cédés"]
    p1 = next(row for row in rows if row[0] == "CCAS Bordeaux")
    assert (p1[1], p1[-2], p1[-1]) == ("3", "4", "1")
    territories = list(csv.reader(io.StringIO(client.get(
        reverse("funder-funnel"), {"format": "csv", "table": "territories"})
        .content.decode("utf-8-sig")), delimiter=";"))
    assert [row[:2] for row in territories[1:]] == [["24", "Perigueux"], ["33", "Bordeaux"],
                                                   ["", ""]]
    assert client.get(reverse("funder-funnel"), {"format": "csv", "table": "x"}) \
        .status_code == 404
    # Funder B may not look at funder A's order.
    assert signed_in(manager_b).get(reverse("funder-funnel"),
                                    {"order": world.order_a1.pk}).status_code == 404


def test_idle_stock_is_shown_on_the_dashboard_with_setting_driven_days(world, manager_a,
                                                                        settings):
    stock = funnel.idle_stock(Order.objects.filter(funder=world.funder_a))
    # Held since the moves 95 and 93 days ago (more than 60): every booklet not handed out.
    held = set(Booklet.objects.filter(order__funder=world.funder_a, state="issued")
               .values_list("number", flat=True))
    assert {f.number for f in stock.held} == held and len(held) == 3
    # Handed out more than 90 days ago and never started: the second booklet of Bordeaux.
    assert [f.number for f in stock.unstarted] == [world.a1[1]]
    html = signed_in(manager_a).get(reverse("funder-dashboard")).content.decode()
    assert 'id="idle-stock"' in html and "3 carnets non remis depuis plus de 60 jours" in html
    settings.IDLE_STOCK_HELD_DAYS = 101
    settings.IDLE_STOCK_UNSTARTED_DAYS = 95
    assert not funnel.idle_stock(Order.objects.filter(funder=world.funder_a))


def test_the_weekly_digest_is_sent_once_a_week(world, clock, django_capture_on_commit_callbacks,
                                               manager_a):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = idle_stock_digest_task.delay().get()
    # Funder A, funder B, and the prescribers holding idle booklets (P1, P2, P3).
    assert sent == 5
    recipients = [sorted(m.to) for m in mail.outbox]
    assert sorted([manager_a.email, "a@financeur.example"]) in recipients
    assert ["agent1@ccas.example", "ccas@bordeaux.example"] in recipients
    ccas = next(m for m in mail.outbox if "ccas@bordeaux.example" in m.to)
    assert world.a1[0] not in ccas.body and world.a2[1] not in ccas.body
    assert "/carnets/deplacer/" in ccas.body
    with django_capture_on_commit_callbacks(execute=True):
        assert idle_stock_digest_task.delay().get() == 0
    assert len(mail.outbox) == 5
    assert IdleStockDigest.objects.count() == 5
    # Next week, again.
    clock.shift(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        assert idle_stock_digest_task.delay().get() == 5
    assert len(mail.outbox) == 10


def test_the_digest_is_scheduled_weekly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cheques-idle-stock-digest"]
    assert entry["task"] == "cheques.tasks.idle_stock_digest_task"
    assert entry["schedule"].day_of_week == {1}


def test_a_move_is_refused_for_a_booklet_handed_out_or_of_another_funder(world, manager_a,
                                                                        manager_b):
    w = world
    before = BookletMove.objects.count()
    with pytest.raises(DomainError) as caught:
        lifecycle.move_booklets([w.a2[2], w.a1[0]], to_holder=w.p2, actor=manager_a)
    assert caught.value.code == "already_handed_out" and w.a1[0] in caught.value.detail
    with pytest.raises(DomainError) as caught:
        lifecycle.move_booklets([w.a2[2]], to_holder=w.p3, actor=manager_b)
    assert caught.value.code == "unknown_booklet" and caught.value.status == 404
    with pytest.raises(DomainError) as caught:
        lifecycle.move_booklets([w.a2[2]], to_holder=w.p3, actor=manager_a)
    assert caught.value.code == "unknown_prescriber"
    with pytest.raises(DomainError) as caught:
        lifecycle.move_booklets([w.a2[2]], to_holder=w.p1, actor=w.agent1)
    assert caught.value.code == "forbidden"
    assert BookletMove.objects.count() == before
    assert Booklet.objects.get(number=w.a2[2]).holder is None
    moved = lifecycle.move_booklets([w.a2[2]], to_holder=w.p1.pk, actor=manager_a)
    assert [b.number for b in moved] == [w.a2[2]]
    event = AuditEvent.objects.filter(action="booklet.moved").latest("id")
    assert event.details == {"from_holder": None, "to_holder": w.p1.pk}
    assert event.actor == manager_a


def test_a_funder_moves_booklets_through_the_page_and_the_api(world, manager_a, api):
    w = world
    client = signed_in(manager_a)
    page = client.get(reverse("booklet-move")).content.decode()
    assert "CCAS Bordeaux" in page and "Mairie B" not in page
    response = client.post(reverse("booklet-move"), {"numbers": w.a2[2], "holder": w.p2.pk},
                           follow=True)
    assert "1 carnet(s) déplacé(s)" in response.content.decode()
    response = client.post(reverse("booklet-move"), {"numbers": w.a1[0], "holder": w.p2.pk})
    assert "seul un carnet pas encore remis" in response.content.decode()
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/booklets/move/", {"booklets": [w.a2[2]], "prescriber": None},
                        format="json")
    assert response.status_code == 200 and response.json()[0]["holder"] is None
    response = api.post("/api/v1/booklets/move/", {"booklets": [w.bb[2]], "prescriber": None},
                        format="json")
    assert response.status_code == 404
