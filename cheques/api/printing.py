"""Partner API of printing: the order's PDF, and (operator) print again or restart."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.http import file_download
from aptic.schema import error_responses

from .. import access, printing


def _operator_action(request, pk):
    # The funder who ordered sees the order but may not print (403); anyone else gets a
    # 404, as if the order did not exist.
    order = access.visible_order(request.user, pk)
    access.require_operator(request.user)
    return order


class OrderPdf(APIView):
    """The printed PDF of an order (the operator, the managers of the funder who ordered)."""

    # Signed in or not, who may not see the order gets the same answer whatever the order
    # (cheques.access): the API does not tell whether an order exists.
    permission_classes = [AllowAny]

    def perform_content_negotiation(self, request, force=False):
        # `Accept: application/pdf` is welcome: errors still answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              **error_responses(409)})
    def get(self, request, pk):
        order = access.visible_order(request.user, pk)
        fileobj, filename = printing.printed_pdf(printing.latest_printed_job(order))
        return file_download(fileobj, filename, "application/pdf")


class OrderPrint(APIView):
    """Operator: print the order (again). 409 when it is not issued or already printing."""

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, **error_responses(409)})
    def post(self, request, pk):
        order = _operator_action(request, pk)
        job = printing.start_printing(order, actor=request.user)
        return Response(printing.status(order, job), status=status.HTTP_202_ACCEPTED)


class OrderPrintRestart(APIView):
    """Operator: restart the order's stalled printing (no progress for PRINT_STALL_MINUTES,
    shown as `print.stalled` on the order). 409 when it is not running or still moves."""

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, **error_responses(409)})
    def post(self, request, pk):
        order = _operator_action(request, pk)
        printing.restart_printing(order, actor=request.user)
        return Response(printing.status(order), status=status.HTTP_202_ACCEPTED)
