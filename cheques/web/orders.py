"""Web pages of ordering: the funder's order form (live price, summary, confirmation), the
order list and detail (issuance progress), the operator's queue, hand-over and cancellation
of booklets. Thin: the rules live in cheques.ordering and cheques.lifecycle."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aptic.http import attachment
from aptic.l10n import format_euros
from aptic.permissions import is_operator
from aptic.web import confirm_first, perform, submit

from .. import access, guard, invoicing, issuance, lifecycle, ordering
from ..models import Cheque, Order, PricingSettings
from .forms import (
    CancelForm,
    DistributeForm,
    ExtendValidityForm,
    MoveForm,
    OrderDecisionForm,
    OrderForm,
    OrderPriceForm,
    default_extension,
)

DRAFT_KEY = "cheques:order-draft"


def _require_funder_manager(user):
    access.require(access.may_order(user), _("Seuls les gestionnaires d’un financeur commandent."))
    return access.managed_funders(user)


# --- ordering: form → summary → confirmation -----------------------------------------------


def _draft_logo(draft):
    if not draft or not draft.get("logo"):
        return None
    logo = draft["logo"]
    return SimpleUploadedFile(logo["name"], base64.b64decode(logo["data"]), logo["type"])


def _bound_form(draft, funders):
    """The order form bound to the draft kept in the session (re-validated each time)."""
    files = {}
    logo = _draft_logo(draft)
    if logo:
        files["logo"] = logo
    return OrderForm(draft["data"], files, funders=funders)


@login_required
def order_new(request):
    funders = _require_funder_manager(request.user)
    draft = request.session.get(DRAFT_KEY)
    if request.method == "POST":
        form = OrderForm(request.POST, request.FILES, funders=funders)
        if form.is_valid():
            data = request.POST.copy()
            data.pop("csrfmiddlewaretoken", None)
            new = {"data": {key: data.getlist(key) if key == "allowed_services"
                            else data.get(key) for key in data}}
            logo = form.cleaned_data.get("logo")
            if logo:
                new["logo"] = {"name": logo.name[-100:], "type": form.logo_type,
                               "data": base64.b64encode(logo.read()).decode("ascii")}
            elif draft and draft.get("logo") and not request.POST.get("remove_logo"):
                new["logo"] = draft["logo"]
            request.session[DRAFT_KEY] = new
            return redirect("order-summary")
    elif draft and request.GET.get("modifier"):
        form = OrderForm(initial=_initial_from(draft["data"]), funders=funders)
    else:
        user = request.user
        form = OrderForm(funders=funders, initial={
            "contact_name": user.get_full_name(), "contact_email": user.email})
        draft = None
    return render(request, "cheques/orders/form.html", {
        "form": form,
        "draft_logo": (draft or {}).get("logo"),
        "fee_cents": PricingSettings.current().per_booklet_fee_cents,
        "initial_total_cents": _form_total(form),
    })


def _initial_from(data):
    initial = dict(data)
    initial["requires_activation"] = data.get("requires_activation") in ("on", "true", "1")
    return initial


def _form_total(form):
    """The price of what the form holds (the live price before any script runs), or None
    while it holds no valid figures."""
    return preview_price(form["booklets"].value(), form["cheques_per_booklet"].value(),
                         form["face_value"].value())


def preview_price(booklets, cheques_per_booklet, face_value):
    """cheques.pricing's total of typed figures, or None when one of them is not valid."""
    terms = OrderPriceForm({"booklets": booklets, "cheques_per_booklet": cheques_per_booklet,
                            "face_value": face_value})
    if not terms.is_valid():
        return None
    return ordering.current_price(booklets=terms.cleaned_data["booklets"],
                                  cheques_per_booklet=terms.cleaned_data["cheques_per_booklet"],
                                  face_value_cents=terms.face_value_cents).total_cents


@login_required
def order_price(request):
    """The live price of the order form, as the server computes it (order_form.js)."""
    _require_funder_manager(request.user)
    total = preview_price(request.GET.get("booklets"), request.GET.get("cheques_per_booklet"),
                          request.GET.get("face_value"))
    return JsonResponse({"total_cents": total,
                         "display": format_euros(total) if total is not None else "—"})


