"""Web pages of printing: print (again), progress, download, replacement of a damaged or lost
booklet, reprint of a booklet never handed out.

Thin: the rules live in cheques.printing, who may do what in cheques.access. PDFs are
streamed to the operator and the managers of the funder who ordered; anyone else gets the
answer for an unknown order, and an anonymous visitor a 403 (these are downloads and JSON
polled by scripts: no login page).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from aptic.errors import DomainError
from aptic.http import file_download
from aptic.web import back

from .. import access, printing, replacement
from ..models import Booklet, PrintJob


def _visible_order(request, pk):
    if not request.user.is_authenticated:
        raise PermissionDenied
    return access.visible_order(request.user, pk)


def _operator_action(request, pk):
    """The order of an operator's action: unknown to those who may not see it, refused
    (403) to the funder who may."""
    order = _visible_order(request, pk)
    access.require(access.may_print(request.user), _("Seul l’opérateur imprime les carnets."))
    return order


def _refused(request, order, error):
    return render(request, "cheques/print/refused.html",
                  {"order": order, "message": error.detail}, status=error.status)


def _act(request, order, action, message):
    """An operator's printing action: a refusal answers with its status on a page that says
    why (a 409 is what scripts look for); a success goes back with `message` (or
    `message(result)`)."""
    try:
        result = action()
    except DomainError as error:
        return _refused(request, order, error)
    messages.success(request, message(result) if callable(message) else message)
    return redirect(back(request, reverse("print-order", args=[order.pk])))


@login_required
@require_GET
def print_order(request, pk):
    """The order's printing: progress, download, print again, replace or reprint one
    booklet."""
    order = _visible_order(request, pk)
    may_print = access.may_print(request.user)
    reprints = (order.print_jobs.exclude(booklet=None)
                .select_related("booklet", "booklet__replaces")
                .order_by("-created_at")[:20] if may_print else [])
    return render(request, "cheques/print/order.html", {
        "order": order, "reprints": reprints, "may_print": may_print,
    })


@require_POST
def print_start(request, pk):
    """Operator: print the order (again). 409 with a clear message when it cannot be."""
    order = _operator_action(request, pk)
    return _act(request, order, lambda: printing.start_printing(order, actor=request.user),
                _("L’impression de la commande n° %(id)s a commencé.") % {"id": order.pk})


@require_POST
def print_restart(request, pk):
    """Operator: restart the order's stalled printing."""
    order = _operator_action(request, pk)
    return _act(request, order, lambda: printing.restart_printing(order, actor=request.user),
                _("L’impression de la commande n° %(id)s est relancée.") % {"id": order.pk})


@require_POST
def print_reprint(request, pk):
    """Operator: reprint one booklet never handed out (spoiled at the print shop), by its
    number; a booklet handed out is replaced instead (print_replace)."""
    order = _operator_action(request, pk)
    number = (request.POST.get("booklet") or "").strip()
    booklet = Booklet.objects.filter(order=order, number=number).first()
    if booklet is None:
        return _refused(request, order, DomainError("unknown_booklet", _(
            "Aucun carnet n° « %(number)s » dans cette commande.") % {"number": number}))
    return _act(request, order,
                lambda: printing.start_printing(order, actor=request.user, booklet=booklet),
                _("La réimpression du carnet %(number)s a commencé.")
                % {"number": booklet.number})


@require_POST
def print_replace(request, pk):
    """Operator: replace a damaged or lost booklet of the order (new codes, printed on its
    own); its unused cheques are cancelled."""
    order = _operator_action(request, pk)
    number = (request.POST.get("booklet") or "").strip().upper()
    booklet = Booklet.objects.filter(order=order, number=number).first()
    if booklet is None:
        return _refused(request, order, DomainError("unknown_booklet", _(
            "Aucun carnet n° « %(number)s » dans cette commande.") % {"number": number}))
    return _act(request, order,
                lambda: replacement.replace_booklet(booklet.number, actor=request.user,
                                                    reason=request.POST.get("reason", "")),
                _replaced)


def _replaced(result):
    old, new, count = result
    return ngettext(
        "Le carnet %(old)s est remplacé par le carnet %(new)s (%(count)s chèque) : son "
        "impression a commencé.",
        "Le carnet %(old)s est remplacé par le carnet %(new)s (%(count)s chèques) : son "
        "impression a commencé.", count) % {"old": old.number, "new": new.number,
                                            "count": count}


@require_GET
def print_status(request, pk):
    """The progress bar's JSON: state, done, total, percent, warnings, download URL."""
    return JsonResponse(printing.status(_visible_order(request, pk)))


def _download(job):
    try:
        fileobj, filename = printing.printed_pdf(job)
    except DomainError as error:
        raise Http404(error.detail) from None
    return file_download(fileobj, filename, "application/pdf")


@require_GET
def print_download(request, pk):
    """The order's PDF, for the operator and the funder who ordered."""
    return _download(printing.latest_printed_job(_visible_order(request, pk)))


@require_GET
def print_job_download(request, job_pk):
    """The PDF of one print job (a booklet reprint), with the same permission."""
    job = get_object_or_404(PrintJob.objects.select_related("booklet"), pk=job_pk)
    _visible_order(request, job.order_id)
    return _download(job)
