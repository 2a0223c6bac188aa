"""Web pages of reimbursement: the operator starts runs, validates statements, groups them
into SEPA payment batches, uploads the bank's files (status reports, account notifications
and statements) or marks batches paid by hand, corrects redemptions after their statement
and grants goodwill payments; place managers read and download their structure's statements
(PDF, CSV) with their payment dates. Who sees what: cheques.access."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aptic.errors import DomainError
from aptic.http import attachment
from aptic.l10n import format_euros
from aptic.permissions import is_operator
from aptic.web import confirm_first, perform, show_refusal

from .. import access, bank_reasons, bank_reports, corrections, reimbursement
from ..models import Adjustment, BankFile, PaymentBatch, Redemption, Statement
from .forms import BankFileForm, CorrectionForm, GoodwillForm


def _statement(request, pk):
    return access.visible_statement(request.user, pk)


def _batch(request, pk):
    return access.visible_batch(request.user, pk)


@login_required
def home(request):
    access.require(access.may_see_statements(request.user),
                   _("Réservé aux gestionnaires de lieu et à l’opérateur."))
    operator = is_operator(request.user)
    statements = access.visible_statements(request.user)
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
            "bank_file_form": BankFileForm(),
            "bank_files": BankFile.objects.select_related("uploaded_by")[:20],
        })
    return render(request, "cheques/reimbursement/home.html", context)


@login_required
@require_POST
def start_run(request):
    access.require_operator(request.user)
    try:
        statements = reimbursement.run(until=reimbursement.parse_until(
            request.POST.get("until")), actor=request.user)
    except DomainError as error:
        return show_refusal(request, error, reverse("reimbursement-home"))
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
    transfers = list(statement.transfers.select_related("batch").order_by("pk"))
    for transfer in transfers:
        transfer.reason = bank_reasons.label(transfer.reason_code) \
            if transfer.state == transfer.State.REJECTED else ""
    return render(request, "cheques/reimbursement/statement.html", {
        "statement": statement,
        "lines": statement.lines.order_by("redeemed_at", "id")[:2000],
        "totals": reimbursement.totals(statement),
        "operator": is_operator(request.user),
        "blocked": reimbursement.blocked_reason(statement.structure),
        "statement_date": reimbursement.statement_date(statement),
        "transfers": transfers,
    })


@login_required
def statement_pdf(request, pk):
    return attachment(*reimbursement.statement_download(_statement(request, pk), "pdf"))


@login_required
def statement_csv(request, pk):
    return attachment(*reimbursement.statement_download(_statement(request, pk), "csv"))


@login_required
@require_POST
def validate_statement(request, pk):
    statement = _statement(request, pk)
    back = (reverse("reimbursement-statement", args=[pk]) if request.POST.get("next") == "detail"
            else reverse("reimbursement-home"))
    return perform(request, lambda: reimbursement.validate(statement, actor=request.user),
                   _("Le relevé %(ref)s est validé.") % {"ref": statement.reference}, back)


@login_required
@require_POST
def create_batch(request):
    access.require_operator(request.user)
    return perform(
        request, lambda: reimbursement.create_batch(request.POST.getlist("statements"),
                                                    actor=request.user),
        lambda batch: _("Lot de paiement n° %(id)s créé : téléchargez le fichier SEPA et "
                        "transmettez-le à la banque.") % {"id": batch.pk},
        reverse("reimbursement-home"))


@login_required
def batch_sepa(request, pk):
    """The batch's SEPA file; downloading it is giving it to the bank (a draft is sent)."""
    batch = _batch(request, pk)
    response = attachment(*reimbursement.sepa_download(batch))
    reimbursement.mark_sent(batch, actor=request.user)
    return response


@login_required
def batch_detail(request, pk):
    batch = _batch(request, pk)
    transfers = list(batch.credit_transfers.select_related("statement", "structure")
                     .order_by("pk"))
    for transfer in transfers:
        transfer.reason = bank_reasons.label(transfer.reason_code) \
            if transfer.state == transfer.State.REJECTED else ""
    return render(request, "cheques/reimbursement/batch.html", {
        "batch": batch, "transfers": transfers,
        "bank_files": batch.bank_files.select_related("uploaded_by").order_by("-uploaded_at"),
        "bank_file_form": BankFileForm(),
    })


