"""The API of places (under /api/v1/): the caller and where they may redeem; the public
search (places near a point or a commune, places in a map viewport as GeoJSON, one place,
the communes autocompletion: no login, qualified places only); the open-data export."""

import io
import math

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from aptic.errors import DomainError
from aptic.http import attachment
from aptic.models import Membership
from aptic.permissions import is_operator

from .. import access, gazetteer, search
from ..models import Place
from ..standard import exporting
from .serializers import (
    CommuneSerializer,
    MeSerializer,
    PlaceFeatureCollectionSerializer,
    PlaceSearchSerializer,
    PlaceSerializer,
    hit_data,
)

# --- The caller -----------------------------------------------------------------------------

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
            "redeem_places": access.places_for_redemption(user).only("id", "name", "town"),
        }).data)


# --- The open-data export -------------------------------------------------------------------

@require_GET
def export_csv(request):
    """GET /api/v1/places/export.csv: qualified places in the national standard v1.0.2."""
    buffer = io.StringIO()
    exporting.write_csv(buffer)
    return attachment(buffer.getvalue(), "text/csv; charset=utf-8",
                      f"lieux-aptic-{timezone.localdate().isoformat()}.csv")


# --- The public search ----------------------------------------------------------------------


def query_parameters(*names):
    return [OpenApiParameter(name, str) for name in names]


TRUE_VALUES = {"1", "true", "yes", "on", "oui"}


class PublicSearchThrottle(AnonRateThrottle):
    """Anonymous visitors: generous (a map pans a lot), but not a scraping hose."""

    scope = "places_search"

    def get_rate(self):
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(
            self.scope, "600/min")


class PublicView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [PublicSearchThrottle]

    def handle_exception(self, exc):
        if isinstance(exc, search.SearchError):
            exc = DomainError(exc.code, exc.message)
        return super().handle_exception(exc)


def number(params, name, *, default=None, code="invalid_coordinates"):
    raw = params.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DomainError(code, _("« %(name)s » doit être un nombre.") % {"name": name})
    return value


def flag(params, name):
    return params.get(name, "").strip().lower() in TRUE_VALUES


def filters_from(params):
    return search.Filters(
        service=params.get("service", "").strip(),
        supports=search.parse_supports(params.getlist("support")),
        free=flag(params, "free"),
        open_now=flag(params, "open_now"),
        departments=search.parse_departments(params.getlist("department")),
    )


class PlaceSearchView(PublicView):
    """`GET /api/v1/places/?lat=&lon=` (or `postcode=` / `insee=`) `&radius_km=&service=
    &department=&open_now=&support=&free=&limit=`: qualified places nearest first, with
    `distance_km`. `service` and `department` take several values separated by commas."""

    @extend_schema(operation_id="places_search", responses=PlaceSearchSerializer,
                   parameters=query_parameters("lat", "lon", "postcode", "insee", "radius_km",
                                               "service", "department", "open_now",
                                               "support", "free", "limit"))
    def get(self, request):
        params = request.query_params
        latitude, longitude = number(params, "lat"), number(params, "lon")
        if latitude is not None and longitude is not None:
            center = {"latitude": latitude, "longitude": longitude, "label": ""}
        elif params.get("postcode") or params.get("insee"):
            point = gazetteer.locate(postcode=params.get("postcode"), insee=params.get("insee"))
            if point is None:
                raise DomainError("unknown_commune", _(
                    "Commune inconnue : vérifiez le code postal ou le code INSEE."))
            center = {"latitude": point.latitude, "longitude": point.longitude,
                      "label": point.label}
        else:
            raise DomainError("missing_location", _(
                "Indiquez un point (lat et lon), un code postal (postcode) ou un code INSEE "
                "(insee)."))
        radius_km = number(params, "radius_km", default=search.DEFAULT_RADIUS_KM,
                           code="invalid_radius")
        try:
            limit = int(params.get("limit") or search.DEFAULT_LIMIT)
        except ValueError as error:
            raise DomainError("invalid_limit",
                              _("« limit » doit être un nombre entier.")) from error
        if not 1 <= limit <= search.MAX_LIMIT:
            raise DomainError("invalid_limit", _("« limit » doit être compris entre 1 et %(max)s.")
                           % {"max": search.MAX_LIMIT})
        moment = timezone.now()
        hits = search.nearby(latitude=center["latitude"], longitude=center["longitude"],
                             radius_km=radius_km, filters=filters_from(params), limit=limit,
                             moment=moment)
        return Response({
            "count": len(hits),
            "center": center,
            "radius_km": radius_km,
            "results": [hit_data(hit, moment) for hit in hits],
        })


class PlaceGeoJSONView(PublicView):
    """`GET /api/v1/places/geojson/?bbox=west,south,east,north` (and the same filters): a
    compact FeatureCollection. Points carry `id` and `name`; past `search.MAX_FEATURES` places
    the viewport is clustered server-side and cluster points carry `count` instead."""

    @extend_schema(operation_id="places_geojson", responses=PlaceFeatureCollectionSerializer,
                   parameters=query_parameters("bbox", "service", "department", "open_now",
                                               "support", "free"))
    def get(self, request):
        params = request.query_params
        try:
            west, south, east, north = (float(part) for part in
                                        params.get("bbox", "").split(","))
            if not all(math.isfinite(value) for value in (west, south, east, north)):
                raise ValueError
        except ValueError as error:
            raise DomainError("invalid_bbox", _(
                "« bbox » attendu : ouest,sud,est,nord en degrés décimaux, par exemple "
                "« 4.7,45.7,4.9,45.8 ».")) from error
        viewport = search.in_viewport(west=west, south=south, east=east, north=north,
                                      filters=filters_from(params))
        features = [
            {"type": "Feature", "id": pk,
             "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
             "properties": {"id": pk, "name": name}}
            for pk, name, lat, lon in viewport.points
        ] + [
            {"type": "Feature",
             "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
             "properties": {"count": count}}
            for count, lat, lon in viewport.clusters
        ]
        return Response({"type": "FeatureCollection", "clustered": viewport.clustered,
                         "features": features})


class PlaceDetailView(PublicView):
    """`GET /api/v1/places/{id}/`: a qualified place (404 otherwise)."""

    @extend_schema(operation_id="places_retrieve", responses=PlaceSerializer)
    def get(self, request, pk):
        place = get_object_or_404(
            Place.objects.qualified().prefetch_related(search.services_prefetch()), pk=pk)
        return Response(PlaceSerializer(place, context={"moment": timezone.now()}).data)


class CommuneAutocompleteView(PublicView):
    """`GET /api/v1/communes/?q=`: communes by postcode prefix or name (case and accents
    ignored), at most 10."""

    @extend_schema(operation_id="communes_autocomplete",
                   responses=inline_serializer("CommuneSuggestions",
                                               {"results": CommuneSerializer(many=True)}),
                   parameters=[OpenApiParameter("q", str)])
    def get(self, request):
        query = request.query_params.get("q", "")
        if len(query) > 100:
            raise DomainError("invalid_query", _("Recherche trop longue."))
        communes = gazetteer.autocomplete(query, limit=10)
        return Response({"results": CommuneSerializer(communes, many=True).data})