@login_required
def order_summary(request):
    """The summary before anything is written; POST « confirmer » creates the order."""
    funders = _require_funder_manager(request.user)
    draft = request.session.get(DRAFT_KEY)
    if not draft:
        return redirect("order-new")
    form = _bound_form(draft, funders)
    if not form.is_valid():
        messages.error(request, _("Certaines données de la commande ne sont plus valables : "
                                  "corrigez-les."))
        return render(request, "cheques/orders/form.html", {
            "form": form, "draft_logo": draft.get("logo"),
            "fee_cents": PricingSettings.current().per_booklet_fee_cents,
            "initial_total_cents": _form_total(form)})
    terms = _terms(form)
    fee = PricingSettings.current().per_booklet_fee_cents
    price = ordering.current_price(booklets=terms["booklets"],
                                   cheques_per_booklet=terms["cheques_per_booklet"],
                                   face_value_cents=terms["face_value_cents"])
    if request.method == "POST" and request.POST.get("step") == "confirmer":
        logo = None
        if draft.get("logo"):
            logo = ContentFile(base64.b64decode(draft["logo"]["data"]),
                               name=draft["logo"]["name"])
        order = ordering.create_order(created_by=request.user, logo=logo, **terms)
        del request.session[DRAFT_KEY]
        messages.success(request, _("Votre commande n° %(id)s est envoyée : l’opérateur va "
                                    "la valider.") % {"id": order.pk})
        return redirect("order-detail", pk=order.pk)
    return render(request, "cheques/orders/summary.html", {
        "terms": terms, "form": form, "fee_cents": fee, "total_cents": price.total_cents,
        "cheque_count": terms["booklets"] * terms["cheques_per_booklet"],
        "cheques_cents": price.cheques_cents, "fees_cents": price.fees_cents,
        "logo": draft.get("logo"),
        "logo_kilobytes": len(base64.b64decode(draft["logo"]["data"])) // 1024 + 1
        if draft.get("logo") else 0,
        "territory_names": [f"{code} {name}" for code, name in _departments(terms)],
    })


def _departments(terms):
    from places.departments import DEPARTMENTS

    return [(code, DEPARTMENTS.get(code, "")) for code in terms["territory"]]


def _terms(form):
    data = form.cleaned_data
    from services.models import Service

    return {
        "funder": data["funder"],
        "booklets": data["booklets"],
        "cheques_per_booklet": data["cheques_per_booklet"],
        "face_value_cents": form.face_value_cents,
        "valid_until": data["valid_until"],
        "allowed_services": list(Service.objects.filter(slug__in=data["allowed_services"])),
        "territory": data["territory"],
        "target_public": data["target_public"],
        "requires_activation": data["requires_activation"],
        "custom_wording": data["custom_wording"],
        "contact_name": data["contact_name"],
        "contact_email": data["contact_email"],
        "contact_phone": data["contact_phone"],
    }


# --- orders: list, detail, progress, decisions ---------------------------------------------


@login_required
def order_list(request):
    access.require(access.may_follow_orders(request.user),
                   _("Réservé aux financeurs et à l’opérateur."))
    orders = access.visible_orders(request.user)
    status = request.GET.get("statut", "")
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    return render(request, "cheques/orders/list.html", {
        "orders": orders[:500], "statuses": Order.Status.choices, "status": status,
        "operator": is_operator(request.user),
        "may_order": access.may_order(request.user),
    })


@login_required
def order_detail(request, pk):
    order = access.visible_order(request.user, pk)
    operator = is_operator(request.user)
    counts = order.counts_by_state() if order.status == Order.Status.ISSUED else None
    return render(request, "cheques/orders/detail.html", {
        "order": order,
        "counts": [(label, counts[value]) for value, label in Cheque.State.choices]
        if counts is not None else None,
        "issuance": issuance.progress(order),
        "operator": operator,
        "may_cancel": order.status == Order.Status.SUBMITTED
        and access.may_withdraw(request.user, order),
        "reject_form": OrderDecisionForm(),
        "extend_form": ExtendValidityForm(initial={"valid_until": default_extension(order)}),
        "booklets": order.booklet_set.select_related("replaces")
        .prefetch_related("replacements").order_by("number")[:50],
        "territory_names": [f"{code} {name}" for code, name in
                            _departments({"territory": order.territory})],
        "quote_number": invoicing.quote_number(order),
        "invoice": invoicing.invoice_of(order),
    })


