"""Views of the registry: structures joining the scheme, their places and file, their claims
on listed places; the operator's queue (qualification, claims, changes under review); the
open-data export. Rules live in places.qualification, places.claims, places.review and
places.signup."""

import io

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aptic import ratelimit
from aptic.http import attachment
from aptic.inputs import parse_int
from aptic.models import AuditEvent, Organisation
from aptic.permissions import is_operator

from . import claims, qualification, review
from . import signup as signups
from .forms import (
    AccountForm,
    BankDetailsForm,
    CharterForm,
    ClaimForm,
    DecisionForm,
    EligibilityForm,
    PlaceForm,
    RequestDecisionForm,
    StructureForm,
)
from .models import ChangeRequest, Place, PlaceClaim, Qualification, Request, StructureProfile
from .standard import exporting


@require_GET
def export_csv(request):
    """GET /api/v1/places/export.csv: qualified places in the national standard v1.0.2."""
    buffer = io.StringIO()
    exporting.write_csv(buffer)
    return attachment(buffer.getvalue(), "text/csv; charset=utf-8",
                      f"lieux-aptic-{timezone.localdate().isoformat()}.csv")


# --- Joining the scheme ---------------------------------------------------------------------

@ratelimit.limited("signup", gettext_lazy(
    "Trop d’inscriptions en peu de temps depuis votre connexion ou votre compte."))
