from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from places.departments import DEPARTMENTS
from services.models import Service

from . import codes, issuance, print_jobs
from .lifecycle import refusal
from .models import MAX_BOOKLETS_PER_ORDER, MAX_CHEQUES_PER_BOOKLET, Booklet, Cheque, Order
from .ordering import validate_order_terms


class OrderCreateSerializer(serializers.Serializer):
    funder = serializers.IntegerField(
        required=False, help_text=_("Identifiant du financeur, si vous en gérez plusieurs."))
    booklets = serializers.IntegerField(min_value=1, max_value=MAX_BOOKLETS_PER_ORDER)
    cheques_per_booklet = serializers.IntegerField(
        min_value=1, max_value=MAX_CHEQUES_PER_BOOKLET, default=10)
    face_value_cents = serializers.IntegerField(min_value=1, default=1000)
    valid_until = serializers.DateField(required=False)
    allowed_services = serializers.SlugRelatedField(
        slug_field="slug", many=True, required=False, queryset=Service.objects.active())
    territory = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(DEPARTMENTS)), required=False)
    target_public = serializers.CharField(required=False, allow_blank=True, max_length=300)
    requires_activation = serializers.BooleanField(default=False)
    custom_wording = serializers.CharField(required=False, allow_blank=True, max_length=200)
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
        done = issuance.issued_so_far(order)
        total = order.cheque_count
        return {"issued": done, "total": total,
                "percent": 100 if order.status == Order.Status.ISSUED
                else (done * 100 // total if total else 0)}

    def get_print(self, order) -> dict:
        """The order's printing: state (None before the first print job), done, total."""
        print_status = print_jobs.status(order)
        return {key: print_status[key] for key in ("state", "done", "total")}


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

    def get_redeemable(self, cheque) -> bool:
        return refusal(cheque) is None

    def get_refusal(self, cheque) -> dict | None:
        error = refusal(cheque)
        return {"code": error.code, "detail": str(error.detail)} if error else None


class DistributeSerializer(serializers.Serializer):
    age_bracket = serializers.ChoiceField(choices=Booklet.AgeBracket.choices, required=False,
                                          allow_blank=True)
    postcode = serializers.RegexField(r"^\d{5}$", required=False, allow_blank=True)
    situation = serializers.ChoiceField(choices=Booklet.Situation.choices, required=False,
                                        allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class BookletSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id")

    class Meta:
        model = Booklet
        fields = ["number", "order", "state", "distributed_at", "age_bracket", "postcode",
                  "situation", "cancellation_reason"]