@login_required
def order_quote_pdf(request, pk):
    order = access.visible_order(request.user, pk)
    return attachment(invoicing.quote_pdf(order), "application/pdf",
                      f"devis-{invoicing.quote_number(order)}.pdf")


@login_required
def order_invoice_pdf(request, pk):
    order = access.visible_order(request.user, pk)
    invoice = invoicing.invoice_of(order)
    if invoice is None:  # not approved (yet, or ever)
        raise Http404
    return attachment(invoicing.invoice_pdf(invoice), "application/pdf",
                      f"facture-{invoice.number}.pdf")


@login_required
def order_progress(request, pk):
    order = access.visible_order(request.user, pk)
    return JsonResponse({"status": order.status, "status_label": order.get_status_display(),
                         **issuance.progress(order)})


@login_required
def order_cancel(request, pk):
    order = access.visible_order(request.user, pk)
    detail = reverse("order-detail", args=[order.pk])
    asked = confirm_first(
        request, title=_("Annuler la commande n° %(id)s ?") % {"id": order.pk},
        consequence=_("La commande de %(count)s chèques (%(total)s) sera retirée : "
                      "l’opérateur ne la validera pas et aucun chèque ne sera émis.")
        % {"count": order.cheque_count, "total": format_euros(order.total_cents)},
        button=_("Annuler la commande"), cancel=detail)
    return asked or perform(request, lambda: ordering.cancel_order(order, actor=request.user),
                            _("La commande n° %(id)s est annulée.") % {"id": order.pk},
                            detail)


def _order_to_act_on(request, pk, may, refusal):
    """The order of an action: unknown if it is not visible, refused (403) if visible but
    the action is not the user's to take, before any form is read."""
    order = access.visible_order(request.user, pk)
    access.require(may(request.user, order), refusal)
    return order


@login_required
@require_POST
def order_extend(request, pk):
    order = _order_to_act_on(request, pk, access.may_extend,
                             _("Seul l’opérateur prolonge une validité."))
    form = ExtendValidityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez une date valide."))
        return redirect("order-detail", pk=order.pk)
    valid_until = form.cleaned_data["valid_until"]
    return perform(
        request, lambda: lifecycle.extend_validity(order, actor=request.user,
                                                   valid_until=valid_until),
        _("La validité est prolongée jusqu’au %(date)s.") % {
            "date": date_format(valid_until, "SHORT_DATE_FORMAT")},
        reverse("order-detail", args=[order.pk]))


@login_required
def operator_queue(request):
    access.require_operator(request.user)
    orders = Order.objects.filter(status=Order.Status.SUBMITTED).select_related("funder") \
        .order_by("created_at", "id")
    return render(request, "cheques/orders/queue.html", {
        "orders": orders, "reject_form": OrderDecisionForm(),
        "in_progress": Order.objects.filter(status=Order.Status.APPROVED)
        .select_related("funder", "invoice"),
    })


@login_required
def order_approve(request, pk):
    order = _order_to_act_on(request, pk, access.may_decide,
                             _("Seul l’opérateur valide une commande."))
    asked = confirm_first(
        request, title=_("Valider la commande n° %(id)s ?") % {"id": order.pk},
        consequence=_("La facture de %(total)s sera émise au nom de %(funder)s, puis ses "
                      "%(count)s chèques seront émis et imprimés.")
        % {"total": format_euros(order.total_cents), "funder": order.funder.name,
           "count": order.cheque_count},
        button=_("Valider et émettre"), cancel=reverse("order-queue"))
    return asked or perform(request, lambda: ordering.approve_order(order, actor=request.user),
                            _approved, reverse("order-queue"))


def _approved(order):
    invoice = invoicing.invoice_of(order)
    if order.status == Order.Status.ISSUED:
        return _("Commande n° %(id)s validée (facture %(invoice)s) : %(count)s chèques "
                 "émis.") % {"id": order.pk, "invoice": invoice.number,
                             "count": order.issued_cheques}
    return _("Commande n° %(id)s validée (facture %(invoice)s) : l’émission est en "
             "cours.") % {"id": order.pk, "invoice": invoice.number}


