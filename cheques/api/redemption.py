"""Partner API of redemption: POST/GET /api/v1/redemptions/, DELETE /api/v1/redemptions/{id}/."""

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
from aptic.throttling import PER_ACCOUNT_AND_ADDRESS

from .. import access, redemption
from ..models import Redemption
from ..redemption import RedemptionFilter


class RedemptionCreateSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                  max_length=redemption.MAX_CODES + 1)
    code = serializers.CharField(max_length=40, required=False)
    place = serializers.IntegerField()
    service = serializers.SlugField()
    signatures = serializers.DictField(child=serializers.CharField(max_length=100),
                                       required=False,
                                       help_text="Signature du QR code, par code scanné.")
    sessions = serializers.IntegerField(
        required=False, min_value=1, max_value=redemption.MAX_CODES,
        help_text="Facultatif : le nombre de séances que le panier paie. Le panier doit alors "
                  "compter exactement séances × prix du service (en chèques) ; sans lui, un "
                  "multiple du prix.",
        error_messages={
            "invalid": _("Indiquez un nombre entier de séances."),
            "min_value": _("Au moins {min_value} séance."),
            "max_value": _("Au plus {max_value} séances."),
        })

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
                  "service", "service_label", "mediator", "basket", "undone", "undone_at"]

    def get_undone(self, obj) -> bool:
        return obj.undone_at is not None


REDEMPTION_CREATED = inline_serializer("RedemptionCreated", {
    "basket": serializers.UUIDField(),
    "total_cents": serializers.IntegerField(),
    "redemptions": inline_serializer("RedeemedCheque", {
        "id": serializers.IntegerField(), "cheque": serializers.CharField(),
        "code": serializers.CharField(), "amount_cents": serializers.IntegerField(),
        "redeemed_at": serializers.DateTimeField(), "place": serializers.IntegerField(),
        "service": serializers.CharField(),
    }, many=True),
})
ERROR = inline_serializer("RedemptionError", {
    "code": serializers.CharField(), "detail": serializers.CharField(),
    "cheque": serializers.CharField(required=False),
})


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
        payload = RedemptionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()[:100] or None
        summary = redemption.redeem_once(
            user=request.user, ip_address=client_ip(request), key=key, payload=request.data,
            place=data["place"], service=data["service"], codes=data["codes"],
            signatures=data.get("signatures"), sessions=data.get("sessions"),
        )
        return Response(summary, status=status.HTTP_201_CREATED)


class RedemptionUndo(APIView):
    """Undo a redemption (within 24 hours, if not yet in a reimbursement statement)."""

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request, pk):
        found = access.visible_redemption(request.user, pk)
        redemption.undo(redemption=found, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


