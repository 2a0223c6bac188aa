"""Output shapes of the API of places (read-only): the caller, the public search."""

from django.urls import reverse
from django.utils.translation import gettext
from rest_framework import serializers

from aptic.models import Membership

from .. import hours
from ..models import Commune, Place


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


class PlaceServiceSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField(source="display_label")
    category = serializers.CharField(source="category.slug")


class PlaceSerializer(serializers.ModelSerializer):
    """A qualified place, as the public map and its page show it."""

    services = PlaceServiceSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()
    hours_text = serializers.SerializerMethodField()
    today = serializers.SerializerMethodField()
    open_now = serializers.SerializerMethodField()

    class Meta:
        model = Place
        fields = [
            "id", "name", "address", "address_complement", "postcode", "town", "insee_code",
            "department", "latitude", "longitude", "opening_hours", "hours_text", "today",
            "open_now", "services", "phone", "emails", "websites", "summary", "description",
            "publics", "specific_support", "fees", "access_modes", "support_modes",
            "accessibility_url", "booking_url", "url",
        ]

    def _moment(self):
        return self.context.get("moment")

    def get_url(self, place) -> str:
        return reverse("place-detail", args=[place.pk])

    def get_hours_text(self, place) -> str:
        return hours.in_words(place.opening_hours) or place.opening_hours

    def get_today(self, place) -> str | None:
        return hours.today(place.opening_hours, self._moment())

    def get_open_now(self, place) -> bool | None:
        known = self.context.get("open_now", {})
        if place.pk in known:
            return known[place.pk]
        return place.is_open_at(self._moment()) if self._moment() else None


def hit_data(hit, moment):
    """A place in a distance search, with its distance from the searched point. Built by hand
    from a `search.PlaceSummary` rather than with a ModelSerializer: this is the hot path of
    the public map (hours renderings are memoised per distinct string, see hours.py)."""
    place = hit.place
    text = hours.in_words(place.opening_hours) or place.opening_hours
    return {
        "id": place.pk, "name": place.name, "address": place.address,
        "postcode": place.postcode, "town": place.town, "latitude": place.latitude,
        "longitude": place.longitude, "distance_km": round(hit.distance_km, 3),
        "open_now": hit.open_now, "today": hours.today(place.opening_hours, moment),
        "hours_text": text,
        "services": [{**service, "label": gettext(service["label"])} for service in place.services],
        "specific_support": place.specific_support, "fees": place.fees,
        "phone": place.phone, "url": reverse("place-detail", args=[place.pk]),
    }


class CommuneSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    insee = serializers.CharField(source="insee_code")

    class Meta:
        model = Commune
        fields = ["insee", "name", "postcode", "department", "latitude", "longitude", "label"]

    def get_label(self, commune) -> str:
        return f"{commune.name} ({commune.postcode})"


# The answers below are built by hand (hit_data, the GeoJSON view) on the hot path of the
# public map; these serializers only describe them in the OpenAPI contract.


class PlaceHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    postcode = serializers.CharField()
    town = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    distance_km = serializers.FloatField()
    open_now = serializers.BooleanField(allow_null=True)
    today = serializers.CharField(allow_null=True)
    hours_text = serializers.CharField()
    services = PlaceServiceSerializer(many=True)
    specific_support = serializers.ListField(child=serializers.CharField())
    fees = serializers.ListField(child=serializers.CharField())
    phone = serializers.CharField()
    url = serializers.CharField()


class SearchCenterSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    label = serializers.CharField(help_text="La commune cherchée (vide pour un point).")


class PlaceSearchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    center = SearchCenterSerializer()
    radius_km = serializers.FloatField()
    results = PlaceHitSerializer(many=True)


class PointSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(child=serializers.FloatField(), min_length=2,
                                        max_length=2, help_text="[longitude, latitude]")


class FeaturePropertiesSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="Un lieu : son identifiant…")
    name = serializers.CharField(required=False, help_text="… et son nom.")
    count = serializers.IntegerField(required=False,
                                     help_text="Un regroupement : le nombre de lieux.")


class PlaceFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField(required=False)
    geometry = PointSerializer()
    properties = FeaturePropertiesSerializer()


class PlaceFeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    clustered = serializers.BooleanField()
    features = PlaceFeatureSerializer(many=True)