@login_required
@require_POST
def order_reject(request, pk):
    order = _order_to_act_on(request, pk, access.may_decide,
                             _("Seul l’opérateur refuse une commande."))
    form = OrderDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez le motif du refus."))
        return redirect("order-queue")
    reason = form.cleaned_data["reason"]
    asked = confirm_first(
        request, title=_("Refuser la commande n° %(id)s ?") % {"id": order.pk},
        consequence=_("%(funder)s sera prévenu du refus, avec ce motif : « %(reason)s ». "
                      "Une commande refusée ne peut plus être validée.")
        % {"funder": order.funder.name, "reason": reason},
        button=_("Refuser la commande"), cancel=reverse("order-queue"),
        carry={"reason": reason})
    return asked or perform(request,
                   lambda: ordering.reject_order(order, actor=request.user, reason=reason),
                   _("Commande n° %(id)s refusée.") % {"id": order.pk}, reverse("order-queue"))


# --- booklets: hand-over and cancellation --------------------------------------------------


@login_required
def booklet_distribute(request):
    access.require(access.may_hand_over_booklets(request.user),
                   _("Réservé aux prescripteurs et aux financeurs."))
    form = DistributeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def hand_over():
            with guard.counting_failures(request):
                return lifecycle.distribute_booklet(
                    data["number"], actor=request.user, age_bracket=data["age_bracket"],
                    postcode=data["postcode"], situation=data["situation"])

        done = submit(request, form, "number", hand_over,
                      lambda booklet: _("Carnet %(number)s remis : ses chèques sont "
                                        "utilisables.") % {"number": booklet.number},
                      reverse("booklet-distribute"))
        if done:
            return done
    return render(request, "cheques/orders/distribute.html", {"form": form})


@login_required
def booklet_move(request):
    """/carnets/deplacer/: a funder (or the operator) moves booklets not yet handed out
    from one prescriber to another (cheques.lifecycle.move_booklets)."""
    access.require(access.may_move_booklets(request.user),
                   _("Réservé aux financeurs et à l’opérateur."))
    prescribers = list(access.movable_to(request.user))
    form = MoveForm(request.POST or None, prescribers=prescribers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def move():
            with guard.counting_failures(request):
                return lifecycle.move_booklets(data["numbers"], to_holder=data["holder"] or None,
                                               actor=request.user)

        done = submit(request, form, "numbers", move,
                      lambda moved: _("%(count)s carnet(s) déplacé(s).") % {"count": len(moved)},
                      reverse("booklet-move"))
        if done:
            return done
    return render(request, "cheques/orders/move.html", {"form": form})


@login_required
def booklet_cancel(request):
    access.require(access.may_cancel_cheques(request.user),
                   _("Réservé aux financeurs et à l’opérateur."))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        asked = confirm_first(
            request, title=_("Annuler définitivement ?"),
            consequence=(_("Le carnet %(identifier)s sera annulé : ses chèques non encaissés "
                           "ne pourront plus jamais être encaissés. Motif : %(reason)s.")
                         if data["target"] == CancelForm.BOOKLET else
                         _("Le chèque %(identifier)s sera annulé : il ne pourra plus jamais "
                           "être encaissé. Motif : %(reason)s."))
            % {"identifier": data["identifier"], "reason": data["reason"]},
            button=_("Annuler définitivement"), cancel=reverse("booklet-cancel"),
            carry={name: data[name] for name in ("target", "identifier", "reason")})
        if asked:
            return asked

        def cancel():
            with guard.counting_failures(request):
                if data["target"] == CancelForm.BOOKLET:
                    booklet, count = lifecycle.cancel_booklet(
                        data["identifier"], actor=request.user, reason=data["reason"])
                    return _("Carnet %(number)s annulé (%(count)s chèques).") % {
                        "number": booklet.number, "count": count}
                cheque = lifecycle.cancel_cheque(data["identifier"], actor=request.user,
                                                 reason=data["reason"])
                return _("Chèque %(number)s annulé.") % {"number": cheque.number}

        done = submit(request, form, "identifier", cancel, lambda message: message,
                      reverse("booklet-cancel"))
        if done:
            return done
    return render(request, "cheques/orders/cancel.html", {"form": form})
