"""Partner API of printing: the order's PDF, and (operator) print again."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.api import ApiError
from aptic.schema import error_responses

from .. import printing
from ..models import Order, PrintJob
from ..printing import PrintError
from ..web.printing import _serve
from .orders import require_operator, visible_orders


class OrderPdf(APIView):
    """The printed PDF of an order (the operator, the managers of the funder who ordered)."""

    # Anyone else, signed in or not, gets the same 404: the API does not tell whether an
    # order exists to someone who may not see it.
    permission_classes = [AllowAny]

    def perform_content_negotiation(self, request, force=False):
        # `Accept: application/pdf` is welcome: errors still answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              **error_responses(409)})
    def get(self, request, pk):
        order = get_object_or_404(visible_orders(request.user), pk=pk)
        job = order.print_jobs.filter(booklet=None, state=PrintJob.State.PRINTED).order_by(
            "-finished_at", "-id").first()
        if job is None or printing.file_path(job) is None:
            raise ApiError("not_printed", _("Le PDF de cette commande n’est pas encore prêt."),
                           status.HTTP_409_CONFLICT)
        return _serve(job)


class OrderPrint(APIView):
    """Operator: print the order (again). 409 when it is not issued or already printing."""

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, **error_responses(409)})
    def post(self, request, pk):
        require_operator(request.user)
        order = get_object_or_404(Order, pk=pk)
        try:
            job = printing.start_printing(order, actor=request.user)
        except PrintError as error:
            raise ApiError(error.code, error.detail, error.status) from error
        return Response(printing.status(order, job), status=status.HTTP_202_ACCEPTED)


class OrderPrintRestart(APIView):
    """Operator: restart the order's stalled printing (no progress for PRINT_STALL_MINUTES,
    shown as `print.stalled` on the order). 409 when it is not running or still moves."""

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, **error_responses(409)})
    def post(self, request, pk):
        # The funder who ordered sees the order but may not restart (403); anyone else
        # gets a 404, as if the order did not exist.
        order = get_object_or_404(visible_orders(request.user), pk=pk)
        require_operator(request.user)
        try:
            printing.restart_printing(order, actor=request.user)
        except PrintError as error:
            raise ApiError(error.code, error.detail, error.status) from error
        return Response(printing.status(order), status=status.HTTP_202_ACCEPTED)
