import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from places.departments import DEPARTMENTS
from services.models import Service

from .. import bank_reasons, codes, issuance, printing, reimbursement
from ..lifecycle import refusal
from ..models import (
    MAX_BOOKLETS_PER_ORDER,
    MAX_CHEQUES_PER_BOOKLET,
    MAX_FACE_VALUE_CENTS,
    MAX_WORDING_LENGTH,
    Booklet,
    Cheque,
    Order,
    PaymentBatch,
    Statement,
    StatementLine,
    Transfer,
)
from ..ordering import validate_order_terms


class OrderCreateSerializer(serializers.Serializer):
    funder = serializers.IntegerField(
        required=False, help_text=_("Identifiant du financeur, si vous en gérez plusieurs."))
    booklets = serializers.IntegerField(min_value=1, max_value=MAX_BOOKLETS_PER_ORDER)
    cheques_per_booklet = serializers.IntegerField(
        min_value=1, max_value=MAX_CHEQUES_PER_BOOKLET, default=10)
    # The same cap as cheques.ordering.validate_order_terms, stated here for the contract.
    face_value_cents = serializers.IntegerField(
        min_value=1, max_value=MAX_FACE_VALUE_CENTS, default=1000,
        error_messages={"max_value": _("Au plus 1 000 € par chèque.")})
    valid_until = serializers.DateField(required=False)
    allowed_services = serializers.SlugRelatedField(
        slug_field="slug", many=True, required=False, queryset=Service.objects.active())
    territory = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(DEPARTMENTS)), required=False)
    target_public = serializers.CharField(required=False, allow_blank=True, max_length=300)
    requires_activation = serializers.BooleanField(default=False)
    custom_wording = serializers.CharField(required=False, allow_blank=True,
                                           max_length=MAX_WORDING_LENGTH)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)

    def validate(self, attrs):
        try:
            validate_order_terms(
                booklets=attrs.get("booklets"),
                cheques_per_booklet=attrs.get("cheques_per_booklet"),
                face_value_cents=attrs.get("face_value_cents"),
                valid_until=attrs.get("valid_until"), territory=attrs.get("territory"),
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs


class OrderSerializer(serializers.ModelSerializer):
    funder_name = serializers.CharField(source="funder.name", read_only=True)
    allowed_services = serializers.SlugRelatedField(slug_field="slug", many=True,
                                                    read_only=True)
    cheques = serializers.SerializerMethodField()
    issuance = serializers.SerializerMethodField()
    print = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "status", "funder", "funder_name", "booklets", "cheques_per_booklet",
                  "face_value_cents", "per_booklet_fee_cents", "total_cents", "valid_until",
                  "allowed_services", "territory", "target_public", "requires_activation",
                  "custom_wording", "rejection_reason", "credit_note_cents", "created_at",
                  "issued_at", "cheques", "issuance", "print"]

    def get_cheques(self, order) -> dict:
        if order.status != Order.Status.ISSUED:
            return dict.fromkeys(Cheque.State.values, 0)
        return order.counts_by_state()

    def get_issuance(self, order) -> dict:
        return issuance.progress(order)

    def get_print(self, order) -> dict:
        """The order's printing: state (None before the first print job), done, total, and
        stalled (a running job with no progress for minutes: the operator may restart it,
        POST /api/v1/orders/{id}/print/restart/)."""
        print_status = printing.status(order)
        return {key: print_status[key] for key in ("state", "done", "total", "stalled")}


class ChequeRowSerializer(serializers.ModelSerializer):
    """One row of the print shop's data file."""

    booklet = serializers.CharField(source="booklet.number")
    display_code = serializers.CharField()
    qr_payload = serializers.SerializerMethodField()

    class Meta:
        model = Cheque
        fields = ["number", "booklet", "code", "display_code", "qr_payload",
                  "face_value_cents", "state"]

    def get_qr_payload(self, cheque) -> str:
        return codes.qr_url(cheque.code)


class ChequeLookupSerializer(serializers.ModelSerializer):
    display_code = serializers.CharField()
    booklet = serializers.CharField(source="booklet.number")
    valid_until = serializers.DateField(source="order.valid_until")
    accepted_until = serializers.DateField(source="order.expiry_date")
    funder = serializers.CharField(source="order.funder.name")
    allowed_services = serializers.SerializerMethodField()
    territory = serializers.ListField(source="order.territory")
    requires_activation = serializers.BooleanField(source="order.requires_activation")
    redeemable = serializers.SerializerMethodField()
    refusal = serializers.SerializerMethodField()

    class Meta:
        model = Cheque
        fields = ["number", "display_code", "booklet", "state", "face_value_cents",
                  "valid_until", "accepted_until", "funder", "allowed_services", "territory",
                  "requires_activation", "activated_at", "redeemable", "refusal"]

    def get_allowed_services(self, cheque) -> list[str]:
        return list(cheque.order.allowed_services.values_list("slug", flat=True))

    def _refusal(self, cheque):
        """The refusal the view worked out for its caller (cheques.redemption.basket_refusal),
        or the cheque's own state."""
        if "refusal" in self.context:
            return self.context["refusal"]
        return refusal(cheque)

    def get_redeemable(self, cheque) -> bool:
        return self._refusal(cheque) is None

    @extend_schema_field(inline_serializer("ChequeRefusal", {
        "code": serializers.CharField(), "detail": serializers.CharField(),
        "redeemed_at": serializers.DateTimeField(required=False),
        "place": serializers.DictField(required=False),
        "accepted_until": serializers.DateField(required=False),
        "territory": serializers.ListField(child=serializers.CharField(), required=False),
    }, allow_null=True))
    def get_refusal(self, cheque):
        error = self._refusal(cheque)
        if error is None:
            return None
        extra = {key: value for key, value in error.extra.items() if key != "cheque"}
        return {"code": error.code, "detail": str(error.detail), **extra}


