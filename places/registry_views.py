"""Views of the registry: structures joining the scheme, their places and file; the
operator's qualification queue; the open-data export. Rules live in places.qualification."""

import io

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aptic import audit
from aptic.http import attachment
from aptic.inputs import parse_int
from aptic.models import Membership, Organisation, Role, User
from aptic.permissions import is_operator

from . import qualification, standard
from .forms import (
    AccountForm,
    BankDetailsForm,
    CharterForm,
    DecisionForm,
    EligibilityForm,
    PlaceForm,
    StructureForm,
)
from .models import Place, Qualification, StructureProfile


@require_GET
def export_csv(request):
    """GET /api/v1/places/export.csv: qualified places in the national standard v1.0.2."""
    buffer = io.StringIO()
    standard.write_csv(buffer)
    return attachment(buffer.getvalue(), "text/csv; charset=utf-8",
                      f"lieux-aptic-{timezone.localdate().isoformat()}.csv")


# --- Joining the scheme ---------------------------------------------------------------------

def signup(request):
    """/structure/inscription/: an account (if needed) and the structure, with its SIRET."""
    account_form = None if request.user.is_authenticated else AccountForm(
        request.POST or None, prefix="account")
    structure_form = StructureForm(request.POST or None, prefix="structure")
    if request.method == "POST" and structure_form.is_valid() and (
            account_form is None or account_form.is_valid()):
        with transaction.atomic():
            user = request.user
            if account_form is not None:
                data = account_form.cleaned_data
                user = User.objects.create_user(
                    email=data["email"], password=data["password"], username=data["email"],
                    first_name=data["first_name"], last_name=data["last_name"])
            structure = structure_form.save()
            Membership.objects.create(user=user, organisation=structure,
                                      role=Role.PLACE_MANAGER)
            StructureProfile.objects.create(organisation=structure)
            audit.record(user, structure, "structure.registered", "", "",
                         siret=structure.siret)
        if account_form is not None:
            login(request, user, backend="aptic.backends.EmailOrUsernameBackend")
        messages.success(request, _("Structure enregistrée. Complétez maintenant son dossier "
                                    "et ajoutez ses lieux."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/signup.html",
                  {"account_form": account_form, "structure_form": structure_form})


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
    """/structure/lieux/: the structure's file and places, with what is still missing."""
    profile = qualification.profile_of(structure)
    own = structure.places.prefetch_related("services").order_by("name")
    return render(request, "places/registry/places.html", {
        "structure": structure, "structures": structures, "profile": profile,
        "places": [(place, qualification.missing_items(place)) for place in own],
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
    form = PlaceForm(request.POST or None, instance=place)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            place = form.save(commit=False)
            qualification.save_place(place, by=request.user, fields=form.changed_data)
            form.save_m2m()
        messages.success(request, _("Lieu enregistré."))
        return redirect(f"{_url('registry-places')}?structure={place.structure_id}")
    return render(request, "places/registry/place_form.html",
                  {"form": form, "place": place, "structure": structure})


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


@_require_structure
def claim(request, structure, structures):
    """/structure/lieux/revendiquer/: find an imported place that no structure holds yet."""
    postcode = (request.POST.get("postcode") or request.GET.get("postcode") or "").strip()
    if request.method == "POST" and parse_int(request.POST.get("place")) is not None:
        place = get_object_or_404(Place, pk=parse_int(request.POST["place"]), structure=None)
        try:
            qualification.claim(place, by=request.user, structure=structure)
        except qualification.QualificationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("Lieu rattaché à votre structure."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    found = []
    if postcode:
        found = Place.objects.filter(structure=None).filter(
            Q(postcode=postcode) | Q(town__iexact=postcode)).order_by("name")[:50]
    return render(request, "places/registry/claim.html",
                  {"structure": structure, "postcode": postcode, "found": found})


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
    form = BankDetailsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        qualification.save_profile(form.save(commit=False), by=request.user,
                                   action="structure.bank_details_changed",
                                   fields=form.changed_data)
        messages.success(request, _("Coordonnées bancaires enregistrées."))
        return redirect(f"{_url('registry-places')}?structure={structure.pk}")
    return render(request, "places/registry/bank.html", {"form": form, "structure": structure})


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
    })


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
    from aptic.models import AuditEvent

    return render(request, "places/registry/operator_place.html", {
        "place": place, "profile": profile, "form": form,
        "missing": qualification.missing_items(place),
        "events": AuditEvent.objects.for_object(place).select_related("actor")[:20],
        "structure_kind": Organisation.Kind.STRUCTURE,
    })
