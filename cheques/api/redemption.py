"""Partner API of redemption: POST/GET /api/v1/redemptions/, POST /api/v1/redemptions/check/,
DELETE /api/v1/redemptions/{id}/."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.clients import client_ip
from aptic.inputs import AsciiDateTimeField, AsciiIntegerField
from aptic.throttling import PER_ACCOUNT_AND_ADDRESS

from .. import access, offline, redemption
from ..models import Redemption
from ..redemption import RedemptionFilter


class RedemptionCreateSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                  max_length=redemption.MAX_CODES + 1)
    code = serializers.CharField(max_length=40, required=False)
    place = AsciiIntegerField()
    service = serializers.SlugField()
    signatures = serializers.DictField(child=serializers.CharField(max_length=100),
                                       required=False,
                                       help_text="Signature du QR code, par code scanné.")
    sessions = AsciiIntegerField(
        required=False, min_value=1, max_value=redemption.MAX_CODES,
        help_text="Facultatif : le nombre de séances que le panier paie. Le panier doit alors "
                  "compter exactement séances × prix du service (en chèques) ; sans lui, un "
                  "multiple du prix.",
        error_messages={
            "invalid": _("Indiquez un nombre entier de séances."),
            "min_value": _("Au moins {min_value} séance."),
            "max_value": _("Au plus {max_value} séances."),
        })

    scanned_at = AsciiDateTimeField(
        required=False,
        help_text="Facultatif, pour un panier gardé hors ligne : le moment du scan (ISO 8601). "
                  "Accepté jusqu’à 72 heures en arrière, jamais dans le futur (5 minutes "
                  "d’avance tolérées pour l’horloge de l’appareil) ; la validité des chèques "
                  "est jugée ce jour-là. Envoyez alors le nonce du panier comme "
                  "Idempotency-Key.")
    device = serializers.CharField(
        required=False, allow_blank=True, max_length=offline.DEVICE_MAX_LENGTH,
        help_text="Facultatif : le nom de l’appareil qui a scanné.")

    def validate(self, data):
        codes = list(data.get("codes") or [])
        if data.get("code"):
            codes.append(data["code"])
        data["codes"] = codes
        return data


class RedemptionSerializer(serializers.ModelSerializer):
    cheque = serializers.CharField(source="cheque.number")
    code = serializers.CharField(source="cheque.display_code")
    service = serializers.CharField(source="service.slug")
    service_label = serializers.CharField(source="service.label")
    place_name = serializers.CharField(source="place.name")
    mediator = serializers.CharField(source="mediator.get_full_name")
    undone = serializers.SerializerMethodField()

    class Meta:
        model = Redemption
        fields = ["id", "cheque", "code", "amount_cents", "redeemed_at", "place", "place_name",
                  "service", "service_label", "mediator", "basket", "undone", "undone_at",
                  "scanned_at", "device"]

    def get_undone(self, obj) -> bool:
        return obj.undone_at is not None


REDEMPTION_CREATED = inline_serializer("RedemptionCreated", {
    "basket": serializers.UUIDField(),
    "total_cents": serializers.IntegerField(),
    "redemptions": inline_serializer("RedeemedCheque", {
        "id": serializers.IntegerField(), "cheque": serializers.CharField(),
        "code": serializers.CharField(), "amount_cents": serializers.IntegerField(),
        "redeemed_at": serializers.DateTimeField(),
        "scanned_at": serializers.DateTimeField(allow_null=True),
        "place": serializers.IntegerField(), "service": serializers.CharField(),
    }, many=True),
})
REDEMPTION_CHECKED = inline_serializer("RedemptionChecked", {
    "redeemable": serializers.BooleanField(),
    "total_cents": serializers.IntegerField(),
    "place": serializers.IntegerField(),
    "service": serializers.CharField(),
    "cheques": inline_serializer("CheckedCheque", {
        "cheque": serializers.CharField(), "code": serializers.CharField(),
        "amount_cents": serializers.IntegerField(),
    }, many=True),
})
ERROR = inline_serializer("RedemptionError", {
    "code": serializers.CharField(), "detail": serializers.CharField(),
    "cheque": serializers.CharField(required=False),
})


def _basket(request):
    """The basket a redemption or its check asks about: the request's body, validated, as
    the keyword arguments of cheques.redemption.redeem_once (check_for takes no device)."""
    payload = RedemptionCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    return {"user": request.user, "ip_address": client_ip(request), "place": data["place"],
            "service": data["service"], "codes": data["codes"],
            "signatures": data.get("signatures"), "sessions": data.get("sessions"),
            "scanned_at": data.get("scanned_at"), "device": data.get("device", "")}


class RedemptionListCreate(generics.ListAPIView):
    """Redeem cheques (POST) or list the redemptions of the caller's places (GET)."""

    serializer_class = RedemptionSerializer
    filterset_class = RedemptionFilter
    throttle_classes = PER_ACCOUNT_AND_ADDRESS
    throttle_scope = "redemption"

    def get_queryset(self):
        return access.visible_redemptions(self.request.user)

    @extend_schema(
        request=RedemptionCreateSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     description="Une clé par panier : un nouvel essai avec "
                                                 "la même clé rejoue la première réponse.")],
        responses={201: REDEMPTION_CREATED, 403: ERROR, 404: ERROR, 409: ERROR, 410: ERROR,
                   422: ERROR, 429: ERROR},
    )
    def post(self, request):
        basket = _basket(request)
        key = request.headers.get("Idempotency-Key", "").strip()[:100] or None
        summary = redemption.redeem_once(key=key, payload=request.data, **basket)
        return Response(summary, status=status.HTTP_201_CREATED)


class RedemptionCheck(APIView):
    """What a redemption of this basket would answer now, without redeeming: the same body
    as POST /api/v1/redemptions/, the same refusals; nothing is written. Throttled and
    guarded like the cheque look-up."""

    throttle_classes = PER_ACCOUNT_AND_ADDRESS
    throttle_scope = "cheque_lookup"

    @extend_schema(
        request=RedemptionCreateSerializer,
        responses={200: REDEMPTION_CHECKED, 403: ERROR, 404: ERROR, 409: ERROR, 410: ERROR,
                   422: ERROR, 429: ERROR},
    )
    def post(self, request):
        basket = _basket(request)
        basket.pop("device")
        return Response(redemption.check_for(**basket))


class RedemptionUndo(APIView):
    """Undo a redemption (within 24 hours, if not yet in a reimbursement statement)."""

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request, pk):
        found = access.visible_redemption(request.user, pk)
        redemption.undo(redemption=found, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


