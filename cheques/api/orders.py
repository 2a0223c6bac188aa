"""Partner API for orders, booklets and cheques (thin: the rules live in the domain modules)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.errors import DomainError
from aptic.schema import error_responses
from aptic.throttling import PER_ACCOUNT_AND_ADDRESS

from .. import access, guard, lifecycle, ordering, redemption
from ..models import Cheque
from .serializers import (
    BookletSerializer,
    ChequeLookupSerializer,
    ChequeRowSerializer,
    DistributeSerializer,
    MoveSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    ReasonSerializer,
)


class OrderListCreate(generics.ListCreateAPIView):
    """Orders of your funder(s) (all of them for the operator); funder managers order."""

    serializer_class = OrderSerializer

    def get_queryset(self):
        return access.visible_orders(self.request.user)

    def get_serializer_class(self):
        return OrderCreateSerializer if self.request.method == "POST" else OrderSerializer

    def create(self, request, *args, **kwargs):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        funders = access.managed_funders(request.user)
        funder_id = data.pop("funder", None)
        if funder_id is not None:
            funders = funders.filter(pk=funder_id)
        access.require(funders.exists(), _("Seuls les gestionnaires d’un financeur commandent."))
        if funders.count() > 1:
            raise DomainError("funder_required", _("Précisez le financeur (champ « funder »)."))
        try:
            order = ordering.create_order(funder=funders.get(), created_by=request.user,
                                          **data)
        except DjangoValidationError as error:
            raise DomainError("invalid", _("Certaines données sont invalides."),
                              errors=error.message_dict) from error
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetail(generics.RetrieveAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return access.visible_orders(self.request.user)


def _decision(request, pk):
    """An order to decide on: unknown to those who may not see it, refused (403) to the
    funder who may."""
    order = access.visible_order(request.user, pk)
    access.require(access.may_decide(request.user, order),
                   _("Seul l’opérateur décide des commandes."))
    return order


class OrderApprove(APIView):
    @extend_schema(request=None, responses={200: OrderSerializer, **error_responses(409)})
    def post(self, request, pk):
        order = ordering.approve_order(_decision(request, pk), actor=request.user)
        return Response(OrderSerializer(order).data)


class OrderReject(APIView):
    @extend_schema(request=ReasonSerializer,
                   responses={200: OrderSerializer, **error_responses(409)})
    def post(self, request, pk):
        order = _decision(request, pk)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = ordering.reject_order(order, actor=request.user,
                                      reason=serializer.validated_data["reason"])
        return Response(OrderSerializer(order).data)


class OrderCheques(generics.ListAPIView):
    """The print shop's data file: number, code, QR payload and state of every cheque."""

    serializer_class = ChequeRowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Cheque.objects.none()
        order = access.visible_order(self.request.user, self.kwargs["pk"])
        access.require_operator(self.request.user)
        return Cheque.objects.filter(order=order).select_related("booklet").order_by("number")


class BookletDistribute(APIView):
    @extend_schema(request=DistributeSerializer,
                   responses={200: BookletSerializer, **error_responses(410)})
    def post(self, request, number):
        serializer = DistributeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with guard.counting_failures(request):
            booklet = lifecycle.distribute_booklet(number, actor=request.user,
                                                   **serializer.validated_data)
        return Response(BookletSerializer(booklet).data)


class BookletMove(APIView):
    """POST {"booklets": ["2025-000001", …], "prescriber": id or null}: move booklets not
    yet handed out to another prescriber of their funder (null: back to the funder's own
    stock). All or nothing; 409 for a booklet already handed out, 404 for one of another
    funder."""

    @extend_schema(request=MoveSerializer,
                   responses={200: BookletSerializer(many=True), **error_responses(409)})
    def post(self, request):
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with guard.counting_failures(request):
            moved = lifecycle.move_booklets(serializer.validated_data["booklets"],
                                            to_holder=serializer.validated_data["prescriber"],
                                            actor=request.user)
        return Response(BookletSerializer(moved, many=True).data)


class BookletCancel(APIView):
    @extend_schema(request=ReasonSerializer,
                   responses={200: BookletSerializer, **error_responses(410)})
    def post(self, request, number):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with guard.counting_failures(request):
            booklet, count = lifecycle.cancel_booklet(
                number, actor=request.user, reason=serializer.validated_data["reason"])
        return Response({**BookletSerializer(booklet).data, "cancelled_cheques": count})


class ChequeLookup(APIView):
    """What a mediator needs before accepting a cheque. Throttled. With `place` and
    `service`, the refusal also covers what the funder allows there (service, territory)."""

    throttle_classes = PER_ACCOUNT_AND_ADDRESS
    throttle_scope = "cheque_lookup"

    @extend_schema(
        parameters=[
            OpenApiParameter("s", str, description="Signature du QR code scanné."),
            OpenApiParameter("place", int, description=(
                "Facultatif : le lieu (identifiant) où le chèque serait encaissé.")),
            OpenApiParameter("service", str, description=(
                "Facultatif : le service (identifiant) qu’il paierait.")),
        ],
        responses={200: ChequeLookupSerializer, **error_responses(422)})
    def get(self, request, code):
        access.require(access.may_look_up(request.user),
                       _("Réservé aux médiateurs et à l’opérateur."))
        with guard.counting_failures(request):
            cheque = lifecycle.lookup_cheque(code, request.query_params.get("s"))
        place = service = None
        if request.query_params.get("place"):
            place = redemption.place_for_redemption(request.user,
                                                    request.query_params["place"])
            if request.query_params.get("service"):
                service = redemption.service_for_redemption(place,
                                                            request.query_params["service"])
        refusal = redemption.basket_refusal(cheque, user=request.user, place=place,
                                            service=service)
        return Response(ChequeLookupSerializer(cheque, context={"refusal": refusal}).data)
