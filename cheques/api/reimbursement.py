"""Partner API of reimbursement: statements, payment batches (SEPA) and the funds ledger of
an order. Thin: the rules live in cheques.reimbursement and cheques.ledger.

Downloads use suffixes: ``/api/v1/statements/{id}.pdf``, ``/api/v1/statements/{id}.csv``
and ``/api/v1/payouts/{id}/sepa.xml``.
"""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.http import attachment
from aptic.schema import error_responses

from .. import access, bank_reports, ledger, reimbursement
from ..models import PaymentBatch, Statement
from .serializers import PaymentBatchSerializer, StatementDetailSerializer, StatementSerializer


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
        return access.visible_statements(self.request.user)

    @extend_schema(operation_id="v1_statements_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="v1_statements_run",
        request=StatementRunSerializer,
        responses={201: StatementSerializer(many=True)},
    )
    def post(self, request):
        access.require_operator(request.user)
        payload = StatementRunSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        statements = reimbursement.run(until=reimbursement.parse_until(
            payload.validated_data.get("until")), actor=request.user)
        return Response(StatementSerializer(statements, many=True).data,
                        status=status.HTTP_201_CREATED)


class StatementDetail(APIView):
    @extend_schema(responses=StatementDetailSerializer)
    def get(self, request, pk):
        return Response(StatementDetailSerializer(access.visible_statement(request.user, pk)).data)


class StatementPdf(APIView):
    @extend_schema(
        operation_id="v1_statements_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk):
        return attachment(*reimbursement.statement_download(
            access.visible_statement(request.user, pk), "pdf"))


class StatementCsv(APIView):
    @extend_schema(operation_id="v1_statements_csv",
                   responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk):
        return attachment(*reimbursement.statement_download(
            access.visible_statement(request.user, pk), "csv"))


class StatementValidate(APIView):
    @extend_schema(request=None, responses={200: StatementSerializer, **error_responses(409)})
    def post(self, request, pk):
        statement = access.visible_statement(request.user, pk)
        statement = reimbursement.validate(statement, actor=request.user)
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
        access.require_operator(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PayoutCreateSerializer,
                   responses={201: PaymentBatchSerializer, **error_responses(409)})
    def post(self, request):
        access.require_operator(request.user)
        payload = PayoutCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        batch = reimbursement.create_batch(
            payload.validated_data["statements"], actor=request.user,
            execution_date=payload.validated_data.get("execution_date"))
        return Response(PaymentBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class PayoutDetail(APIView):
    @extend_schema(responses=PaymentBatchSerializer)
    def get(self, request, pk):
        return Response(PaymentBatchSerializer(access.visible_batch(request.user, pk)).data)


class PayoutSepa(APIView):
    @extend_schema(
        operation_id="v1_payouts_sepa",
        responses={(200, "application/xml"): OpenApiTypes.STR}
    )
    def get(self, request, pk):
        """The batch's SEPA file: downloading it sends a draft batch (state ``sent``)."""
        batch = access.visible_batch(request.user, pk)
        response = attachment(*reimbursement.sepa_download(batch))
        reimbursement.mark_sent(batch, actor=request.user)
        return response


class BankFileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="Rapport d’état pain.002.001.03, avis camt.054.001.02 ou relevé "
                  "camt.053.001.02 (XML, 5 Mo au plus).")


class BankFileSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="file.pk")
    kind = serializers.CharField(source="file.kind")
    message_id = serializers.CharField(source="file.message_id")
    read_at = serializers.DateTimeField(source="file.uploaded_at")
    duplicate = serializers.BooleanField(
        help_text="Fichier déjà lu : rien n’a changé cette fois.")
    counts = inline_serializer("BankFileCounts", {
        "accepted": serializers.IntegerField(), "paid": serializers.IntegerField(),
        "rejected": serializers.IntegerField(), "unchanged": serializers.IntegerField()})
    batches = serializers.SerializerMethodField()

    def get_batches(self, outcome) -> list[int]:
        return sorted(outcome.file.batches.values_list("pk", flat=True))


class BankFileUpload(APIView):
    """POST (operator, multipart ``file``): read a file of the bank. 201 with what it
    changed; 200 with ``duplicate`` when the same file was already read (nothing changes);
    422 for a malformed file or one that concerns no batch of the platform."""

    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="v1_payouts_bank_files",
                   request={"multipart/form-data": BankFileUploadSerializer},
                   responses={201: BankFileSerializer, 200: BankFileSerializer,
                              **error_responses(422)})
    def post(self, request):
        access.require(access.may_correct_redemptions(request.user),
                       _("Seul l’opérateur dépose les fichiers de la banque."))
        payload = BankFileUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        outcome = bank_reports.read(upload.read(bank_reports.MAX_BYTES + 1),
                                    actor=request.user, name=upload.name)
        return Response(BankFileSerializer(outcome).data,
                        status=status.HTTP_200_OK if outcome.duplicate
                        else status.HTTP_201_CREATED)


class PayoutPaid(APIView):
    @extend_schema(request=None, responses={200: PaymentBatchSerializer, **error_responses(409)})
    def post(self, request, pk):
        batch = access.visible_batch(request.user, pk)
        batch = reimbursement.mark_paid(batch, actor=request.user)
        return Response(PaymentBatchSerializer(batch).data)


class OrderLedger(APIView):
    """GET: the order's balances (cents) and its ledger entries (funder of the order,
    operator)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        order = access.visible_order(request.user, pk)
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

