"""What the funders' cheques became: the figures of the funder dashboard and of the API.

Every function takes a queryset of orders (the caller applies the permissions: see
cheques.access.reporting_scope) and answers with a few aggregate queries: cheques are counted
by (order, state) on the `cheque_order_state` index and valued at their order's face value;
redemptions are grouped by month, service, place and département over the live ones.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from places.departments import DEPARTMENTS, department_of

from . import reimbursement
from .models import Booklet, Cheque, Order, Redemption

USED_STATES = (Cheque.State.REDEEMED, Cheque.State.REIMBURSED)
CLOSED_STATES = (*USED_STATES, Cheque.State.CANCELLED, Cheque.State.EXPIRED)
MONEY_KEYS = ("prepaid_cents", "outstanding_cents", "redeemed_unpaid_cents", "paid_cents",
              "credited_cents")


def _ids(orders):
    return list(orders.values_list("pk", flat=True)) if not isinstance(orders, list) else orders


def _live_redemptions(order_ids):
    return Redemption.objects.filter(order_id__in=order_ids, undone_at=None)


# --- the summary ---------------------------------------------------------------------------


def cheque_counts(orders):
    """{order_id: {state: count}} of issued orders, in one grouped query.

    Only used, cancelled and expired cheques are counted (on the small partial index
    `cheque_order_closed_state`); the open ones (issued or distributed, not told apart
    here) are the rest of the order's cheques, all created by issuance."""
    totals = {row["pk"]: row["booklets"] * row["cheques_per_booklet"] for row in orders}
    counts = {order_id: dict.fromkeys(CLOSED_STATES + ("open",), 0) for order_id in totals}
    if not totals:
        return counts
    # Replaced cheques live on in their replacements, which are counted instead.
    rows = (Cheque.objects.filter(order_id__in=list(totals))
            .exclude(state__in=(*Cheque.OPEN_STATES, Cheque.State.REPLACED))
            .values_list("order_id", "state").annotate(n=Count("*")).order_by())
    for order_id, state, n in rows:
        counts[order_id][state] = n
    for order_id, total in totals.items():
        counts[order_id]["open"] = total - sum(counts[order_id].values())
    return counts


def booklet_counts(order_ids):
    # A replaced booklet lives on in its replacement, which carries its hand-over.
    row = Booklet.objects.filter(order_id__in=order_ids).exclude(
        state=Booklet.State.REPLACED).aggregate(
        issued=Count("pk"),
        handed_out=Count("pk", filter=Q(distributed_at__isnull=False)),
        started=Count("pk", filter=Q(state=Booklet.State.STARTED)),
        cancelled=Count("pk", filter=Q(state=Booklet.State.CANCELLED)),
    )
    return row


def ledger_balances(order_ids):
    """The funds ledger's balances summed over the orders, or None while cheques.ledger
    does not exist (reimbursement is built beside this module)."""
    try:
        from . import ledger
    except ImportError:
        return None
    balances = getattr(ledger, "balances", None)
    if balances is None:
        return None
    totals = dict.fromkeys(MONEY_KEYS, 0)
    for row in balances(order_ids=order_ids).values():
        for key in MONEY_KEYS:
            totals[key] += row.get(key) or 0
    return totals


def summary(orders, *, today=None, with_ledger=True):
    """The headline figures of a set of orders (amounts in cents)."""
    today = today or timezone.localdate()
    order_rows = list(orders.filter(status=Order.Status.ISSUED)
                      .values("pk", "face_value_cents", "valid_until", "booklets",
                              "cheques_per_booklet"))
    order_ids = [row["pk"] for row in order_rows]
    counts = cheque_counts(order_rows)
    soon = today + datetime.timedelta(days=settings.EXPIRY_ALERT_DAYS)
    by_state = dict.fromkeys(CLOSED_STATES + ("open",), 0)
    cents = dict.fromkeys(CLOSED_STATES + ("open",), 0)
    expiring = {"cheques": 0, "cents": 0}
    for row in order_rows:
        states = counts[row["pk"]]
        for state, n in states.items():
            by_state[state] += n
            cents[state] += n * row["face_value_cents"]
        if today <= row["valid_until"] <= soon:
            expiring["cheques"] += states["open"]
            expiring["cents"] += states["open"] * row["face_value_cents"]
    issued = sum(by_state.values())
    used = sum(by_state[state] for state in USED_STATES)
    booklets = booklet_counts(order_ids) if order_ids else {
        "issued": 0, "handed_out": 0, "started": 0, "cancelled": 0}
    result = {
        "orders": len(order_ids),
        "booklets": booklets,
        "cheques": {
            "issued": issued,
            "by_state": by_state,
            "redeemed": used,
            "use_rate": round(used * 100 / issued, 1) if issued else 0.0,
        },
        "amounts": {
            "prepaid_cents": sum(cents.values()),
            "redeemed_cents": sum(cents[state] for state in USED_STATES),
            "redeemed_unpaid_cents": cents[Cheque.State.REDEEMED],
            "paid_cents": cents[Cheque.State.REIMBURSED],
            "outstanding_cents": cents["open"],
            "expired_cents": cents[Cheque.State.EXPIRED],
            "cancelled_cents": cents[Cheque.State.CANCELLED],
        },
        "expiring_soon": {**expiring, "days": settings.EXPIRY_ALERT_DAYS},
    }
    if with_ledger:
        result["ledger"] = ledger_balances(order_ids) if order_ids else None
    return result