@login_required
@require_POST
def bank_file_upload(request):
    """The operator uploads a file of the bank (pain.002, camt.054, camt.053)."""
    access.require(access.may_correct_redemptions(request.user),
                   _("Seul l’opérateur dépose les fichiers de la banque."))
    back = reverse("reimbursement-home")
    form = BankFileForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    upload = form.cleaned_data["file"]
    try:
        outcome = bank_reports.read(upload.read(bank_reports.MAX_BYTES + 1), actor=request.user,
                                    name=upload.name)
    except DomainError as error:
        return show_refusal(request, error, back)
    (messages.info if outcome.duplicate else messages.success)(
        request, bank_reports.summary_text(outcome))
    return redirect(back)


@login_required
def corrections_home(request):
    """The operator's corrections: a wrong redemption after its statement, a goodwill
    payment, and what is still to carry on the structures' next statements."""
    access.require(access.may_correct_redemptions(request.user),
                   _("Seul l’opérateur peut faire cela."))
    return _corrections_page(request)


def _corrections_page(request, *, correction_form=None, goodwill_form=None, status=200):
    return render(request, "cheques/reimbursement/corrections.html", {
        "correction_form": correction_form or CorrectionForm(),
        "goodwill_form": goodwill_form or GoodwillForm(),
        "pending": reimbursement.pending_adjustments(),
        "adjustments": Adjustment.objects.select_related(
            "structure", "redemption__cheque", "original_statement", "created_by")
        .order_by("-created_at", "-pk")[:100],
    }, status=status)


@login_required
@require_POST
def correct_redemption(request):
    access.require(access.may_correct_redemptions(request.user),
                   _("Seul l’opérateur corrige un encaissement."))
    back = reverse("reimbursement-corrections")
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _corrections_page(request, correction_form=form, status=400)
    found = (Redemption.objects.filter(cheque__number=form.cleaned_data["cheque"],
                                       undone_at=None).first())
    if found is None:
        messages.error(request, _("Aucun encaissement en cours pour le chèque %(number)s.")
                       % {"number": form.cleaned_data["cheque"]})
        return redirect(back)
    return perform(
        request, lambda: corrections.correct_redemption(
            found, actor=request.user, reason=form.cleaned_data["reason"]),
        lambda done: (_("Encaissement du chèque %(number)s corrigé : %(amount)s à déduire du "
                        "prochain relevé de %(structure)s.") if done.correction_made else
                      _("Encaissement du chèque %(number)s corrigé : il ne sera pas payé."))
        % {"number": found.cheque.number, "structure": found.structure.name,
           "amount": format_euros(found.amount_cents)},
        back)


@login_required
@require_POST
def grant_goodwill(request):
    access.require(access.may_correct_redemptions(request.user),
                   _("Seul l’opérateur accorde un geste commercial."))
    back = reverse("reimbursement-corrections")
    form = GoodwillForm(request.POST)
    if not form.is_valid():
        return _corrections_page(request, goodwill_form=form, status=400)
    data = form.cleaned_data
    return perform(
        request, lambda: corrections.goodwill(data["structure"], amount_cents=data["amount"],
                                              reason=data["reason"], actor=request.user),
        _("Geste commercial enregistré : il figurera sur le prochain relevé de "
          "%(structure)s.") % {"structure": data["structure"].name}, back)


@login_required
def batch_paid(request, pk):
    batch = _batch(request, pk)
    asked = confirm_first(
        request, title=_("Marquer payé le lot n° %(id)s ?") % {"id": batch.pk},
        consequence=_("Confirmez seulement si la banque a exécuté les virements de ce lot "
                      "(%(count)s, %(total)s) : ses relevés seront payés et leurs chèques "
                      "remboursés.")
        % {"count": batch.transfers, "total": format_euros(batch.total_cents)},
        button=_("Marquer payé"), cancel=reverse("reimbursement-home"))
    return asked or perform(request, lambda: reimbursement.mark_paid(batch, actor=request.user),
                            _("Lot n° %(id)s payé : les chèques sont remboursés.")
                            % {"id": batch.pk}, reverse("reimbursement-home"))