def signup(request):
    """/structure/inscription/: the structure, with its SIRET, and an account if needed.
    Someone without an account gets the same answer whatever the address (places.signup)."""
    account_form = None if request.user.is_authenticated else AccountForm(
        request.POST or None, prefix="account")
    structure_form = StructureForm(request.POST or None, prefix="structure")
    if request.method == "POST" and structure_form.is_valid() and (
            account_form is None or account_form.is_valid()):
        if account_form is not None:
            signups.sign_up(account=account_form.cleaned_data,
                            structure=structure_form.cleaned_data)
            return render(request, "places/registry/signup_sent.html", {
                "email": account_form.cleaned_data["email"],
                "days": signups.CONFIRMATION_DAYS})
        structure = signups.register_structure(structure_form, user=request.user)
        messages.success(request, _("Structure enregistrée. Complétez maintenant son dossier "
                                    "et ajoutez ses lieux."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/signup.html",
                  {"account_form": account_form, "structure_form": structure_form})


def signup_confirm(request, token):
    """/structure/inscription/confirmer/<token>/: the link of the confirmation e-mail. A GET
    only shows a button (mail scanners open links); the POST creates the account."""
    if signups.pending(token) is None:
        raise Http404
    if request.method == "POST":
        try:
            user, structure = signups.confirm(token)
        except signups.SignupError as error:
            messages.error(request, error.message)
            return redirect("registry-signup")
        login(request, user, backend="aptic.backends.EmailOrUsernameBackend")
        messages.success(request, _("Structure enregistrée. Complétez maintenant son dossier "
                                    "et ajoutez ses lieux."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/signup_confirm.html")


def _url(name, *args):
    from django.urls import reverse

    return reverse(name, args=args)


def _structure(request):
    """The structure the place manager acts for (?structure=<id> when several)."""
    structures = qualification.structures_managed_by(request.user).order_by("name")
    wanted = parse_int(request.POST.get("structure") or request.GET.get("structure"))
    if wanted is not None:
        structure = structures.filter(pk=wanted).first()
        if structure is None:
            raise PermissionDenied(_("Vous ne gérez pas cette structure."))
        return structure, structures
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


@_require_structure
def place_create(request, structure, structures):
    place = Place(structure=structure)
    return _place_form(request, structure, place)


@login_required
def place_edit(request, pk):
    place = get_object_or_404(Place.objects.select_related("structure"), pk=pk)
    if not qualification.may_edit_place(request.user, place):
        raise PermissionDenied(_("Vous ne gérez pas ce lieu."))
    return _place_form(request, place.structure, place)


def _place_form(request, structure, place):
    change = review.pending_for_place(place) if place.pk else None
    form = PlaceForm(request.POST or None, instance=review.show_requested(place, change))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            place = form.save(commit=False)
            held = qualification.save_place(place, by=request.user, fields=form.changed_data)
            form.save_m2m()
        if held:
            messages.success(request, _("Lieu enregistré. Le nouveau nom ou la nouvelle adresse "
                                        "sera publié après validation par l’opérateur."))
        else:
            messages.success(request, _("Lieu enregistré."))
        return redirect(f"{_url('registry-places')}?structure={place.structure_id}")
    return render(request, "places/registry/place_form.html",
                  {"form": form, "place": place, "structure": structure, "change": change})


@require_POST
@login_required
def place_submit(request, pk):
    place = get_object_or_404(Place.objects.select_related("structure"), pk=pk)
    try:
        qualification.submit(place, by=request.user)
    except qualification.QualificationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Demande de qualification envoyée à l’opérateur."))
    return redirect(f"{_url('registry-places')}?structure={place.structure_id}")


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
        place = get_object_or_404(claims.claimable_places(structure),
                                  pk=parse_int(request.POST["place"]))
        if form.is_valid():
            try:
                claims.request(place, by=request.user, structure=structure,
                               reason=form.cleaned_data["reason"])
            except qualification.QualificationError as error:
                messages.error(request, error.messages[0])
            else:
                messages.success(request, _(
                    "Demande envoyée. Le lieu sera rattaché à votre structure quand "
                    "l’opérateur (et la structure actuelle du lieu, s’il en a une) l’aura "
                    "acceptée."))
            return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    found = []
    if postcode:
        found = claims.claimable_places(structure).select_related("structure").filter(
            Q(postcode=postcode) | Q(town__iexact=postcode)).order_by("name")[:50]
    return render(request, "places/registry/claim.html",
                  {"structure": structure, "postcode": postcode, "found": found,
                   "form": form})


@require_POST
@login_required
def claim_decision(request, pk):
    """/structure/revendications/<id>/decision/: the place's current structure accepts or
    refuses a claim on it (404 for a claim one may not see, 403 for one not to decide)."""
    claim = get_object_or_404(claims.visible_claims(request.user).select_related("place"),
                              pk=pk)
    if not claims.may_decide(request.user, claim, claims.HOLDER):
        raise PermissionDenied(_("Seule la structure actuelle du lieu décide ici."))
    _decide(request, RequestDecisionForm(request.POST), claim, claims.HOLDER)
    return redirect(f"{_url('registry-places')}?structure={claim.holder_id}")


def _decide(request, form, claim, party):
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
    except qualification.QualificationError as error:
        if error.code == "reason_required":
            form.add_error("reason", error.messages[0])
        messages.error(request, error.messages[0])
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
        messages.success(request, _("Questionnaire enregistré."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/eligibility.html",
                  {"form": form, "structure": structure})


@_require_structure
def bank(request, structure, structures):
    """/structure/banque/: IBAN, BIC and holder, validated with schwifty."""
    profile = qualification.profile_of(structure)
    change = review.pending_for_bank(structure)
    form = BankDetailsForm(request.POST or None, instance=review.show_requested(profile, change))
    if request.method == "POST" and form.is_valid():
        held = qualification.save_bank_details(form.save(commit=False), by=request.user,
                                               fields=form.changed_data)
        if held:
            messages.success(request, _("Coordonnées bancaires reçues : les remboursements y "
                                        "seront versés après validation par l’opérateur."))
        else:
            messages.success(request, _("Coordonnées bancaires enregistrées."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/bank.html",
                  {"form": form, "structure": structure, "change": change})


@_require_structure
def charter(request, structure, structures):
    profile = qualification.profile_of(structure)
    form = CharterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        qualification.accept_charter(structure, by=request.user)
        messages.success(request, _("Charte acceptée."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/charter.html",
                  {"form": form, "structure": structure, "profile": profile})


# --- The operator ---------------------------------------------------------------------------

def _require_operator(request):
    if not is_operator(request.user):
        raise PermissionDenied(_("Réservé à l’opérateur."))


@login_required
def operator_queue(request):
    """/operateur/qualification/: places by state, submitted ones first."""
    _require_operator(request)
    state = request.GET.get("etat") or Qualification.SUBMITTED
    if state not in Qualification.values:
        state = Qualification.SUBMITTED
    counts = dict(Place.objects.values_list("qualification").annotate(n=Count("pk")))
    rows = (Place.objects.filter(qualification=state).select_related("structure")
            .order_by("updated_at")[:200])
    return render(request, "places/registry/operator_queue.html", {
        "state": state, "rows": rows,
        "states": [(value, label, counts.get(value, 0))
                   for value, label in Qualification.choices],
        "claims": claims.pending_for_operator()
        .select_related("place", "structure", "holder")[:200],
        "changes": ChangeRequest.objects.filter(state=Request.PENDING)
        .select_related("place", "structure")[:200],
    })


@login_required
def operator_claim(request, pk):
    """/operateur/revendications/<id>/: a claim, the two structures, and the decision."""
    claim = get_object_or_404(
        claims.visible_claims(request.user).select_related("place", "structure", "holder"),
        pk=pk)
    _require_operator(request)
    form = RequestDecisionForm(request.POST or None)
    if request.method == "POST" and _decide(request, form, claim, claims.OPERATOR):
        return redirect("operator-qualification")
    return render(request, "places/registry/operator_claim.html", {
        "claim": claim, "form": form, "awaits_operator": claims.awaits(claim, claims.OPERATOR),
        "missing": qualification.missing_structure_items(claim.structure),
        "events": AuditEvent.objects.for_object(claim).select_related("actor")[:20],
    })


@login_required
def operator_change(request, pk):
    """/operateur/modifications/<id>/: a change waiting for review, old and new values."""
    change = get_object_or_404(
        review.visible_changes(request.user).select_related("place", "structure"), pk=pk)
    _require_operator(request)
    form = RequestDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                review.approve(change, by=request.user)
            else:
                review.refuse(change, by=request.user, reason=form.cleaned_data["reason"])
        except qualification.QualificationError as error:
            form.add_error("reason" if error.code == "reason_required" else None,
                           error.messages[0])
        else:
            messages.success(request, _("Décision enregistrée."))
            return redirect("operator-qualification")
    labels = {name: _field_label(change, name) for name in change.values}
    return render(request, "places/registry/operator_change.html", {
        "change": change, "form": form,
        "rows": [(labels[name], change.previous.get(name, ""), value)
                 for name, value in change.values.items()],
        "events": AuditEvent.objects.for_object(change).select_related("actor")[:20],
    })


def _field_label(change, name):
    model = Place if change.kind == ChangeRequest.Kind.PLACE else StructureProfile
    return model._meta.get_field(name).verbose_name


@login_required
def operator_place(request, pk):
    """/operateur/qualification/<id>/: the file of one place and the decision."""
    _require_operator(request)
    place = get_object_or_404(Place.objects.select_related("structure"), pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        try:
            if decision == "qualify":
                qualification.qualify(place, by=request.user)
            elif decision == "reject":
                qualification.reject(place, by=request.user, reason=reason)
            elif decision == "suspend":
                qualification.suspend(place, by=request.user, reason=reason)
            else:
                qualification.reinstate(place, by=request.user)
        except qualification.QualificationError as error:
            form.add_error("reason" if error.code == "reason_required" else None,
                           error.messages[0])
        else:
            messages.success(request, _("Décision enregistrée : %(state)s.")
                             % {"state": place.get_qualification_display()})
            return redirect("operator-qualification")
    profile = (StructureProfile.objects.filter(organisation=place.structure).first()
               if place.structure_id else None)
    return render(request, "places/registry/operator_place.html", {
        "place": place, "profile": profile, "form": form,
        "missing": qualification.missing_items(place),
        "events": AuditEvent.objects.for_object(place).select_related("actor")[:20],
        "structure_kind": Organisation.Kind.STRUCTURE,
    })
