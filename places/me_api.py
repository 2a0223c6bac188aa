from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.models import Membership
from aptic.permissions import PLACE_ROLES, is_operator, organisations_for

from .models import Place


class MembershipSerializer(serializers.ModelSerializer):
    organisation_id = serializers.IntegerField(source="organisation.id")
    organisation = serializers.CharField(source="organisation.name")
    kind = serializers.CharField(source="organisation.kind")

    class Meta:
        model = Membership
        fields = ["organisation_id", "organisation", "kind", "role"]


class RedeemablePlaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Place
        fields = ["id", "name", "town"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    is_operator = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)
    redeem_places = RedeemablePlaceSerializer(many=True)


def places_for_redemption(user):
    """Qualified places where the user may redeem cheques (mediator or place manager)."""
    return Place.objects.qualified().filter(structure__in=organisations_for(user, *PLACE_ROLES))


class MeView(APIView):
    """The caller: user, organisations and roles, and the places they may redeem for."""

    serializer_class = MeSerializer

    def get(self, request):
        user = request.user
        memberships = Membership.objects.filter(user=user).select_related("organisation")
        return Response(MeSerializer({
            "id": user.pk,
            "email": user.email,
            "name": user.get_full_name() or user.username,
            "is_operator": is_operator(user),
            "memberships": memberships,
            "redeem_places": places_for_redemption(user).only("id", "name", "town"),
        }).data)