def order_rows(orders):
    """One line per order with its use: for the table of orders of the dashboard."""
    orders = list(orders.select_related("funder").order_by("-created_at", "-id"))
    counts = cheque_counts([
        {"pk": o.pk, "booklets": o.booklets, "cheques_per_booklet": o.cheques_per_booklet}
        for o in orders if o.status == Order.Status.ISSUED])
    rows = []
    for order in orders:
        states = counts.get(order.pk, {})
        issued = sum(states.values())
        used = sum(states.get(state, 0) for state in USED_STATES)
        rows.append({"order": order, "issued": issued, "redeemed": used,
                     "use_rate": round(used * 100 / issued, 1) if issued else 0.0,
                     "redeemed_cents": used * order.face_value_cents})
    return rows


# --- redemptions by month, service, place, département -------------------------------------


def _month_start(day):
    return day.replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


MAX_MONTH_QUERIES = 36


def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def by_month(orders, *, today=None):
    """[(first day of month, count, cents)] of live redemptions, from the month of the
    first issuance to this one (months without redemptions have zeros); [] if none.

    One range count per month on the `redemption_live_report` index: cheaper than grouping
    by a time-zone-converted month, which hashes every row."""
    today = today or timezone.localdate()
    rows = list(orders.filter(status=Order.Status.ISSUED)
                .values_list("pk", "issued_at", "created_at"))
    if not rows:
        return []
    order_ids = [pk for pk, _issued, _created in rows]
    first = _month_start(min(timezone.localdate(issued or created)
                             for _pk, issued, created in rows))
    bounds = [first]
    while bounds[-1] <= today:
        bounds.append(_next_month(bounds[-1]))
    live = _live_redemptions(order_ids)
    if len(bounds) - 1 > MAX_MONTH_QUERIES:
        found = {}
        for row in (live.annotate(month=TruncMonth("redeemed_at")).values("month")
                    .annotate(n=Count("*"), cents=Sum("amount_cents")).order_by()):
            found[timezone.localtime(row["month"]).date()] = (row["n"], row["cents"])
        result = [(month, *found.get(month, (0, 0))) for month in bounds[:-1]]
    else:
        result = []
        for start, end in zip(bounds, bounds[1:], strict=False):
            row = live.filter(redeemed_at__gte=_aware(start), redeemed_at__lt=_aware(end)) \
                .aggregate(n=Count("*"), cents=Sum("amount_cents"))
            result.append((start, row["n"], row["cents"] or 0))
    return result if any(n for _month, n, _cents in result) else []


def by_service(orders):
    order_ids = _ids(orders)
    return list(_live_redemptions(order_ids).values("service_id", "service__label")
                .annotate(n=Count("*"), cents=Sum("amount_cents"))
                .order_by("-n", "service__label"))


def by_place(orders):
    order_ids = _ids(orders)
    return list(_live_redemptions(order_ids)
                .values("place_id", "place__name", "place__town", "place__department",
                        "place__latitude", "place__longitude")
                .annotate(n=Count("*"), cents=Sum("amount_cents"))
                .order_by("-n", "place__name"))


def by_department(orders, places=None):
    """Redemptions by département of the place (derived from `by_place` rows if given)."""
    totals = {}
    for row in places if places is not None else by_place(orders):
        code = row["place__department"] or ""
        n, cents = totals.get(code, (0, 0))
        totals[code] = (n + row["n"], cents + row["cents"])
    return [{"code": code, "name": DEPARTMENTS.get(code, _("Inconnu")), "n": n, "cents": cents}
            for code, (n, cents) in sorted(totals.items(), key=lambda item: (-item[1][0],
                                                                             item[0]))]


