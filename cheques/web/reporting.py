"""Dashboards: the funder's (what its cheques became, overall and per order, with CSV exports
and a map) and the operator's (work queues and fraud signals). The figures come from
cheques.reporting and cheques.fraud; this module only scopes, shapes and renders them."""

import math

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aptic.http import spreadsheet_csv
from aptic.inputs import parse_int
from aptic.l10n import format_decimal, format_euros, format_grouped, format_plain
from aptic.permissions import is_operator

from .. import access, funnel, reporting
from ..models import Order

CSV_TABLES = ("summary", "orders", "months", "services", "places", "departments", "profile")


# --- scope ---------------------------------------------------------------------------------


def funder_scope(request):
    """(orders the user may see, funders offered in the filter, chosen funder or None); a
    malformed or out-of-reach `funder` is unknown (cheques.access.reporting_scope)."""
    raw = request.GET.get("funder") or ""
    funder_id = parse_int(raw) if raw else None
    if raw and funder_id is None:
        raise Http404
    orders, funders = access.reporting_scope(request.user, funder_id)
    chosen = funders.get(pk=funder_id) if funder_id is not None else None
    return orders, funders, chosen


def narrowed_to_order(request, orders):
    """The one order of `?order=` among `orders` (404 for a malformed or unseen one), or
    `orders` as they are without it."""
    raw = request.GET.get("order") or ""
    if not raw:
        return orders
    if parse_int(raw) is None:
        raise Http404
    return Order.objects.filter(pk=get_object_or_404(orders, pk=parse_int(raw)).pk)


def dashboard_data(orders):
    places = reporting.by_place(orders)
    return {
        "idle": funnel.idle_stock(orders),
        "summary": reporting.summary(orders),
        "months": reporting.by_month(orders),
        "services": reporting.by_service(orders),
        "places": places,
        "departments": reporting.by_department(orders, places),
        "profile": reporting.beneficiary_profile(orders),
    }


# --- charts (server-rendered SVG) ----------------------------------------------------------

# Steps an axis may take, times a power of ten: 1, 2, 5, 10, 20, 50…
NICE_STEPS = (1, 2, 5)
MAX_INTERVALS = 5


def axis_ticks(maximum):
    """The values of an axis from 0 to at least `maximum`: whole numbers, evenly spaced by
    1, 2 or 5 times a power of ten, at most MAX_INTERVALS intervals. Gridlines and labels
    are drawn at these same values, so that a bar of 4 ends on the line labelled 4."""
    maximum = max(int(math.ceil(maximum)), 1)
    magnitude = 1
    while True:
        for nice in NICE_STEPS:
            step = nice * magnitude
            intervals = -(-maximum // step)
            if intervals <= MAX_INTERVALS:
                return [step * i for i in range(intervals + 1)]
        magnitude *= 10


def bar_chart(rows, *, money=False, width=720, height=260):
    """Geometry of a bar chart per month (templates/cheques/reporting/_month_bars.html):
    `rows` are [(month, value, …)], one bar per value (a series each, one colour per series
    when there are several). Values are counts, or amounts in cents drawn on an axis of
    whole euros (`money`)."""
    if not rows:
        return None
    left, right, top, bottom = 64 if money else 48, 8, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    unit = 100 if money else 1  # an amount's axis counts euros
    ticks = axis_ticks(max(max(values) for _month, *values in rows) / unit)
    ceiling = ticks[-1] * unit
    series = len(rows[0]) - 1
    slot = plot_w / len(rows)
    bar_w = slot * (0.7 if series == 1 else 0.8 / series)
    label_every = max(1, math.ceil(len(rows) / 12))  # twelve month names at most

    def y_of(value):
        return round(top + plot_h - plot_h * value / ceiling, 2)

    def text(value):
        return format_euros(value, whole=True) if money else format_grouped(value)

    bars = [{
        "x": round(left + index * slot + slot * (0.15 if series == 1 else 0.1)
                   + number * bar_w, 2),
        "w": round(bar_w, 2), "y": y_of(value), "h": round(top + plot_h - y_of(value), 2),
        "series": number if series > 1 else None, "month": month, "text": text(value),
        "label_x": round(left + index * slot + slot / 2, 2),
        "named": number == 0 and index % label_every == 0,
    } for index, (month, *values) in enumerate(rows) for number, value in enumerate(values)]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "bottom": top + plot_h, "bars": bars,
            "ticks": [{"y": y_of(tick * unit), "text": text(tick * unit)} for tick in ticks]}


