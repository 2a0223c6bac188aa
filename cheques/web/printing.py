"""Web pages of printing: print (again), progress, download, single-booklet reprint.

Thin: the rules live in cheques.printing. PDFs are streamed after a permission check
(the operator, the managers of the funder who ordered); everyone else gets a 404, as if the
order did not exist, and an anonymous visitor a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import printing
from ..models import Booklet, Order, PrintJob
from ..printing import PrintError


def _visible_order(request, pk):
    if not request.user.is_authenticated:
        raise PermissionDenied
    order = get_object_or_404(Order.objects.select_related("funder"), pk=pk)
    if not printing.may_download(request.user, order):
        raise Http404
    return order


def _require_operator(request):
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not printing.may_print(request.user):
        raise Http404


def _back(request, order):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("print-order", pk=order.pk)


def _refused(request, order, error):
    return render(request, "cheques/print/refused.html",
                  {"order": order, "message": error.detail}, status=error.status)


@login_required
@require_GET
def print_order(request, pk):
    """The order's printing: progress, download, print again, reprint one booklet."""
    order = _visible_order(request, pk)
    reprints = (order.print_jobs.exclude(booklet=None).select_related("booklet")
                .order_by("-created_at")[:20] if printing.may_print(request.user) else [])
    return render(request, "cheques/print/order.html", {
        "order": order, "reprints": reprints,
        "may_print": printing.may_print(request.user),
    })


@require_POST
def print_start(request, pk):
    """Operator: print the order (again). 409 with a clear message when it cannot be."""
    _require_operator(request)
    order = get_object_or_404(Order, pk=pk)
    try:
        printing.start_printing(order, actor=request.user)
    except PrintError as error:
        return _refused(request, order, error)
    messages.success(request, _("L’impression de la commande n° %(id)s a commencé.")
                     % {"id": order.pk})
    return _back(request, order)


@require_POST
def print_restart(request, pk):
    """Operator: restart the order's stalled printing. The funder who ordered sees the job
    but may not restart it (403); anyone else gets a 404."""
    order = _visible_order(request, pk)
    if not printing.may_print(request.user):
        raise PermissionDenied
    try:
        printing.restart_printing(order, actor=request.user)
    except PrintError as error:
        return _refused(request, order, error)
    messages.success(request, _("L’impression de la commande n° %(id)s est relancée.")
                     % {"id": order.pk})
    return _back(request, order)


@require_POST
def print_reprint(request, pk):
    """Operator: reprint one booklet (damaged booklet), by its number."""
    _require_operator(request)
    order = get_object_or_404(Order, pk=pk)
    number = (request.POST.get("booklet") or "").strip()
    booklet = Booklet.objects.filter(order=order, number=number).first()
    if booklet is None:
        return _refused(request, order, PrintError("unknown_booklet", _(
            "Aucun carnet n° « %(number)s » dans cette commande.") % {"number": number}, 400))
    try:
        printing.start_printing(order, actor=request.user, booklet=booklet)
    except PrintError as error:
        return _refused(request, order, error)
    messages.success(request, _("La réimpression du carnet %(number)s a commencé.")
                     % {"number": booklet.number})
    return _back(request, order)


@require_GET
def print_status(request, pk):
    """The progress bar's JSON: state, done, total, percent, warnings, download URL."""
    order = _visible_order(request, pk)
    return JsonResponse(printing.status(order))


def _serve(job):
    path = printing.file_path(job)
    if job.state != PrintJob.State.PRINTED or path is None or not path.is_file():
        raise Http404(_("Le PDF de cette commande n’est pas encore prêt."))
    response = FileResponse(path.open("rb"), as_attachment=True,
                            filename=printing.download_name(job),
                            content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def print_download(request, pk):
    """The order's PDF, for the operator and the funder who ordered."""
    order = _visible_order(request, pk)
    job = order.print_jobs.filter(booklet=None, state=PrintJob.State.PRINTED).order_by(
        "-finished_at", "-id").first()
    if job is None:
        raise Http404(_("Le PDF de cette commande n’est pas encore prêt."))
    return _serve(job)


@require_GET
def print_job_download(request, job_pk):
    """The PDF of one print job (a booklet reprint), with the same permission."""
    job = get_object_or_404(PrintJob.objects.select_related("booklet"), pk=job_pk)
    _visible_order(request, job.order_id)
    return _serve(job)