# --- who the booklets went to (anonymous counts) -------------------------------------------


@dataclass
class ProfileRow:
    code: str
    label: str
    count: int


def beneficiary_profile(orders):
    """Counts of handed-out booklets by age bracket, situation and département of the
    postcode given at hand-over. Counts only: nothing else is kept about beneficiaries."""
    order_ids = _ids(orders)
    handed = Booklet.objects.filter(order_id__in=order_ids, distributed_at__isnull=False) \
        .exclude(state=Booklet.State.REPLACED)
    unknown = str(_("Non renseigné"))

    def grouped(field, labels):
        counts = dict(handed.values_list(field).annotate(n=Count("*")).order_by())
        rows = [ProfileRow(value, str(label), counts.get(value, 0)) for value, label in labels]
        if counts.get(""):
            rows.append(ProfileRow("", unknown, counts[""]))
        return rows

    departments = {}
    for postcode, n in handed.values_list("postcode").annotate(n=Count("*")).order_by():
        code = department_of(postcode)
        departments[code] = departments.get(code, 0) + n
    department_rows = [
        ProfileRow(code, DEPARTMENTS.get(code, str(_("Inconnu"))) if code else unknown, n)
        for code, n in sorted(departments.items(), key=lambda item: (-item[1], item[0]))
    ]
    return {
        "age_bracket": grouped("age_bracket", Booklet.AgeBracket.choices),
        "situation": grouped("situation", Booklet.Situation.choices),
        "department": department_rows,
    }


# --- the operator's work queues ------------------------------------------------------------


def _optional_model(name):
    """A model of cheques.models, or None until it exists."""
    from django.apps import apps

    try:
        return apps.get_model("cheques", name)
    except LookupError:
        return None


def _state_field(model):
    names = {f.name for f in model._meta.get_fields()}
    return next((name for name in ("state", "status") if name in names), None)


def _queue(model, waiting_state, limit=20):
    """(count waiting, latest rows) of a statement/batch model, or None when absent."""
    if model is None:
        return None
    field = _state_field(model)
    queryset = model.objects.all()
    waiting = queryset.filter(**{field: waiting_state}) if field else queryset.none()
    return {"count": waiting.count(), "rows": list(queryset.order_by("-pk")[:limit]),
            "waiting_state": waiting_state, "state_field": field}



def blocked_structures():
    """Structures with qualified places or unpaid redemptions that cannot be paid, with the
    reason and the amount they are owed."""
    from aptic.models import Organisation
    from places.models import Qualification

    owed = dict(Redemption.objects.filter(undone_at=None, cheque__state=Cheque.State.REDEEMED)
                .values_list("structure_id").annotate(s=Sum("amount_cents")).order_by())
    structures = (Organisation.objects.filter(kind=Organisation.Kind.STRUCTURE)
                  .filter(Q(places__qualification=Qualification.QUALIFIED) | Q(pk__in=owed))
                  .distinct().select_related("structure_profile").order_by("name"))
    blocked = []
    for structure in structures:
        reason = reimbursement.blocked_reason(structure)
        if reason:
            blocked.append({"structure": structure, "reason": reason,
                            "owed_cents": owed.get(structure.pk, 0)})
    return blocked


def operator_overview():
    from places.models import Place, Qualification

    from . import fraud

    orders = Order.objects.filter(status=Order.Status.SUBMITTED).select_related("funder")
    places = Place.objects.filter(qualification=Qualification.SUBMITTED).select_related(
        "structure")
    return {
        "orders_waiting": {"count": orders.count(),
                           "rows": list(orders.order_by("created_at", "pk")[:20])},
        "places_waiting": {"count": places.count(),
                           "rows": list(places.order_by("updated_at", "pk")[:20])},
        "statements": _queue(_optional_model("Statement"), "draft"),
        "batches": _queue(_optional_model("PaymentBatch"), "sent"),
        "blocked": blocked_structures(),
        "signals": fraud.signals(),
        "fraud_settings": {
            "window": settings.FRAUD_BOOKLET_WINDOW_MINUTES,
            "per_hour": settings.FRAUD_MAX_REDEMPTIONS_PER_HOUR,
            "days": settings.FRAUD_LOOKBACK_DAYS,
        },
    }
