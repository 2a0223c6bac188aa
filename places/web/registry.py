"""Pages of the registry for structures: joining the scheme, their places and file, their
claims on listed places and their decisions on claims on theirs. Rules live in
places.signup, places.qualification, places.claims and places.review; who may do what in
places.access."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aptic import ratelimit
from aptic.errors import DomainError
from aptic.inputs import parse_int
from aptic.web import form_error, perform

from .. import access, claims, qualification, review
from .. import signup as signups
from ..models import ChangeRequest, Place, PlaceClaim, Request
from .forms import (
    AccountForm,
    BankDetailsForm,
    CharterForm,
    ClaimForm,
    EligibilityForm,
    PlaceForm,
    RequestDecisionForm,
)


def places_url(structure_id):
    """The structure's space: its file, places and claims."""
    return f"{reverse('registry-places')}?structure={structure_id}"


def _done(request, structure_id, message):
    """Say what was done, back on the structure's space."""
    messages.success(request, message)
    return redirect(places_url(structure_id))


# --- Joining the scheme ---------------------------------------------------------------------

@ratelimit.limited("signup", gettext_lazy(
    "Trop d’inscriptions en peu de temps depuis votre connexion ou votre compte."))
def signup(request):
    """/structure/inscription/: the structure, with its SIRET, and an account if needed.
    Someone without an account gets the same answer whatever the address (places.signup)."""
    account_form = None if request.user.is_authenticated else AccountForm(
        request.POST or None, prefix="account")
    structure_form = signups.StructureForm(request.POST or None, prefix="structure")
    if request.method == "POST" and structure_form.is_valid() and (
            account_form is None or account_form.is_valid()):
        if account_form is not None:
            signups.sign_up(account=account_form.cleaned_data,
                            structure=structure_form.cleaned_data)
            return render(request, "places/registry/signup_sent.html", {
                "email": account_form.cleaned_data["email"],
                "days": signups.CONFIRMATION_DAYS})
        structure = signups.register_structure(structure_form, user=request.user)
        return _done(request, structure.pk, _("Structure enregistrée. Complétez maintenant son "
                                              "dossier et ajoutez ses lieux."))
    return render(request, "places/registry/signup.html",
                  {"account_form": account_form, "structure_form": structure_form})


def signup_confirm(request, token):
    """/structure/inscription/confirmer/<token>/: the link of the confirmation e-mail. A GET
    only shows a button (mail scanners open links); the POST creates the account."""
    if signups.pending(token) is None:
        raise Http404
    if request.method != "POST":
        return render(request, "places/registry/signup_confirm.html")
    try:
        user, structure = signups.confirm(token)
    except DomainError as error:
        # Not back to this page: the link may be of no use any more.
        messages.error(request, error.detail)
        return redirect("registry-signup")
    login(request, user, backend="aptic.backends.EmailOrUsernameBackend")
    return _done(request, structure.pk, _("Structure enregistrée. Complétez maintenant son "
                                          "dossier et ajoutez ses lieux."))


# --- The structure a place manager acts for -------------------------------------------------

def _structure(request):
    """The structure the place manager acts for (?structure=<id> when several)."""
    structures = access.structures_managed_by(request.user).order_by("name")
    wanted = parse_int(request.POST.get("structure") or request.GET.get("structure"))
    if wanted is not None:
        return access.managed_structure(request.user, wanted), structures
    return structures.first(), structures