def month_charts(months):
    """The dashboard's two charts of redemptions per month: how many, and their amount."""
    return (bar_chart([(month, n) for month, n, _cents in months]),
            bar_chart([(month, cents) for month, _n, cents in months], money=True))


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(table, data, rows_of_orders):
    summary = data["summary"]
    if table == "summary":
        amounts, cheques, booklets = summary["amounts"], summary["cheques"], summary["booklets"]
        yield [_("indicateur"), _("valeur")]
        yield [_("carnets émis"), booklets["issued"]]
        yield [_("carnets remis"), booklets["handed_out"]]
        yield [_("carnets entamés"), booklets["started"]]
        yield [_("chèques émis"), cheques["issued"]]
        yield [_("chèques encaissés"), cheques["redeemed"]]
        yield [_("taux d’utilisation (%)"), format_plain(cheques["use_rate"])]
        yield [_("montant encaissé (€)"), format_decimal(amounts["redeemed_cents"])]
        yield [_("montant payé aux lieux (€)"), format_decimal(amounts["paid_cents"])]
        yield [_("encours (€)"), format_decimal(amounts["outstanding_cents"])]
        yield [_("chèques expirant bientôt"), summary["expiring_soon"]["cheques"]]
    elif table == "orders":
        yield [_("commande"), _("financeur"), _("statut"), _("chèques émis"),
               _("chèques encaissés"), _("taux d’utilisation (%)"), _("montant encaissé (€)")]
        for row in rows_of_orders:
            order = row["order"]
            yield [order.pk, order.funder.name, order.get_status_display(), row["issued"],
                   row["redeemed"], format_plain(row["use_rate"]),
                   format_decimal(row["redeemed_cents"])]
    elif table == "months":
        yield [_("mois"), _("encaissements"), _("montant (€)")]
        for month, n, cents in data["months"]:
            yield [month.strftime("%Y-%m"), n, format_decimal(cents)]
    elif table == "services":
        yield [_("service"), _("encaissements"), _("montant (€)")]
        for row in data["services"]:
            yield [_(row["service__label"]), row["n"], format_decimal(row["cents"])]
    elif table == "places":
        yield [_("lieu"), _("commune"), _("département"), _("encaissements"), _("montant (€)")]
        for row in data["places"]:
            yield [row["place__name"], row["place__town"], row["place__department"], row["n"],
                   format_decimal(row["cents"])]
    elif table == "departments":
        yield [_("code"), _("département"), _("encaissements"), _("montant (€)")]
        for row in data["departments"]:
            yield [row["code"], row["name"], row["n"], format_decimal(row["cents"])]
    elif table == "profile":
        yield [_("critère"), _("valeur"), _("carnets remis")]
        names = {"age_bracket": _("tranche d’âge"), "situation": _("situation"),
                 "department": _("département")}
        for key, rows in data["profile"].items():
            for row in rows:
                yield [names[key], row.label, row.count]


FUNNEL_TABLES = ("orders", "prescribers", "territories", "months")


def _funnel_cells(figures):
    counts, rates, delays = figures.counts, figures.rates, figures.delays

    def number(value):
        return "" if value is None else format_plain(value)

    return [counts["issued"], counts["handed_out"], number(rates["handed_out"]),
            number(delays["handed_out"]), counts["started"], number(rates["started"]),
            number(delays["started"]), counts["completed"], number(rates["completed"]),
            number(delays["completed"]), figures.moved]


def _funnel_header():
    return [_("carnets émis"), _("remis"), _("taux de remise (%)"),
            _("délai médian de remise (jours)"), _("entamés"), _("taux d’entame (%)"),
            _("délai médian remise → 1er chèque (jours)"), _("entièrement utilisés"),
            _("taux d’utilisation complète (%)"),
            _("délai médian 1er → dernier chèque (jours)"), _("carnets déplacés")]


