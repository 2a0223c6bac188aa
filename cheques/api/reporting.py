"""GET /api/v1/reporting/summary/?order=: the funder dashboard's figures for partners."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.api import ApiError
from aptic.inputs import parse_int
from aptic.models import Role
from aptic.permissions import is_operator, organisations_for

from .. import reporting
from ..models import Order
from .orders import visible_orders


def _id(request, name):
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    value = parse_int(raw)
    if value is None:
        raise ApiError("invalid", _("Le paramètre « %(name)s » doit être un identifiant.")
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
        user = request.user
        if not (is_operator(user) or organisations_for(user, Role.FUNDER_MANAGER).exists()):
            raise ApiError("forbidden", _("Réservé aux financeurs et à l’opérateur."),
                           status.HTTP_403_FORBIDDEN)
        orders = visible_orders(user)
        order_id, funder_id = _id(request, "order"), _id(request, "funder")
        if funder_id is not None:
            # Same answer as the web dashboard: a funder you may not see does not exist.
            if not (is_operator(user) or organisations_for(user, Role.FUNDER_MANAGER)
                    .filter(pk=funder_id).exists()):
                raise ApiError("not_found", _("Financeur introuvable."),
                               status.HTTP_404_NOT_FOUND)
            orders = orders.filter(funder_id=funder_id)
        if order_id is not None:
            if not orders.filter(pk=order_id).exists():
                raise ApiError("not_found", _("Commande introuvable."),
                               status.HTTP_404_NOT_FOUND)
            orders = Order.objects.filter(pk=order_id)
        figures = reporting.summary(orders)
        return Response({"order": order_id, "funder": funder_id,
                         **figures,
                         "by_month": [{"month": month.strftime("%Y-%m"), "redemptions": n,
                                       "amount_cents": cents}
                                      for month, n, cents in reporting.by_month(orders)]})
