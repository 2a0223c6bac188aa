"""Partner API of reimbursement: statements, payment batches (SEPA) and the funds ledger of
an order. Thin: the rules live in cheques.reimbursement and cheques.ledger.

Downloads use suffixes: ``/api/v1/statements/{id}.pdf``, ``/api/v1/statements/{id}.csv``
and ``/api/v1/payouts/{id}/sepa.xml``.
"""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.api import ApiError
from aptic.permissions import is_operator, may_act_for_funder
from aptic.schema import error_responses

from .. import ledger, reimbursement
from ..models import Order, PaymentBatch, Statement
from ..reimbursement import ReimbursementError
from ..web.reimbursement import sepa_response, statement_csv_response, statement_pdf_response
from .serializers import PaymentBatchSerializer, StatementDetailSerializer, StatementSerializer


def as_api_error(error):
    return ApiError(error.code, error.detail, error.status, **error.extra)


def not_found():
    return ApiError("not_found", _("Introuvable."), status.HTTP_404_NOT_FOUND)


def _statement(request, pk):
    statement = reimbursement.visible_statements(request.user).filter(pk=pk).first()
    if statement is None:
        raise not_found()
    return statement


def _require_operator(user):
    if not is_operator(user):
        raise ApiError("forbidden", _("Seul l’opérateur peut faire cela."),
                       status.HTTP_403_FORBIDDEN)


class StatementRunSerializer(serializers.Serializer):
    until = serializers.CharField(
        required=False, allow_blank=True, max_length=30,
        help_text="Encaissements jusqu’à ce jour inclus, AAAA-MM-JJ (par défaut : la fin du "
                  "mois précédent).")


class StatementFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Statement.State.choices)

    class Meta:
        model = Statement
        fields = ["state"]


class StatementList(generics.ListAPIView):
    """GET: the statements you may see (operator: all; place managers: their structure's).
    POST {"until": "YYYY-MM-DD"} (operator): run a reimbursement, 201 with the statements."""

    serializer_class = StatementSerializer
    filterset_class = StatementFilter

    def get_queryset(self):
        return reimbursement.visible_statements(self.request.user)

    @extend_schema(operation_id="v1_statements_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="v1_statements_run",
        request=StatementRunSerializer,
        responses={201: StatementSerializer(many=True)},
    )
    def post(self, request):
        _require_operator(request.user)
        payload = StatementRunSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            statements = reimbursement.run(until=reimbursement.parse_until(
                payload.validated_data.get("until")), actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(StatementSerializer(statements, many=True).data,
                        status=status.HTTP_201_CREATED)


class StatementDetail(APIView):
    @extend_schema(responses=StatementDetailSerializer)
    def get(self, request, pk):
        return Response(StatementDetailSerializer(_statement(request, pk)).data)


class StatementPdf(APIView):
    @extend_schema(
        operation_id="v1_statements_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk):
        return statement_pdf_response(_statement(request, pk))


class StatementCsv(APIView):
    @extend_schema(operation_id="v1_statements_csv",
                   responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk):
        return statement_csv_response(_statement(request, pk))


class StatementValidate(APIView):
    @extend_schema(request=None, responses={200: StatementSerializer, **error_responses(409)})
    def post(self, request, pk):
        statement = _statement(request, pk)
        try:
            statement = reimbursement.validate(statement, actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(StatementSerializer(statement).data)


class PayoutCreateSerializer(serializers.Serializer):
    statements = serializers.ListField(child=serializers.IntegerField(min_value=1),
                                       help_text="Les relevés validés à payer.")
    execution_date = serializers.DateField(required=False,
                                           help_text="Date d’exécution demandée à la banque.")


class PayoutList(generics.ListAPIView):
    """GET: payment batches (operator); POST {"statements": [ids], "execution_date"?}: a new
    batch and its SEPA file."""

    serializer_class = PaymentBatchSerializer

    queryset = PaymentBatch.objects.all()

    @extend_schema(operation_id="v1_payouts_list")
    def get(self, request, *args, **kwargs):
        _require_operator(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PayoutCreateSerializer,
                   responses={201: PaymentBatchSerializer, **error_responses(409)})
    def post(self, request):
        _require_operator(request.user)
        payload = PayoutCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            batch = reimbursement.create_batch(
                payload.validated_data["statements"], actor=request.user,
                execution_date=payload.validated_data.get("execution_date"))
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(PaymentBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


def _batch(request, pk):
    _require_operator(request.user)
    return get_object_or_404(PaymentBatch, pk=pk)


class PayoutDetail(APIView):
    @extend_schema(responses=PaymentBatchSerializer)
    def get(self, request, pk):
        return Response(PaymentBatchSerializer(_batch(request, pk)).data)


class PayoutSepa(APIView):
    @extend_schema(
        operation_id="v1_payouts_sepa",
        responses={(200, "application/xml"): OpenApiTypes.STR}
    )
    def get(self, request, pk):
        return sepa_response(_batch(request, pk))


class PayoutPaid(APIView):
    @extend_schema(request=None, responses={200: PaymentBatchSerializer, **error_responses(409)})
    def post(self, request, pk):
        batch = _batch(request, pk)
        try:
            batch = reimbursement.mark_paid(batch, actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(PaymentBatchSerializer(batch).data)


def may_see_ledger(user, order):
    return is_operator(user) or may_act_for_funder(user, order.funder_id)


class OrderLedger(APIView):
    """GET: the order's balances (cents) and its ledger entries (funder of the order,
    operator)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        order = Order.objects.filter(pk=pk).first()
        if order is None or not may_see_ledger(request.user, order):
            raise not_found()
        return Response({
            "order": order.pk,
            "balances": ledger.balance(order),
            "entries": [
                {"id": e.pk, "kind": e.kind, "at": e.at.isoformat(), "cheques": e.cheques,
                 "reference": e.reference,
                 **{bucket: getattr(e, bucket) for bucket in ledger.BUCKETS}}
                for e in ledger.entries_of(order)
            ],
        })

