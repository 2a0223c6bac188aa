"""Web pages of reimbursement: the operator starts runs, validates statements, groups them
into SEPA payment batches and marks batches paid; place managers read and download their
structure's statements (PDF, CSV)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aptic.http import attachment
from aptic.permissions import is_operator

from .. import reimbursement
from ..models import PaymentBatch, Statement
from ..reimbursement import ReimbursementError


def _statement(request, pk):
    return get_object_or_404(reimbursement.visible_statements(request.user), pk=pk)


def _operator_only(request):
    if not is_operator(request.user):
        raise Http404


@login_required
def home(request):
    if not reimbursement.may_see_statements(request.user):
        raise Http404
    operator = is_operator(request.user)
    statements = reimbursement.visible_statements(request.user)
    state = request.GET.get("state", "")
    if state in Statement.State.values:
        statements = statements.filter(state=state)
    context = {
        "operator": operator,
        "statements": statements[:300],
        "states": Statement.State.choices,
        "state": state,
    }
    if operator:
        payable = list(reimbursement.payable_statements())
        for statement in payable:
            statement.blocked = reimbursement.blocked_reason(statement.structure)
        context.update({
            "default_until": reimbursement.default_until(),
            "payable": payable,
            "blocked": reimbursement.blocked_structures(),
            "batches": PaymentBatch.objects.all()[:50],
        })
    return render(request, "cheques/reimbursement/home.html", context)


@login_required
@require_POST
def start_run(request):
    _operator_only(request)
    try:
        statements = reimbursement.run(until=reimbursement.parse_until(
            request.POST.get("until")), actor=request.user)
    except ReimbursementError as error:
        messages.error(request, error.detail)
        return redirect("reimbursement-home")
    if statements:
        messages.success(request, _("%(count)s relevé(s) créé(s) : %(list)s.") % {
            "count": len(statements),
            "list": ", ".join(f"{s.reference} ({s.structure.name})" for s in statements)})
    else:
        messages.warning(request, _("Aucun encaissement à rembourser sur cette période."))
    return redirect("reimbursement-home")


@login_required
def statement_detail(request, pk):
    statement = _statement(request, pk)
    return render(request, "cheques/reimbursement/statement.html", {
        "statement": statement,
        "lines": statement.lines.order_by("redeemed_at", "id")[:2000],
        "totals": reimbursement.totals(statement),
        "operator": is_operator(request.user),
        "blocked": reimbursement.blocked_reason(statement.structure),
    })


# The downloads, shared by these pages and the API (cheques.api.reimbursement).


def statement_pdf_response(statement):
    return attachment(reimbursement.statement_pdf(statement), "application/pdf",
                      f"releve-{statement.reference}.pdf")


def statement_csv_response(statement):
    return attachment(reimbursement.statement_csv(statement), "text/csv; charset=utf-8",
                      f"releve-{statement.reference}.csv")


def sepa_response(batch):
    return attachment(batch.sepa_xml.encode("utf-8"), "application/xml; charset=utf-8",
                      f"aptic-virements-{batch.pk}.xml")


@login_required
def statement_pdf(request, pk):
    return statement_pdf_response(_statement(request, pk))


@login_required
def statement_csv(request, pk):
    return statement_csv_response(_statement(request, pk))


@login_required
@require_POST
def validate_statement(request, pk):
    _operator_only(request)
    statement = _statement(request, pk)
    try:
        reimbursement.validate(statement, actor=request.user)
        messages.success(request, _("Le relevé %(ref)s est validé.")
                         % {"ref": statement.reference})
    except ReimbursementError as error:
        messages.error(request, error.detail)
    if request.POST.get("next") == "detail":
        return redirect("reimbursement-statement", pk)
    return redirect("reimbursement-home")


@login_required
@require_POST
def create_batch(request):
    _operator_only(request)
    try:
        batch = reimbursement.create_batch(request.POST.getlist("statements"),
                                           actor=request.user)
    except ReimbursementError as error:
        messages.error(request, error.detail)
        return redirect("reimbursement-home")
    messages.success(request, _("Lot de paiement n° %(id)s créé : téléchargez le fichier SEPA "
                                "et transmettez-le à la banque.") % {"id": batch.pk})
    return redirect("reimbursement-home")


@login_required
def batch_sepa(request, pk):
    _operator_only(request)
    return sepa_response(get_object_or_404(PaymentBatch, pk=pk))


@login_required
@require_POST
def batch_paid(request, pk):
    _operator_only(request)
    batch = get_object_or_404(PaymentBatch, pk=pk)
    try:
        reimbursement.mark_paid(batch, actor=request.user)
        messages.success(request, _("Lot n° %(id)s payé : les chèques sont remboursés.")
                         % {"id": batch.pk})
    except ReimbursementError as error:
        messages.error(request, error.detail)
    return redirect("reimbursement-home")