class DistributeSerializer(serializers.Serializer):
    age_bracket = serializers.ChoiceField(choices=Booklet.AgeBracket.choices, required=False,
                                          allow_blank=True)
    postcode = serializers.RegexField(r"^\d{5}$", required=False, allow_blank=True)
    situation = serializers.ChoiceField(choices=Booklet.Situation.choices, required=False,
                                        allow_blank=True)


class MoveSerializer(serializers.Serializer):
    booklets = serializers.ListField(
        child=serializers.RegexField(r"^\d{4}-\d{6}$", max_length=11), min_length=1,
        max_length=500, help_text="Numéros des carnets (AAAA-NNNNNN), pas encore remis.")
    prescriber = serializers.IntegerField(
        allow_null=True, min_value=1,
        help_text="Le prescripteur qui les détiendra ; null : le stock du financeur.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class BookletSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id")

    class Meta:
        model = Booklet
        fields = ["number", "order", "state", "distributed_at", "age_bracket", "postcode",
                  "situation", "cancellation_reason", "holder", "held_since", "department",
                  "commune"]

    holder = serializers.IntegerField(source="holder_id", allow_null=True,
                                      help_text="Le prescripteur qui détient le carnet.")


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StatementSerializer(serializers.ModelSerializer):
    """A reimbursement statement (relevé) and the addresses of its PDF and CSV."""

    reference = serializers.CharField()
    structure = OrganisationRefSerializer()
    batch = serializers.IntegerField(source="batch_id", allow_null=True)
    pdf = serializers.SerializerMethodField()
    csv = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = ["id", "reference", "structure", "until", "state", "line_count",
                  "total_cents", "created_at", "statement_date", "validated_at", "paid_at",
                  "paid_on", "batch", "pdf", "csv"]

    statement_date = serializers.SerializerMethodField(
        help_text="Date du relevé (jour où il a été dressé, heure de Paris).")

    def get_statement_date(self, statement) -> datetime.date:
        return reimbursement.statement_date(statement)

    def get_pdf(self, statement) -> str:
        return f"/api/v1/statements/{statement.pk}.pdf"

    def get_csv(self, statement) -> str:
        return f"/api/v1/statements/{statement.pk}.csv"


class StatementLineSerializer(serializers.ModelSerializer):
    """A line: a redemption, or a signed adjustment (correction, carry-over, goodwill) with
    its label."""

    redemption = serializers.IntegerField(source="redemption_id", allow_null=True)
    place = serializers.IntegerField(source="place_id", allow_null=True)
    cheque = serializers.CharField(source="cheque_number")
    service = serializers.CharField(source="service_label")
    mediator = serializers.CharField(source="mediator_name")

    class Meta:
        model = StatementLine
        fields = ["id", "kind", "redemption", "redeemed_at", "place", "place_name", "cheque",
                  "service", "mediator", "label", "amount_cents"]


class StatementTotalsSerializer(serializers.Serializer):
    by_place = inline_serializer("PlaceTotal", {
        "place": serializers.CharField(), "count": serializers.IntegerField(),
        "amount_cents": serializers.IntegerField()}, many=True)
    by_service = inline_serializer("ServiceTotal", {
        "service": serializers.CharField(), "count": serializers.IntegerField(),
        "amount_cents": serializers.IntegerField()}, many=True)


class StatementDetailSerializer(StatementSerializer):
    """A statement with its totals (per place, per service) and its lines."""

    totals = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "totals", "lines"]

    @extend_schema_field(StatementTotalsSerializer)
    def get_totals(self, statement):
        totals = reimbursement.totals(statement)
        return {
            "by_place": [{"place": name, "count": count, "amount_cents": cents}
                         for name, count, cents in totals.by_place],
            "by_service": [{"service": name, "count": count, "amount_cents": cents}
                           for name, count, cents in totals.by_service],
        }

    @extend_schema_field(StatementLineSerializer(many=True))
    def get_lines(self, statement):
        lines = statement.lines.order_by("redeemed_at", "id")
        return StatementLineSerializer(lines, many=True).data


class TransferSerializer(serializers.ModelSerializer):
    """One transfer of a batch and what the bank said of it."""

    statement = serializers.IntegerField(source="statement_id")
    structure = serializers.IntegerField(source="structure_id")
    reason = serializers.SerializerMethodField(help_text="Motif du rejet, en clair.")

    class Meta:
        model = Transfer
        fields = ["end_to_end_id", "statement", "structure", "amount_cents", "state",
                  "reason_code", "reason", "reason_detail", "bank_details_to_fix", "paid_on"]

    def get_reason(self, transfer) -> str:
        return (str(bank_reasons.label(transfer.reason_code))
                if transfer.state == Transfer.State.REJECTED else "")


class PaymentBatchSerializer(serializers.ModelSerializer):
    """A payment batch: statements paid by one SEPA credit-transfer file, its transfers and
    their states as the bank's files told them."""

    statements = serializers.SerializerMethodField()
    sepa = serializers.SerializerMethodField()
    credit_transfers = TransferSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentBatch
        fields = ["id", "state", "total_cents", "transfers", "execution_date", "message_id",
                  "created_at", "sent_at", "paid_at", "statements", "credit_transfers", "sepa"]

    def get_statements(self, batch) -> list[int]:
        return list(batch.credit_transfers.order_by("pk").values_list("statement_id",
                                                                       flat=True))

    def get_sepa(self, batch) -> str:
        return f"/api/v1/payouts/{batch.pk}/sepa.xml"
