"""The operator's pages of the registry: the queue (places to qualify, claims, changes under
review) and a decision on each. Rules live in places.qualification, places.claims and
places.review; who may see and decide in places.access."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation
from aptic.web import form_error

from .. import access, banking, claims, publication, qualification, review
from ..models import ChangeRequest, Place, Qualification, Request, StructureProfile
from .forms import DecisionForm, RequestDecisionForm
from .registry import decide_claim


def _reason_field(error):
    """Where a refusal of a decision shows: next to the reason when it lacks one."""
    return "reason" if error.code == "reason_required" else None


@login_required
def operator_queue(request):
    """/operateur/qualification/: places by state, submitted ones first."""
    access.require_operator(request.user)
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
        "open_data_refused": publication.refused_files(),
    })


@login_required
def operator_claim(request, pk):
    """/operateur/revendications/<id>/: a claim, the two structures, and the decision."""
    claim = get_object_or_404(
        access.visible_claims(request.user).select_related("place", "structure", "holder"),
        pk=pk)
    access.require_operator(request.user)
    form = RequestDecisionForm(request.POST or None)
    if request.method == "POST" and decide_claim(request, form, claim, access.OPERATOR):
        return redirect("operator-qualification")
    return render(request, "places/registry/operator_claim.html", {
        "claim": claim, "form": form, "awaits_operator": claims.awaits(claim, access.OPERATOR),
        "missing": qualification.missing_structure_items(claim.structure),
        "events": AuditEvent.objects.for_object(claim).select_related("actor")[:20],
    })


def _shown(name, value):
    """A requested value as people read it (an IBAN in groups of four)."""
    return banking.format_iban(value) if name == "iban" and value else value


@login_required
def operator_change(request, pk):
    """/operateur/modifications/<id>/: a change waiting for review, old and new values."""
    change = get_object_or_404(
        access.visible_changes(request.user).select_related("place", "structure"), pk=pk)
    access.require_reviewer(request.user)
    form = RequestDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                review.approve(change, by=request.user)
            else:
                review.refuse(change, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_error(form, _reason_field(error), error)
        else:
            messages.success(request, _("Décision enregistrée."))
            return redirect("operator-qualification")
    labels = {name: _field_label(change, name) for name in change.values}
    return render(request, "places/registry/operator_change.html", {
        "change": change, "form": form,
        "rows": [(labels[name], _shown(name, change.previous.get(name, "")),
                  _shown(name, value)) for name, value in change.values.items()],
        "events": AuditEvent.objects.for_object(change).select_related("actor")[:20],
    })


def _field_label(change, name):
    model = Place if change.kind == ChangeRequest.Kind.PLACE else StructureProfile
    return model._meta.get_field(name).verbose_name


@login_required
def operator_place(request, pk):
    """/operateur/qualification/<id>/: the file of one place and the decision."""
    place = get_object_or_404(access.visible_places(request.user).select_related("structure"),
                              pk=pk)
    access.require_qualifier(request.user)
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
        except DomainError as error:
            form_error(form, _reason_field(error), error)
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