def funnel_csv_rows(table, data):
    if table == "orders":
        yield [_("commande"), _("financeur"), *_funnel_header()]
        for order, figures in data["orders"]:
            yield [order.pk, order.funder.name, *_funnel_cells(figures)]
    elif table == "prescribers":
        yield [_("prescripteur"), *_funnel_header(), _("carnets reçus"), _("carnets cédés")]
        for label, _organisation, figures in data["prescribers"]:
            yield [label, *_funnel_cells(figures), figures.moved_in, figures.moved_out]
    elif table == "territories":
        yield [_("département"), _("commune"), *_funnel_header()]
        for department, commune, _label, figures in data["territories"]:
            yield [department, commune, *_funnel_cells(figures)]
    elif table == "months":
        yield [_("mois"), _("carnets remis"), _("carnets entamés"),
               _("carnets entièrement utilisés")]
        for month, handed, started, completed in data["months"]:
            yield [month.strftime("%Y-%m"), handed, started, completed]


def csv_response(table, data, rows_of_orders, name):
    return spreadsheet_csv(f"{name}-{table}.csv", csv_rows(table, data, rows_of_orders))


# --- pages ---------------------------------------------------------------------------------


def _render_dashboard(request, orders, *, order=None, funders=None, chosen=None):
    data = dashboard_data(orders)
    rows_of_orders = reporting.order_rows(orders) if order is None else []
    table = request.GET.get("format") == "csv" and request.GET.get("table")
    if table:
        if table not in CSV_TABLES:
            raise Http404
        name = f"commande-{order.pk}" if order else "tableau-de-bord"
        return csv_response(table, data, rows_of_orders, name)
    query = {k: v for k, v in request.GET.items() if k in ("funder",)}
    charts = month_charts(data["months"])
    return render(request, "cheques/reporting/funder_dashboard.html", {
        **data,
        "order": order,
        "orders": rows_of_orders,
        "funders": funders,
        "chosen": chosen,
        "show_funder_filter": funders is not None and (is_operator(request.user)
                                                        or len(funders) > 1),
        "chart": charts[0],
        "money_chart": charts[1],
        "csv_urls": {table: "?" + urlencode({**query, "format": "csv", "table": table})
                     for table in CSV_TABLES},
        "map_query": urlencode({**query, **({"order": order.pk} if order else {})}),
    })


@login_required
def funder_dashboard(request):
    """/financeur/tableau-de-bord/: every order of the funder (every funder: operator)."""
    orders, funders, chosen = funder_scope(request)
    return _render_dashboard(request, orders, funders=list(funders), chosen=chosen)


@login_required
def order_dashboard(request, pk):
    """/financeur/tableau-de-bord/commande/<id>/: one order (404 if not the user's)."""
    order = access.visible_order(request.user, pk)
    return _render_dashboard(request, Order.objects.filter(pk=order.pk), order=order)


@login_required
def funnel_page(request):
    """/financeur/entonnoir/: issued → handed out → started → fully used, per order,
    prescriber and territory, by month, with CSV exports and the idle stock."""
    orders, funders, chosen = funder_scope(request)
    orders = narrowed_to_order(request, orders)
    data = funnel.report(orders)
    table = request.GET.get("format") == "csv" and request.GET.get("table")
    if table:
        if table not in FUNNEL_TABLES:
            raise Http404
        return spreadsheet_csv(f"entonnoir-{table}.csv", funnel_csv_rows(table, data))
    query = {k: v for k, v in request.GET.items() if k in ("funder", "order")}
    return render(request, "cheques/reporting/funnel.html", {
        **data,
        "idle": funnel.idle_stock(orders),
        "funders": list(funders), "chosen": chosen,
        "show_funder_filter": is_operator(request.user) or len(funders) > 1,
        "chart": bar_chart(data["months"]),
        "csv_urls": {name: "?" + urlencode({**query, "format": "csv", "table": name})
                     for name in FUNNEL_TABLES},
        "may_move": access.may_move_booklets(request.user),
    })


@login_required
def places_json(request):
    """GeoJSON of redemptions by place, for the dashboard map (the table says the same)."""
    orders, _funders, _chosen = funder_scope(request)
    orders = narrowed_to_order(request, orders)
    features = [
        {"type": "Feature",
         "geometry": {"type": "Point",
                      "coordinates": [row["place__longitude"], row["place__latitude"]]},
         "properties": {"name": row["place__name"], "town": row["place__town"],
                        "redemptions": row["n"], "amount_cents": row["cents"]}}
        for row in reporting.by_place(orders)
        if row["place__latitude"] is not None and row["place__longitude"] is not None
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
def operator_dashboard(request):
    """/operateur/tableau-de-bord/: the operator's work queues and fraud signals."""
    access.require_operator(request.user)
    return render(request, "cheques/reporting/operator_dashboard.html",
                  reporting.operator_overview())