def _require_structure(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        structure, structures = _structure(request)
        if structure is None:
            messages.info(request, _("Enregistrez d’abord votre structure."))
            return redirect("registry-signup")
        return view(request, structure, structures, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_require_structure
def places(request, structure, structures):
    """/structure/lieux/: the structure's file and places, with what is still missing; its
    claims, the claims on its places, its changes waiting for the operator."""
    profile = qualification.profile_of(structure)
    own = structure.places.prefetch_related("services").order_by("name")
    changes = {change.place_id: change for change in ChangeRequest.objects.filter(
        structure=structure, kind=ChangeRequest.Kind.PLACE, state=Request.PENDING)}
    return render(request, "places/registry/places.html", {
        "structure": structure, "structures": structures, "profile": profile,
        "places": [(place, qualification.missing_items(place), changes.get(place.pk))
                   for place in own],
        "bank_change": review.pending_for_bank(structure),
        "claims_on_ours": claims.pending_for_holder(structure)
        .select_related("place", "structure"),
        "our_claims": PlaceClaim.objects.filter(structure=structure)
        .select_related("place").order_by("-requested_at")[:20],
        "decision_form": RequestDecisionForm(),
    })


# --- Places ---------------------------------------------------------------------------------

def _visible_place(request, pk):
    """The place `pk`, or 404 when the user may not see it (places.access)."""
    return get_object_or_404(access.visible_places(request.user).select_related("structure"),
                             pk=pk)


@_require_structure
def place_create(request, structure, structures):
    place = Place(structure=structure)
    return _place_form(request, structure, place)


@login_required
def place_edit(request, pk):
    place = _visible_place(request, pk)
    access.require_place_manager(request.user, place)
    return _place_form(request, place.structure, place)


def _place_form(request, structure, place):
    change = review.pending_for_place(place) if place.pk else None
    form = PlaceForm(request.POST or None, instance=review.show_requested(place, change))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            place = form.save(commit=False)
            held = qualification.save_place(place, by=request.user, fields=form.changed_data)
            form.save_m2m()
        return _done(request, place.structure_id, _(
            "Lieu enregistré. Le nouveau nom ou la nouvelle adresse sera publié après "
            "validation par l’opérateur.") if held else _("Lieu enregistré."))
    return render(request, "places/registry/place_form.html",
                  {"form": form, "place": place, "structure": structure, "change": change})


@require_POST
@login_required
def place_submit(request, pk):
    place = _visible_place(request, pk)
    return perform(request, lambda: qualification.submit(place, by=request.user),
                   _("Demande de qualification envoyée à l’opérateur."),
                   places_url(place.structure_id))


# --- Claims ---------------------------------------------------------------------------------

def _claim_limited(view):
    """Claims are counted per account (only signed-in place managers claim)."""
    return ratelimit.limited("claim", gettext_lazy(
        "Trop de demandes de rattachement en peu de temps depuis votre compte."))(view)


@_require_structure
@_claim_limited
def claim(request, structure, structures):
    """/structure/lieux/revendiquer/: find a listed place and ask for it (places.claims):
    the place stays as it is until the operator, and its structure if it has one, accept."""
    postcode = (request.POST.get("postcode") or request.GET.get("postcode") or "").strip()
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and parse_int(request.POST.get("place")) is not None:
        place = get_object_or_404(access.claimable_places(structure),
                                  pk=parse_int(request.POST["place"]))
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            return perform(
                request, lambda: claims.request(place, by=request.user, structure=structure,
                                                reason=reason),
                _("Demande envoyée. Le lieu sera rattaché à votre structure quand l’opérateur "
                  "(et la structure actuelle du lieu, s’il en a une) l’aura acceptée."),
                places_url(structure.pk))
    found = []
    if postcode:
        found = access.claimable_places(structure).select_related("structure").filter(
            Q(postcode=postcode) | Q(town__iexact=postcode)).order_by("name")[:50]
    return render(request, "places/registry/claim.html",
                  {"structure": structure, "postcode": postcode, "found": found,
                   "form": form})


@require_POST
@login_required
def claim_decision(request, pk):
    """/structure/revendications/<id>/decision/: the place's current structure accepts or
    refuses a claim on it (404 for a claim one may not see, 403 for one not to decide)."""
    claim = get_object_or_404(access.visible_claims(request.user).select_related("place"),
                              pk=pk)
    access.require_claim_decider(request.user, claim, access.HOLDER)
    decide_claim(request, RequestDecisionForm(request.POST), claim, access.HOLDER)
    return redirect(places_url(claim.holder_id))


def decide_claim(request, form, claim, party):
    """Apply a RequestDecisionForm to a claim; the outcome as a message. True when done."""
    if not form.is_valid():
        messages.error(request, _("Choisissez d’accepter ou de refuser la demande."))
        return False
    try:
        if form.cleaned_data["decision"] == "approve":
            decided = claims.approve(claim, by=request.user, party=party)
        else:
            decided = claims.refuse(claim, by=request.user, party=party,
                                    reason=form.cleaned_data["reason"])
    except DomainError as error:
        if error.code == "reason_required":
            form_error(form, "reason", error)
        messages.error(request, error.detail)
        return False
    if decided.state == Request.APPROVED:
        messages.success(request, _("Demande acceptée : le lieu est rattaché à la structure "
                                    "« %(structure)s ».") % {"structure": decided.structure})
    elif decided.state == Request.PENDING:
        messages.success(request, _("Demande acceptée de votre part : elle attend encore "
                                    "l’autre accord."))
    else:
        messages.success(request, _("Demande refusée : rien ne change."))
    return True


# --- The structure's file -------------------------------------------------------------------

@_require_structure
def eligibility(request, structure, structures):
    profile = qualification.profile_of(structure)
    form = EligibilityForm(request.POST or None, initial=profile.eligibility)
    if request.method == "POST" and form.is_valid():
        profile.eligibility = form.cleaned_data
        qualification.save_profile(profile, by=request.user,
                                   action="structure.eligibility_answered",
                                   fields=form.cleaned_data)
        return _done(request, structure.pk, _("Questionnaire enregistré."))
    return render(request, "places/registry/eligibility.html",
                  {"form": form, "structure": structure})


@_require_structure
def bank(request, structure, structures):
    """/structure/banque/: IBAN, BIC and holder, checked by places.banking."""
    profile = qualification.profile_of(structure)
    change = review.pending_for_bank(structure)
    form = BankDetailsForm(request.POST or None, instance=review.show_requested(profile, change))
    if request.method == "POST" and form.is_valid():
        held = qualification.save_bank_details(form.save(commit=False), by=request.user,
                                               fields=form.changed_data)
        return _done(request, structure.pk, _(
            "Coordonnées bancaires reçues : les remboursements y seront versés après "
            "validation par l’opérateur.") if held else _("Coordonnées bancaires enregistrées."))
    return render(request, "places/registry/bank.html",
                  {"form": form, "structure": structure, "change": change})


@_require_structure
def charter(request, structure, structures):
    profile = qualification.profile_of(structure)
    form = CharterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        qualification.accept_charter(structure, by=request.user)
        return _done(request, structure.pk, _("Charte acceptée."))
    return render(request, "places/registry/charter.html",
                  {"form": form, "structure": structure, "profile": profile})
