"""Partner API of reimbursement: statements, payment batches (SEPA) and the funds ledger of
an order. Thin: the rules live in cheques.reimbursement and cheques.ledger.

Downloads use suffixes: ``/api/v1/statements/{id}.pdf``, ``/api/v1/statements/{id}.csv``
and ``/api/v1/payouts/{id}/sepa.xml``.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.api import ApiError
from aptic.permissions import is_operator, may_act_for_funder

from . import ledger, reimbursement
from .models import Order, PaymentBatch
from .reimbursement import ReimbursementError
from .reimbursement_views import sepa_response, statement_csv_response, statement_pdf_response


def as_api_error(error):
    return ApiError(error.code, error.detail, error.status, **error.extra)


def not_found():
    return ApiError("not_found", _("Introuvable."), status.HTTP_404_NOT_FOUND)


def statement_body(statement, *, with_lines=False):
    body = {
        "id": statement.pk,
        "reference": statement.reference,
        "structure": {"id": statement.structure_id, "name": statement.structure.name},
        "until": statement.until.isoformat(),
        "state": statement.state,
        "line_count": statement.line_count,
        "total_cents": statement.total_cents,
        "created_at": statement.created_at.isoformat(),
        "validated_at": statement.validated_at.isoformat() if statement.validated_at else None,
        "paid_at": statement.paid_at.isoformat() if statement.paid_at else None,
        "batch": statement.batch_id,
        "pdf": f"/api/v1/statements/{statement.pk}.pdf",
        "csv": f"/api/v1/statements/{statement.pk}.csv",
    }
    if with_lines:
        totals = reimbursement.totals(statement)
        body["totals"] = {
            "by_place": [{"place": n, "count": c, "amount_cents": a} for n, c, a in
                         totals.by_place],
            "by_service": [{"service": n, "count": c, "amount_cents": a} for n, c, a in
                           totals.by_service],
        }
        body["lines"] = [
            {"id": line.pk, "redemption": line.redemption_id,
             "redeemed_at": line.redeemed_at.isoformat(), "place": line.place_id,
             "place_name": line.place_name, "cheque": line.cheque_number,
             "service": line.service_label, "mediator": line.mediator_name,
             "amount_cents": line.amount_cents}
            for line in statement.lines.order_by("redeemed_at", "id")
        ]
    return body


def batch_body(batch):
    return {
        "id": batch.pk, "state": batch.state, "total_cents": batch.total_cents,
        "transfers": batch.transfers, "execution_date": batch.execution_date.isoformat(),
        "message_id": batch.message_id, "created_at": batch.created_at.isoformat(),
        "paid_at": batch.paid_at.isoformat() if batch.paid_at else None,
        "statements": list(batch.statements.order_by("pk").values_list("pk", flat=True)),
        "sepa": f"/api/v1/payouts/{batch.pk}/sepa.xml",
    }


def _statement(request, pk):
    statement = reimbursement.visible_statements(request.user).filter(pk=pk).first()
    if statement is None:
        raise not_found()
    return statement


def _require_operator(user):
    if not is_operator(user):
        raise ApiError("forbidden", _("Seul l’opérateur peut faire cela."),
                       status.HTTP_403_FORBIDDEN)


class StatementList(APIView):
    """GET: the statements you may see (operator: all; place managers: their structure's).
    POST {"until": "YYYY-MM-DD"} (operator): run a reimbursement, 201 with the statements."""

    @extend_schema(operation_id="v1_statements_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        statements = reimbursement.visible_statements(request.user)
        state = request.query_params.get("state")
        if state:
            statements = statements.filter(state=state)
        return Response([statement_body(s) for s in statements[:500]])

    @extend_schema(
        operation_id="v1_statements_run",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT
    )
    def post(self, request):
        _require_operator(request.user)
        try:
            statements = reimbursement.run(until=reimbursement.parse_until(
                request.data.get("until")), actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response([statement_body(s) for s in statements], status=status.HTTP_201_CREATED)


class StatementDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        return Response(statement_body(_statement(request, pk), with_lines=True))


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
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk):
        statement = _statement(request, pk)
        try:
            statement = reimbursement.validate(statement, actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(statement_body(statement))


class PayoutList(APIView):
    """GET: payment batches; POST {"statements": [ids], "execution_date"?}: a new batch."""

    @extend_schema(operation_id="v1_payouts_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        _require_operator(request.user)
        return Response([batch_body(b) for b in PaymentBatch.objects.all()[:200]])

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        _require_operator(request.user)
        ids = request.data.get("statements")
        if not isinstance(ids, list):
            raise ApiError("invalid", _("Indiquez la liste des relevés : {\"statements\": [ids]}."))
        execution_date = request.data.get("execution_date")
        try:
            batch = reimbursement.create_batch(
                ids, actor=request.user,
                execution_date=reimbursement.parse_until(execution_date)
                if execution_date else None)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(batch_body(batch), status=status.HTTP_201_CREATED)


def _batch(request, pk):
    _require_operator(request.user)
    return get_object_or_404(PaymentBatch, pk=pk)


class PayoutDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        return Response(batch_body(_batch(request, pk)))


class PayoutSepa(APIView):
    @extend_schema(
        operation_id="v1_payouts_sepa",
        responses={(200, "application/xml"): OpenApiTypes.STR}
    )
    def get(self, request, pk):
        return sepa_response(_batch(request, pk))


class PayoutPaid(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk):
        batch = _batch(request, pk)
        try:
            batch = reimbursement.mark_paid(batch, actor=request.user)
        except ReimbursementError as error:
            raise as_api_error(error) from None
        return Response(batch_body(batch))


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

