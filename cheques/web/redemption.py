"""Web pages of redemption: the mediator's scan page, the place's history (with CSV), the
public page a phone camera opens from a cheque's QR code, and the form that checks a code
typed without its QR code."""

import hashlib
import itertools
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aptic import ratelimit
from aptic.errors import DomainError
from aptic.http import spreadsheet_csv
from aptic.l10n import format_decimal, format_euros
from aptic.web import confirm_first, form_error, perform
from places.access import places_for_redemption

from .. import access, codes, guard, lifecycle, redemption, reimbursement
from ..models import Cheque
from .forms import CodeForm


@login_required
def scan(request):
    """Mobile-first page: camera or typed codes, a basket, a service, one confirmation."""
    places = list(places_for_redemption(request.user).prefetch_related("services")
                  .order_by("name"))
    if not places:
        return render(request, "cheques/redemption/no_place.html", status=403)
    place_data = [
        {"id": place.pk, "name": str(place),
         "services": [{"slug": s.slug, "label": s.display_label,
                       "cheques": redemption.cheques_per_session(s)}
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
        "max_sessions": redemption.MAX_CODES,
    })


def scan_messages():
    """What scan.js says, in the page's language ({count}, {total}, {code}, {status}… are
    filled in by the script; "one"/"other" are the singular and plural)."""
    return {
        "cheques": {"one": _("{count} chèque"), "other": _("{count} chèques")},
        "service_option": _("{service} — {price}"),
        "to_redeem": _("à encaisser"),
        "checking": _("vérification…"),
        "refused": _("Refusé"),
        "remove": _("Retirer"),
        "remove_cheque": _("Retirer le chèque {code}"),
        "error_status": _("Erreur {status}"),
        "offline_check": _("Pas de connexion : vérification en attente."),
        "already_in_basket": _("Ce chèque est déjà dans le panier."),
        "bad_check_character": _("Caractère de contrôle erroné — vérifiez le code."),
        "bad_characters": _("Ce code contient des caractères qui n’existent pas sur les "
                            "chèques."),
        "bad_length": _("Un code compte 13 caractères (XXXX-XXXX-XXXX-X)."),
        # The price of the chosen service, as the basket grows.
        "price_rule": _("{service} : {price} par séance."),
        "price_multiple": _("Le panier doit compter un multiple de {price} ({choices}…)."),
        "price_sessions": {"one": _("Pour {count} séance, il faut {expected}."),
                           "other": _("Pour {count} séances, il faut {expected}.")},
        "basket_count": {"one": _("Le panier compte {count} chèque."),
                         "other": _("Le panier compte {count} chèques.")},
        "price_ok": {"one": _("Le compte est bon : {count} séance."),
                     "other": _("Le compte est bon : {count} séances.")},
        # Why the button is disabled.
        "why_empty": _("Ajoutez au moins un chèque au panier."),
        "why_no_service": _("Choisissez le service rendu."),
        "why_checking": _("Vérification des chèques en cours…"),
        "why_refused": {"one": _("Retirez le chèque refusé pour encaisser les autres."),
                        "other": _("Retirez les {count} chèques refusés pour encaisser les "
                                   "autres.")},
        "why_sessions": _("Corrigez le nombre de séances."),
        "why_count": _("Le panier doit compter {expected} pour ce service : il en compte "
                       "{count}."),
        "or": _("{a} ou {b}"),
        "sessions_invalid": _("Indiquez un nombre entier de séances, de 1 à {max}."),
        # What the screen reader hears.
        "added": _("Chèque {code} ajouté au panier."),
        "accepted": _("Chèque {code} : à encaisser. {basket}"),
        "refused_row": _("Chèque {code} refusé : {reason}"),
        "removed": _("Chèque {code} retiré du panier."),
        "basket_total": {"one": _("{count} chèque, {total}."),
                         "other": _("{count} chèques, {total}.")},
        "redeeming": _("Encaissement en cours…"),
        "redeemed": {"one": _("{count} chèque encaissé"),
                     "other": _("{count} chèques encaissés")},
        "redeemed_for": _("pour « {service} »"),
        "see_history": _("Voir l’historique"),
        "offline_basket": _("Pas de connexion : le panier est gardé et sera envoyé dès le "
                            "retour du réseau."),
        "bad_signature_format": _("Ce QR code n’est pas celui d’un chèque #APTIC : saisissez "
                                  "le code imprimé."),
        # The outbox: baskets kept on the device until the network returns.
        "pending_baskets": {"one": _("{count} panier en attente"),
                            "other": _("{count} paniers en attente")},
        # {place} ends with its town in brackets: no brackets around it.
        "outcome_redeemed": {"one": _("Panier du {when}, {place} : {count} chèque encaissé, "
                                      "{total}."),
                             "other": _("Panier du {when}, {place} : {count} chèques "
                                        "encaissés, {total}.")},
        "outcome_refused": {"one": _("Panier du {when}, {place} : refusé ({count} chèque). "
                                     "{reason}"),
                            "other": _("Panier du {when}, {place} : refusé ({count} "
                                       "chèques). {reason}")},
        "signed_out": _("Votre session a expiré : reconnectez-vous."),
        # "Tester la validité".
        "check_ok": {"one": _("Valable : {count} chèque, {total}. Rien n’a été encaissé."),
                     "other": _("Valables : {count} chèques, {total}. Rien n’a été "
                                "encaissé.")},
        "check_offline": _("Pas de connexion : le test demande le réseau."),
        "camera_needs_https": _("La caméra ne fonctionne que sur une connexion sécurisée "
                                "(HTTPS). Saisissez le code à la main, ou ouvrez le site en "
                                "https://."),
        "camera_opening": _("Ouverture de la caméra…"),
        "camera_ready": _("Présentez le QR code du chèque devant la caméra."),
        "cheque_added": _("Chèque {code} ajouté."),
        "camera_failed": _("Impossible d’utiliser la caméra. Saisissez le code à la main."),
        "camera_stopped": _("Caméra arrêtée."),
    }


# What the scan page loads, kept on the device by its service worker (base.html's files too).
SCAN_PAGE_FILES = ["aptic/site.css", "aptic/favicon.svg", "aptic/format.js", "aptic/nav.js",
                   "cheques/scan.css", "cheques/outbox.js", "cheques/scan.js",
                   "vendor/barcode-detector/polyfill.js", "vendor/zxing-wasm/zxing_reader.wasm"]


def service_worker(request):
    """The scan page's service worker, at /encaisser/sw.js so that its scope is the page's
    own. It lists the files by the addresses {% static %} gives them (hashed in production),
    and its version follows that list."""
    page = reverse("redemption-scan")
    assets = [static(name) for name in SCAN_PAGE_FILES]
    version = hashlib.sha256(json.dumps([page, *assets]).encode()).hexdigest()[:12]
    response = render(request, "cheques/redemption/sw.js", {
        "page": page, "assets": json.dumps(assets), "version": version,
    }, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker at each visit; no copy of it is kept elsewhere.
    response["Cache-Control"] = "no-cache"
    return response


def scan_token(request):
    """A fresh CSRF token for the scan page before it sends its kept baskets: the page may
    come from the service worker's cache, with the token of an older session. Says 403 when
    the session has ended (the page then asks to sign in again)."""
    if not request.user.is_authenticated:
        response = JsonResponse({"code": "not_authenticated", "detail": _(
            "Votre session a expiré : reconnectez-vous pour envoyer les paniers en attente.")},
            status=403)
    else:
        response = JsonResponse({"csrf": get_token(request)})
    response["Cache-Control"] = "no-store"
    return response


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
    the day the structure was paid (cheques.reimbursement.payment_dates), then, for a basket
    kept offline, when and on which device it was scanned."""
    header = [_("date"), _("lieu"), _("chèque"), _("service"), _("médiateur"),
              _("montant (€)"), _("annulé le"), _("relevé"),
              *reimbursement.PAYMENT_DATE_HEADERS, _("scanné le (hors ligne)"), _("appareil")]
    def moment(instant):
        return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M") if instant else ""

    rows = (
        [moment(r.redeemed_at), r.place.name,
         r.cheque.number, r.service.display_label,
         r.mediator.get_full_name() or r.mediator.username,
         format_decimal(r.amount_cents),
         moment(r.undone_at),
         r.statement.reference if r.statement_id else "",
         *reimbursement.payment_dates(r.statement),
         # Only when it differs from the date received: a basket kept offline.
         moment(r.scanned_at) if r.scanned_apart else "",
         r.device]
        for r in redemptions.select_related("statement").iterator()
    )
    return spreadsheet_csv("encaissements.csv", itertools.chain([header], rows))


@login_required
def undo(request, pk):
    found = access.visible_redemption(request.user, pk)
    history = reverse("redemption-history")
    asked = confirm_first(
        request, title=_("Annuler l’encaissement du chèque %(number)s ?")
        % {"number": found.cheque.number},
        consequence=_("L’encaissement du %(date)s à %(place)s (%(service)s, %(amount)s) sera "
                      "annulé : le chèque redevient utilisable et le lieu ne sera pas "
                      "remboursé pour cet encaissement.") % {
            "date": date_format(timezone.localtime(found.redeemed_at),
                                "SHORT_DATETIME_FORMAT"),
            "place": found.place.name, "service": found.service.display_label,
            "amount": format_euros(found.amount_cents)},
        button=_("Annuler l’encaissement"), cancel=history)
    return asked or perform(
        request, lambda: redemption.undo(redemption=found, user=request.user),
        _("L’encaissement du chèque %(number)s est annulé.") % {"number": found.cheque.number},
        history)


def public_cheque(request, code):
    """What a phone shows when it scans a cheque: its state, judged as the scan page judges
    it (cheques.lifecycle.status), its value, the services and the territory where it is
    accepted, its last day, and the map of the places that take it; never who holds it or
    where it was used. Only for a valid signature: without one, the form that asks for the
    code (cheque_check)."""
    signature = request.GET.get("s", "")
    if not codes.verify_signature(code, signature):  # before any database query
        return _check_form(request, CodeForm(initial={"code": _printable(code)}),
                           tampered=bool(signature))
    if request.user.is_authenticated and places_for_redemption(request.user).exists():
        return redirect(f"{reverse('redemption-scan')}?{urlencode({'code': code, 's': signature})}")
    cheque = (Cheque.objects.select_related("order", "order__funder")
              .filter(code=codes.normalise(code)).first())
    if cheque is None:
        raise Http404
    order = cheque.order
    return render(request, "cheques/redemption/public_cheque.html", {
        "cheque": cheque,
        "status": lifecycle.status(cheque),
        "services": [service.display_label for service in
                     order.allowed_services.order_by("category__position", "position")],
        "territory": order.territory_names,
        "map_path": order.map_path,
    })


def _printable(code):
    """A code from the address, as printed, when it looks like one; else nothing."""
    code = codes.normalise(code)
    return codes.format_code(code) if codes.is_well_formed(code) else ""


def _check_form(request, form, *, checked=None, tampered=False, http_status=200):
    return render(request, "cheques/redemption/cheque_check.html", {
        "form": form, "checked": checked, "tampered": tampered}, status=http_status)


@ratelimit.limited("cheque_lookup", gettext_lazy(
    "Trop de vérifications de chèques depuis votre connexion."))
def cheque_check(request):
    """A code typed without its QR signature: throttled like every look-up (per address, or
    per account when signed in, and the failures counted by cheques.guard), it tells only
    the cheque's value, validity and state."""
    if request.method != "POST":
        return _check_form(request, CodeForm())
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _check_form(request, form, http_status=400)
    try:
        with guard.counting_failures(request):
            cheque = lifecycle.lookup_cheque(form.cleaned_data["code"])
    except DomainError as error:
        form_error(form, "code", error)
        return _check_form(request, form, http_status=error.status)
    return _check_form(request, CodeForm(), checked={
        "code": cheque.display_code, "value": cheque.face_value_cents,
        "valid_until": cheque.order.valid_until, "accepted_until": cheque.order.expiry_date,
        "state": lifecycle.status(cheque)})
