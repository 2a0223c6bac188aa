"""The use funnel funders act on, and the idle stock they are warned of.

A booklet goes through four steps: issued → handed out → first cheque used (started) →
fully used (every cheque of it used). For any set of orders the funnel counts the booklets
at each step, the rate of each step (of the booklets issued, and of the step before) and
the median delay between steps, in days; it does so per order, per prescriber organisation
(the holder of the booklet, none: the funder's own stock) and per territory (the département
and commune recorded at hand-over), and month by month. Moves of booklets between
prescribers (cheques.lifecycle.move_booklets) are counted beside.

Idle stock: booklets held and not handed out for more than ``IDLE_STOCK_HELD_DAYS`` (since
they reached their holder, or since issuance), and booklets handed out and not started for
more than ``IDLE_STOCK_UNSTARTED_DAYS``. The dashboard shows them; `send_idle_stock_digests`
mails each funder and prescriber concerned once per ISO week (the Celery beat job).

The figures come from three grouped queries (booklets, live redemptions by booklet, moves);
the steps are counted in Python, one row per booklet.
"""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic.models import Membership, Organisation, Role
from places.departments import DEPARTMENTS

from .models import Booklet, BookletMove, IdleStockDigest, Order, Redemption

STEPS = ("issued", "handed_out", "started", "completed")


@dataclass
class BookletFacts:
    """What the funnel needs of one booklet (dates are aware datetimes)."""

    pk: int
    number: str
    order_id: int
    funder_id: int
    holder_id: int | None
    department: str
    commune: str
    state: str
    issued_at: datetime.datetime
    held_since: datetime.datetime
    handed_out_at: datetime.datetime | None
    started_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    moves: int = 0


@dataclass
class Funnel:
    """Counts, rates and median delays of a group of booklets."""

    counts: dict
    rates: dict  # % of issued
    step_rates: dict  # % of the step before
    delays: dict  # median days from the step before
    moved: int = 0
    moved_in: int = 0
    moved_out: int = 0
    extra: dict = field(default_factory=dict)


def booklet_facts(orders):
    """[BookletFacts] of the booklets of the issued orders among `orders`."""
    orders = orders.filter(status=Order.Status.ISSUED)
    rows = list(Booklet.objects.filter(order__in=orders).values_list(
        "pk", "number", "order_id", "order__funder_id", "holder_id", "department", "commune",
        "state", "order__issued_at", "order__created_at", "held_since", "distributed_at",
        "order__cheques_per_booklet").order_by("pk"))
    if not rows:
        return []
    order_ids = sorted({row[2] for row in rows})
    uses = {
        booklet_id: (first, last, n)
        for booklet_id, first, last, n in Redemption.objects.filter(
            order_id__in=order_ids, undone_at=None).values_list("cheque__booklet_id")
        .annotate(first=Min("redeemed_at"), last=Max("redeemed_at"), n=Count("*")).order_by()
    }
    moves = dict(BookletMove.objects.filter(order_id__in=order_ids).values_list("booklet_id")
                 .annotate(n=Count("*")).order_by())
    facts = []
    for (pk, number, order_id, funder_id, holder_id, department, commune, state, issued_at,
         created_at, held_since, distributed_at, per_booklet) in rows:
        first, last, used = uses.get(pk, (None, None, 0))
        issued = issued_at or created_at
        facts.append(BookletFacts(
            pk=pk, number=number, order_id=order_id, funder_id=funder_id,
            holder_id=holder_id, department=department, commune=commune, state=state,
            issued_at=issued, held_since=held_since or issued, handed_out_at=distributed_at,
            started_at=first, completed_at=last if used >= per_booklet else None,
            moves=moves.get(pk, 0)))
    return facts


def _rate(part, whole):
    return round(part * 100 / whole, 1) if whole else 0.0


def _median_days(pairs):
    days = [(later - earlier).total_seconds() / 86400 for earlier, later in pairs
            if earlier is not None and later is not None]
    return round(statistics.median(days), 1) if days else None


def funnel(facts):
    """The Funnel of a list of BookletFacts."""
    counts = {
        "issued": len(facts),
        "handed_out": sum(1 for f in facts if f.handed_out_at is not None),
        "started": sum(1 for f in facts if f.started_at is not None),
        "completed": sum(1 for f in facts if f.completed_at is not None),
    }
    rates = {step: _rate(counts[step], counts["issued"]) for step in STEPS}
    step_rates = {"issued": 100.0 if counts["issued"] else 0.0}
    for before, step in zip(STEPS, STEPS[1:], strict=False):
        step_rates[step] = _rate(counts[step], counts[before])
    delays = {
        "handed_out": _median_days((f.issued_at, f.handed_out_at) for f in facts),
        # A cheque used before the hand-over was recorded counts from the hand-over.
        "started": _median_days((f.handed_out_at, f.started_at) for f in facts
                                if f.handed_out_at and f.started_at
                                and f.started_at >= f.handed_out_at),
        "completed": _median_days((f.started_at, f.completed_at) for f in facts),
    }
    return Funnel(counts=counts, rates=rates, step_rates=step_rates, delays=delays,
                  moved=sum(f.moves for f in facts))


