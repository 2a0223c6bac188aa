"""Partner API for orders, booklets and cheques (thin: the rules live in the domain modules)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.api import ApiError
from aptic.models import Role
from aptic.permissions import is_operator, organisations_for
from aptic.schema import error_responses
from aptic.throttling import PER_ACCOUNT_AND_ADDRESS

from .. import guard, lifecycle, ordering
from ..lifecycle import ChequeError
from ..models import Cheque, Order
from ..ordering import OrderError
from .serializers import (
    BookletSerializer,
    ChequeLookupSerializer,
    ChequeRowSerializer,
    DistributeSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    ReasonSerializer,
)


def as_api_error(error):
    if isinstance(error, ChequeError):
        return ApiError(error.code, error.detail, error.status)
    if isinstance(error, OrderError):
        return ApiError(error.code, error.detail,
                        status.HTTP_409_CONFLICT if error.code == "invalid_status"
                        else status.HTTP_400_BAD_REQUEST)
    raise TypeError(error)


def visible_orders(user):
    """The operator sees every order; a funder manager the orders of their funders."""
    orders = Order.objects.select_related("funder").prefetch_related("allowed_services")
    if is_operator(user):
        return orders
    return orders.filter(funder__in=organisations_for(user, Role.FUNDER_MANAGER))


def require_operator(user):
    if not is_operator(user):
        raise ApiError("forbidden", _("Seul l’opérateur peut faire cela."),
                       status.HTTP_403_FORBIDDEN)


class OrderListCreate(generics.ListCreateAPIView):
    """Orders of your funder(s) (all of them for the operator); funder managers order."""

    serializer_class = OrderSerializer

    def get_queryset(self):
        return visible_orders(self.request.user)

    def get_serializer_class(self):
        return OrderCreateSerializer if self.request.method == "POST" else OrderSerializer

    def create(self, request, *args, **kwargs):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        funders = organisations_for(request.user, Role.FUNDER_MANAGER).filter(kind="funder")
        funder_id = data.pop("funder", None)
        if funder_id is not None:
            funders = funders.filter(pk=funder_id)
        if not funders.exists():
            raise ApiError("forbidden", _("Seuls les gestionnaires d’un financeur commandent."),
                           status.HTTP_403_FORBIDDEN)
        if funders.count() > 1:
            raise ApiError("funder_required", _("Précisez le financeur (champ « funder »)."))
        try:
            order = ordering.create_order(funder=funders.get(), created_by=request.user,
                                          **data)
        except DjangoValidationError as error:
            raise ApiError("invalid", _("Certaines données sont invalides."),
                           errors=error.message_dict) from error
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetail(generics.RetrieveAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return visible_orders(self.request.user)


class OrderApprove(APIView):
    @extend_schema(request=None, responses={200: OrderSerializer, **error_responses(409)})
    def post(self, request, pk):
        require_operator(request.user)
        order = get_object_or_404(Order, pk=pk)
        try:
            order = ordering.approve_order(order, actor=request.user)
        except OrderError as error:
            raise as_api_error(error) from error
        return Response(OrderSerializer(order).data)


class OrderReject(APIView):
    @extend_schema(request=ReasonSerializer,
                   responses={200: OrderSerializer, **error_responses(409)})
    def post(self, request, pk):
        require_operator(request.user)
        order = get_object_or_404(Order, pk=pk)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            order = ordering.reject_order(order, actor=request.user,
                                          reason=serializer.validated_data["reason"])
        except OrderError as error:
            raise as_api_error(error) from error
        return Response(OrderSerializer(order).data)


class OrderCheques(generics.ListAPIView):
    """The print shop's data file: number, code, QR payload and state of every cheque."""

    serializer_class = ChequeRowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Cheque.objects.none()
        require_operator(self.request.user)
        order = get_object_or_404(Order, pk=self.kwargs["pk"])
        return Cheque.objects.filter(order=order).select_related("booklet").order_by("number")


class BookletDistribute(APIView):
    @extend_schema(request=DistributeSerializer, responses=BookletSerializer)
    def post(self, request, number):
        serializer = DistributeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with guard.counting_failures(request):
                booklet = lifecycle.distribute_booklet(number, actor=request.user,
                                                       **serializer.validated_data)
        except ChequeError as error:
            raise as_api_error(error) from error
        return Response(BookletSerializer(booklet).data)


class BookletCancel(APIView):
    @extend_schema(request=ReasonSerializer, responses=BookletSerializer)
    def post(self, request, number):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with guard.counting_failures(request):
                booklet, count = lifecycle.cancel_booklet(
                    number, actor=request.user, reason=serializer.validated_data["reason"])
        except ChequeError as error:
            raise as_api_error(error) from error
        return Response({**BookletSerializer(booklet).data, "cancelled_cheques": count})


class ChequeLookup(APIView):
    """What a mediator needs before accepting a cheque. Throttled."""

    throttle_classes = PER_ACCOUNT_AND_ADDRESS
    throttle_scope = "cheque_lookup"

    @extend_schema(responses=ChequeLookupSerializer)
    def get(self, request, code):
        if not lifecycle.may_look_up(request.user):
            raise ApiError("forbidden", _("Réservé aux médiateurs et à l’opérateur."),
                           status.HTTP_403_FORBIDDEN)
        ip_address = guard.client_ip(request)
        try:
            guard.ensure_not_blocked(request.user, ip_address)
            cheque = lifecycle.lookup_cheque(code, request.query_params.get("s"))
        except ChequeError as error:
            guard.record_failure(request.user, ip_address, error)
            raise as_api_error(error) from error
        return Response(ChequeLookupSerializer(cheque).data)
