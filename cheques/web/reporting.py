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

from .. import access, reporting
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


def dashboard_data(orders):
    places = reporting.by_place(orders)
    return {
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


def bar_chart(points, *, money=False, width=720, height=260):
    """Geometry of a bar chart (templates/cheques/reporting/_bar_chart.html) of
    [(month, value)]: counts, or amounts in cents drawn on an axis in whole euros."""
    if not points:
        return None
    left, right, top, bottom = 64 if money else 48, 8, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    unit = 100 if money else 1  # an amount's axis counts euros
    ticks = axis_ticks(max(value for _month, value in points) / unit)
    ceiling = ticks[-1] * unit

    def y_of(value):
        return round(top + plot_h - plot_h * value / ceiling, 2)

    def label(value):
        return format_euros(value, whole=True) if money else format_grouped(value)

    slot = plot_w / len(points)
    bars = [{
        "x": round(left + index * slot + slot * 0.15, 2), "w": round(slot * 0.7, 2),
        "y": y_of(value), "h": round(top + plot_h - y_of(value), 2),
        "label_x": round(left + index * slot + slot / 2, 2),
        "month": month, "value": value, "label": label(value),
    } for index, (month, value) in enumerate(points)]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "bottom": top + plot_h, "bars": bars, "money": money,
            "ticks": [{"y": y_of(tick * unit), "label": label(tick * unit)} for tick in ticks],
            "label_every": max(1, math.ceil(len(points) / 12))}


def month_charts(months):
    """The two charts of redemptions per month: how many cheques, and their amount."""
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
def places_json(request):
    """GeoJSON of redemptions by place, for the dashboard map (the table says the same)."""
    orders, _funders, _chosen = funder_scope(request)
    raw = request.GET.get("order") or ""
    if raw:
        if parse_int(raw) is None:
            raise Http404
        orders = Order.objects.filter(pk=get_object_or_404(orders, pk=parse_int(raw)).pk)
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