# --- groups --------------------------------------------------------------------------------


def _grouped(facts, key):
    groups = defaultdict(list)
    for fact in facts:
        groups[key(fact)].append(fact)
    return groups


def by_order(facts):
    """[(order, Funnel)] newest order first."""
    groups = _grouped(facts, lambda f: f.order_id)
    orders = Order.objects.in_bulk(list(groups))
    return [(orders[pk], funnel(groups[pk])) for pk in sorted(groups, reverse=True)]


def _moves_by_holder(facts):
    moved_in, moved_out = defaultdict(int), defaultdict(int)
    for from_holder, to_holder in BookletMove.objects.filter(
            booklet_id__in=[f.pk for f in facts]).values_list("from_holder_id", "to_holder_id"):
        moved_out[from_holder] += 1
        moved_in[to_holder] += 1
    return moved_in, moved_out


def by_prescriber(facts):
    """[(label, organisation or None, Funnel)]: per holder, the funder's own stock last;
    each Funnel also counts the booklets moved in and out of the holder."""
    groups = _grouped(facts, lambda f: f.holder_id)
    names = dict(Organisation.objects.filter(pk__in=[pk for pk in groups if pk])
                 .values_list("pk", "name"))
    organisations = Organisation.objects.in_bulk([pk for pk in groups if pk])
    moved_in, moved_out = _moves_by_holder(facts)
    rows = []
    for holder_id in sorted(groups, key=lambda pk: (pk is None, names.get(pk, ""))):
        figures = funnel(groups[holder_id])
        figures.moved_in, figures.moved_out = moved_in[holder_id], moved_out[holder_id]
        label = names[holder_id] if holder_id else _("Stock du financeur (non attribué)")
        rows.append((label, organisations.get(holder_id), figures))
    return rows


def territory_label(department, commune):
    if not department and not commune:
        return _("Pas encore remis, ou territoire non renseigné")
    name = DEPARTMENTS.get(department, department or "?")
    return f"{commune} ({department})" if commune else f"{name} ({department})"


def by_territory(facts):
    """[(département, commune, label, Funnel)] of the territory recorded at hand-over;
    booklets not handed out (no territory yet) last."""
    groups = _grouped(facts, lambda f: (f.department, f.commune))
    keys = sorted(groups, key=lambda k: (not k[0] and not k[1], k[0], k[1]))
    return [(department, commune, territory_label(department, commune),
             funnel(groups[(department, commune)])) for department, commune in keys]


def _month(moment):
    return timezone.localdate(moment).replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def by_month(facts, *, today=None):
    """[(first day of month, handed out, started, completed)] from the first issuance to
    this month (at most 36 months, the latest)."""
    if not facts:
        return []
    today = today or timezone.localdate()
    counts = defaultdict(lambda: [0, 0, 0])
    for fact in facts:
        for index, moment in enumerate((fact.handed_out_at, fact.started_at,
                                        fact.completed_at)):
            if moment is not None:
                counts[_month(moment)][index] += 1
    month = min(_month(f.issued_at) for f in facts)
    months = []
    while month <= today:
        months.append((month, *counts[month]))
        month = _next_month(month)
    return months[-36:]


def report(orders, *, today=None):
    """Everything the funnel page shows, for a queryset of orders."""
    facts = booklet_facts(orders)
    return {
        "total": funnel(facts),
        "orders": by_order(facts),
        "prescribers": by_prescriber(facts),
        "territories": by_territory(facts),
        "months": by_month(facts, today=today),
    }


# --- idle stock ----------------------------------------------------------------------------


@dataclass
class IdleStock:
    held: list  # [BookletFacts] held and not handed out for too long
    unstarted: list  # [BookletFacts] handed out and not started for too long
    held_days: int
    unstarted_days: int

    def __bool__(self):
        return bool(self.held or self.unstarted)

    def by_holder(self):
        """[(label, held count, unstarted count)] per holder."""
        names = dict(Organisation.objects.filter(pk__in={
            f.holder_id for f in self.held + self.unstarted if f.holder_id}).values_list(
            "pk", "name"))
        rows = defaultdict(lambda: [0, 0])
        for fact in self.held:
            rows[fact.holder_id][0] += 1
        for fact in self.unstarted:
            rows[fact.holder_id][1] += 1
        return [(names.get(pk) or _("Stock du financeur (non attribué)"), held, unstarted)
                for pk, (held, unstarted) in sorted(
                    rows.items(), key=lambda item: (item[0] is None, names.get(item[0], "")))]


