"""GET /api/v1/reporting/summary/?order=: the funder dashboard's figures for partners."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.errors import DomainError
from aptic.inputs import parse_int

from .. import access, reporting
from ..models import Order


def _id(request, name):
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    value = parse_int(raw)
    if value is None:
        raise DomainError("invalid", _("Le paramètre « %(name)s » doit être un identifiant.")
                       % {"name": name})
    return value


class ReportingSummary(APIView):
    """Use of the cheques of one order (`order`), or of every order you may see (a funder
    manager: their funder's; the operator: all, or one funder's with `funder`)."""

    @extend_schema(parameters=[
        OpenApiParameter("order", int, description="Identifiant de la commande."),
        OpenApiParameter("funder", int, description="Identifiant du financeur."),
    ], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        order_id, funder_id = _id(request, "order"), _id(request, "funder")
        orders, _funders = access.reporting_scope(request.user, funder_id)
        if order_id is not None:
            if not orders.filter(pk=order_id).exists():
                raise access.not_found()
            orders = Order.objects.filter(pk=order_id)
        figures = reporting.summary(orders)
        return Response({"order": order_id, "funder": funder_id,
                         **figures,
                         "by_month": [{"month": month.strftime("%Y-%m"), "redemptions": n,
                                       "amount_cents": cents}
                                      for month, n, cents in reporting.by_month(orders)]})
