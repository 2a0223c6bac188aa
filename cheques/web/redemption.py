"""Web pages of redemption: the mediator's scan page, the place's history (with CSV), and
the public page a phone camera opens from a cheque's QR code."""

import itertools

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aptic.http import spreadsheet_csv
from aptic.web import perform
from places.access import places_for_redemption

from .. import access, codes, redemption, reimbursement
from ..models import Cheque


@login_required
def scan(request):
    """Mobile-first page: camera or typed codes, a basket, a service, one confirmation."""
    places = list(places_for_redemption(request.user).prefetch_related("services")
                  .order_by("name"))
    if not places:
        return render(request, "cheques/redemption/no_place.html", status=403)
    place_data = [
        {"id": place.pk, "name": str(place),
         "services": [{"slug": s.slug, "label": s.label, "cheques": s.default_cheques}
                      for s in place.services.all() if s.active]}
        for place in places
    ]
    initial = None
    code, signature = request.GET.get("code", ""), request.GET.get("s", "")
    if code and signature and codes.verify_signature(code, signature):
        initial = {"code": codes.normalise(code), "signature": signature}
    return render(request, "cheques/redemption/scan.html", {
        "places": place_data,
        "initial_cheque": initial,
        "alphabet": codes.ALPHABET,
        "damm": codes.DAMM,
        "scan_messages": scan_messages(),
    })


def scan_messages():
    """What scan.js says, in the page's language ({count}, {total}, {code}, {status} are
    filled in by the script; "one"/"other" are the singular and plural)."""
    return {
        "cheques": {"one": _("{count} chèque"), "other": _("{count} chèques")},
        "no_common_service": _("Aucun service de ce lieu n’est accepté par tous les chèques "
                               "du panier."),
        "to_redeem": _("à encaisser"),
        "checking": _("vérification…"),
        "remove": _("Retirer"),
        "remove_cheque": _("Retirer le chèque {code}"),
        "error_status": _("Erreur {status}"),
        "offline_check": _("Pas de connexion : vérification en attente."),
        "already_in_basket": _("Ce chèque est déjà dans le panier."),
        "bad_check_character": _("Caractère de contrôle erroné — vérifiez le code."),
        "bad_characters": _("Ce code contient des caractères qui n’existent pas sur les "
                            "chèques."),
        "bad_length": _("Un code compte 13 caractères (XXXX-XXXX-XXXX-X)."),
        "redeeming": _("Encaissement en cours…"),
        "redeemed": {"one": _("{count} chèque encaissé — total {total}."),
                     "other": _("{count} chèques encaissés — total {total}.")},
        "see_history": _("Voir l’historique"),
        "offline_basket": _("Pas de connexion : le panier est gardé et sera envoyé dès le "
                            "retour du réseau."),
        "camera_needs_https": _("La caméra n’est disponible que sur une connexion sécurisée "
                                "(HTTPS) ou sur localhost. Saisissez le code à la main."),
        "camera_opening": _("Ouverture de la caméra…"),
        "camera_ready": _("Présentez le QR code du chèque devant la caméra."),
        "cheque_added": _("Chèque {code} ajouté."),
        "camera_failed": _("Impossible d’utiliser la caméra. Saisissez le code à la main."),
    }


@login_required
def history(request):
    access.require(access.may_use_redemptions(request.user),
                   _("Réservé aux médiateurs et gestionnaires de lieu."))
    # The API's filters; on this page a malformed value (hand-edited URL) is left out, as if
    # the filter were empty, where the API refuses it (django-filter keeps only valid fields).
    found = redemption.RedemptionFilter(
        request.GET, queryset=access.visible_redemptions(request.user, include_undone=True))
    redemptions = found.qs
    if request.GET.get("format") == "csv":
        return _csv(redemptions)
    everything = access.visible_redemptions(request.user)
    return render(request, "cheques/redemption/history.html", {
        "redemptions": redemptions[:500],
        "totals": redemption.totals(redemptions),
        "filters": {name: found.form.cleaned_data.get(name) or "" for name in found.filters},
        "places": places_for_redemption(request.user).order_by("name"),
        # The filters offer only the mediators and services that appear in the history.
        "mediators": [(pk, f"{first} {last}".strip() or username) for pk, first, last, username
                      in everything.order_by().values_list(
                          "mediator_id", "mediator__first_name", "mediator__last_name",
                          "mediator__username").distinct()],
        "services": sorted(everything.order_by().values_list("service__slug", "service__label")
                           .distinct()),
        "csv_query": urlencode({**{k: v for k, v in request.GET.items() if k != "format"},
                                "format": "csv"}),
        "now": timezone.now(),
        "undo_window": redemption.UNDO_WINDOW,
    })


def _csv(redemptions):
    """The history as CSV: each redemption with its statement, the statement's date and
    the day the structure was paid (cheques.reimbursement.payment_dates)."""
    header = [_("date"), _("lieu"), _("chèque"), _("service"), _("médiateur"),
              _("montant (€)"), _("annulé le"), _("relevé"),
              *reimbursement.PAYMENT_DATE_HEADERS]
    rows = (
        [timezone.localtime(r.redeemed_at).strftime("%Y-%m-%d %H:%M"), r.place.name,
         r.cheque.number, r.service.label, r.mediator.get_full_name() or r.mediator.username,
         f"{r.amount_cents / 100:.2f}".replace(".", ","),
         timezone.localtime(r.undone_at).strftime("%Y-%m-%d %H:%M") if r.undone_at else "",
         r.statement.reference if r.statement_id else "",
         *reimbursement.payment_dates(r.statement)]
        for r in redemptions.select_related("statement").iterator()
    )
    return spreadsheet_csv("encaissements.csv", itertools.chain([header], rows))


@login_required
@require_POST
def undo(request, pk):
    found = access.visible_redemption(request.user, pk)
    return perform(request, lambda: redemption.undo(redemption=found, user=request.user),
                   _("L’encaissement du chèque %(number)s est annulé.")
                   % {"number": found.cheque.number}, reverse("redemption-history"))


def public_cheque(request, code):
    """What a phone shows when it scans a cheque: its value and validity, and where to use
    it; never who holds it or where it was used. Only for a valid signature."""
    signature = request.GET.get("s", "")
    if not codes.verify_signature(code, signature):  # before any database query
        raise Http404
    if request.user.is_authenticated and places_for_redemption(request.user).exists():
        return redirect(f"{reverse('redemption-scan')}?{urlencode({'code': code, 's': signature})}")
    cheque = (Cheque.objects.select_related("order", "order__funder")
              .filter(code=codes.normalise(code)).first())
    if cheque is None:
        raise Http404
    return render(request, "cheques/redemption/public_cheque.html", {
        "cheque": cheque,
        "usable": cheque.state in Cheque.OPEN_STATES
        and timezone.localdate() <= cheque.order.expiry_date,
    })