def idle_stock(orders=None, *, facts=None, now=None):
    """The IdleStock among the booklets of `orders` (or of `facts`)."""
    now = now or timezone.now()
    if facts is None:
        facts = booklet_facts(orders)
    held_limit = now - datetime.timedelta(days=settings.IDLE_STOCK_HELD_DAYS)
    unstarted_limit = now - datetime.timedelta(days=settings.IDLE_STOCK_UNSTARTED_DAYS)
    return IdleStock(
        held=[f for f in facts if f.state == Booklet.State.ISSUED
              and f.held_since < held_limit],
        unstarted=[f for f in facts if f.state == Booklet.State.DISTRIBUTED
                   and f.handed_out_at is not None and f.handed_out_at < unstarted_limit],
        held_days=settings.IDLE_STOCK_HELD_DAYS,
        unstarted_days=settings.IDLE_STOCK_UNSTARTED_DAYS,
    )


def iso_week(day):
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _recipients(organisation, role):
    emails = set(Membership.objects.filter(organisation=organisation, role=role,
                                           user__is_active=True)
                 .values_list("user__email", flat=True))
    if organisation.email:
        emails.add(organisation.email)
    return sorted(email for email in emails if email)


def _digest_body(organisation, stock):
    lines = [_("Bonjour,"), "", _("Voici les carnets #APTIC qui dorment (%(name)s) :") % {
        "name": organisation.name}, ""]
    if stock.held:
        lines.append(_("- %(count)s carnet(s) non remis depuis plus de %(days)s jours : "
                       "%(numbers)s") % {"count": len(stock.held), "days": stock.held_days,
                                          "numbers": ", ".join(f.number for f in
                                                               stock.held[:30])})
    if stock.unstarted:
        lines.append(_("- %(count)s carnet(s) remis mais non entamés depuis plus de "
                       "%(days)s jours : %(numbers)s") % {
            "count": len(stock.unstarted), "days": stock.unstarted_days,
            "numbers": ", ".join(f.number for f in stock.unstarted[:30])})
    lines += ["", _("Un carnet qui ne sert pas peut passer à un autre prescripteur : "
                    "%(url)s") % {"url": settings.SITE_URL.rstrip("/") + "/carnets/deplacer/"},
              _("L’entonnoir d’utilisation : %(url)s") % {
                  "url": settings.SITE_URL.rstrip("/") + "/financeur/entonnoir/"}]
    return "\n".join(lines)


def _send_once(organisation, stock, week, role):
    """Record the digest of (organisation, week) and send it, once: a second run of the
    same week finds the row and sends nothing."""
    recipients = _recipients(organisation, role)
    if not recipients:
        return False
    try:
        with transaction.atomic():
            IdleStockDigest.objects.create(organisation=organisation, week=week,
                                           held=len(stock.held),
                                           unstarted=len(stock.unstarted))
            subject = _("[#APTIC] Stock dormant : %(held)s carnet(s) non remis, %(unstarted)s "
                        "non entamé(s)") % {"held": len(stock.held),
                                            "unstarted": len(stock.unstarted)}
            body = _digest_body(organisation, stock)
            transaction.on_commit(lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True))
    except IntegrityError:
        return False
    return True


def send_idle_stock_digests(now=None):
    """The weekly job: one digest per funder, and per prescriber organisation, that has
    idle stock; idempotent per ISO week. Returns the number of digests sent."""
    now = now or timezone.now()
    week = iso_week(timezone.localdate(now))
    sent = 0
    facts = booklet_facts(Order.objects.all())
    by_funder = _grouped(facts, lambda f: f.funder_id)
    funders = Organisation.objects.in_bulk(list(by_funder))
    for funder_id, funder_facts in sorted(by_funder.items()):
        stock = idle_stock(facts=funder_facts, now=now)
        if stock and _send_once(funders[funder_id], stock, week, Role.FUNDER_MANAGER):
            sent += 1
    by_holder = _grouped([f for f in facts if f.holder_id], lambda f: f.holder_id)
    holders = Organisation.objects.in_bulk(list(by_holder))
    for holder_id, holder_facts in sorted(by_holder.items()):
        stock = idle_stock(facts=holder_facts, now=now)
        if stock and _send_once(holders[holder_id], stock, week, Role.PRESCRIBER):
            sent += 1
    return sent
