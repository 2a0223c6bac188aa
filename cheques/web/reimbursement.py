"""Web pages of reimbursement: the operator starts runs, validates statements, groups them
into SEPA payment batches and marks batches paid; place managers read and download their
structure's statements (PDF, CSV). Who sees what: cheques.access."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aptic.errors import DomainError
from aptic.http import attachment
from aptic.permissions import is_operator
from aptic.templatetags.money import format_euros
from aptic.web import confirm_first, perform, show_refusal

from .. import access, reimbursement
from ..models import PaymentBatch, Statement


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
    return render(request, "cheques/reimbursement/statement.html", {
        "statement": statement,
        "lines": statement.lines.order_by("redeemed_at", "id")[:2000],
        "totals": reimbursement.totals(statement),
        "operator": is_operator(request.user),
        "blocked": reimbursement.blocked_reason(statement.structure),
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
    return attachment(*reimbursement.sepa_download(_batch(request, pk)))


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
