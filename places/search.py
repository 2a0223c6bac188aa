"""Finding qualified places: around a point (nearest first) and in a map viewport.

Distance search = a bounding-box prefilter on the indexed latitude/longitude columns, then the
exact great-circle (haversine) distance, computed in SQL with portable functions (Postgres, and
SQLite where Django registers SIN, COS, ASIN…) for ordering, and again in Python for the
`distance_km` shown. Filters that SQL can express (service, specific support, free of charge)
run in the query; "open now" is evaluated in Python on the prefiltered, ordered rows
(`Place.is_open_at`), fetched in batches until `limit` places are found.

The viewport query returns points while the viewport holds at most `MAX_FEATURES` places; past
that (a whole region or the whole country), it clusters them server-side on a grid of about
`GRID_CELLS` × `GRID_CELLS` cells and returns one point per non-empty cell with its count, so
the answer stays small and fast whatever the zoom level.
"""

import json
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    Value,
)
from django.db.models.fields import TextField
from django.db.models.functions import ASin, Cast, Cos, Floor, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Place

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
DEFAULT_RADIUS_KM = 30
MAX_RADIUS_KM = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_FEATURES = 1000
GRID_CELLS = 32

# Specific support (prise en charge spécifique) of the national standard, by stable code.
SUPPORTS = {
    "surdite": "Surdité",
    "deficience-visuelle": "Déficience visuelle",
    "handicaps-moteurs": "Handicaps moteurs",
    "handicaps-mentaux": "Handicaps mentaux",
    "illettrisme": "Illettrisme",
    "langues-anglais": "Langues étrangères (anglais)",
    "langues-autres": "Langues étrangères (autres)",
}
SUPPORT_LABELS = {
    "surdite": _("Surdité"),
    "deficience-visuelle": _("Déficience visuelle"),
    "handicaps-moteurs": _("Handicaps moteurs"),
    "handicaps-mentaux": _("Handicaps mentaux"),
    "illettrisme": _("Illettrisme"),
    "langues-anglais": _("Langues étrangères (anglais)"),
    "langues-autres": _("Langues étrangères (autres)"),
}
FREE_OF_CHARGE = "Gratuit"


class SearchError(ValueError):
    """Bad search input: a machine code and a French message (the API answers 400)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def haversine_km(lat1, lon1, lat2, lon2):
    """The great-circle distance in km (the reference the SQL expression follows)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude, longitude, radius_km):
    """(south, west, north, east) enclosing the circle: the exact extent of a spherical cap
    (J. P. Matuschek's formula), whole longitudes near the poles; no wrap at the antimeridian,
    which no French place is close enough to need."""
    angle = radius_km / EARTH_RADIUS_KM
    delta_lat = math.degrees(angle)
    south, north = latitude - delta_lat, latitude + delta_lat
    if south <= -90 or north >= 90:
        return max(-90.0, south), -180.0, min(90.0, north), 180.0
    delta_lon = math.degrees(math.asin(min(1.0, math.sin(angle)
                                           / math.cos(math.radians(latitude)))))
    return south, max(-180.0, longitude - delta_lon), north, min(180.0, longitude + delta_lon)


def distance_expression(latitude, longitude):
    """Haversine distance in km from (latitude, longitude) to each row, in SQL."""
    phi0 = math.radians(latitude)
    lam0 = math.radians(longitude)

    def const(value):
        return Value(value, output_field=FloatField())

    half_dlat = Sin((Radians(F("latitude")) - const(phi0)) / const(2.0))
    half_dlon = Sin((Radians(F("longitude")) - const(lam0)) / const(2.0))
    a = (Power(half_dlat, const(2.0))
         + const(math.cos(phi0)) * Cos(Radians(F("latitude"))) * Power(half_dlon, const(2.0)))
    return const(2 * EARTH_RADIUS_KM) * ASin(Sqrt(a))


def _json_list_contains(field_name, item):
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [item]})
    # SQLite keeps the JSON text as Django wrote it (ASCII-escaped): match the element.
    return Q(**{f"_{field_name}_text__contains": json.dumps(item)})


@dataclass
class Filters:
    service: str = ""
    supports: list = field(default_factory=list)
    free: bool = False
    open_now: bool = False

    def check(self):
        """Raise SearchError for an unknown service (checked only when nothing was found,
        to spare a query on the hot path)."""
        from services.models import Category, Service

        if self.service and not (Service.objects.filter(slug=self.service).exists()
                                 or Category.objects.filter(slug=self.service).exists()):
            raise SearchError("unknown_service",
                              _("Service inconnu : « %(slug)s ».") % {"slug": self.service})

    def apply(self, queryset):
        """The SQL part of the filters (all but `open_now`)."""
        from services.models import Service

        if self.service:
            service_ids = Service.objects.filter(
                Q(slug=self.service) | Q(category__slug=self.service)).values("id")
            queryset = queryset.filter(Exists(
                Place.services.through.objects.filter(place_id=OuterRef("pk"),
                                                      service_id__in=service_ids)
            ))
        json_filters = [("specific_support", SUPPORTS[code]) for code in self.supports]
        if self.free:
            json_filters.append(("fees", FREE_OF_CHARGE))
        if json_filters and not connection.features.supports_json_field_contains:
            for name in {name for name, _value in json_filters}:
                queryset = queryset.annotate(**{f"_{name}_text": Cast(name, TextField())})
        for name, value in json_filters:
            queryset = queryset.filter(_json_list_contains(name, value))
        return queryset


def parse_supports(values):
    """`support=surdite,deficience-visuelle` (or repeated) → a list of known codes."""
    codes = []
    for value in values:
        for code in (part.strip() for part in value.split(",")):
            if not code:
                continue
            if code not in SUPPORTS:
                raise SearchError("unknown_support", _(
                    "Prise en charge inconnue : « %(code)s ». Valeurs possibles : %(codes)s."
                ) % {"code": code, "codes": ", ".join(SUPPORTS)})
            codes.append(code)
    return codes


@dataclass
class Hit:
    place: Place
    distance_km: float
    open_now: bool | None


def nearby(*, latitude, longitude, radius_km=DEFAULT_RADIUS_KM, filters=None,
           limit=DEFAULT_LIMIT, moment=None, queryset=None):
    """Qualified places within `radius_km` of the point, nearest first, as `Hit`s."""
    check_point(latitude, longitude)
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise SearchError("invalid_radius", _(
            "Le rayon doit être compris entre 0 et %(max)s km.") % {"max": MAX_RADIUS_KM})
    limit = max(1, min(int(limit), MAX_LIMIT))
    filters = filters or Filters()
    moment = moment or timezone.now()
    south, west, north, east = bounding_box(latitude, longitude, radius_km)
    queryset = (queryset if queryset is not None else Place.objects.all()).qualified()
    queryset = filters.apply(queryset.in_bbox(south, west, north, east))
    ordered = (queryset.annotate(distance=distance_expression(latitude, longitude))
               .filter(distance__lte=radius_km).order_by("distance", "pk"))
    if not filters.open_now:
        places = list(ordered.prefetch_related(services_prefetch())[:limit])
    else:
        places, offset, batch = [], 0, max(100, limit * 5)
        while len(places) < limit:
            rows = list(ordered.only("pk", "opening_hours")[offset:offset + batch])
            places += [row for row in rows if row.is_open_at(moment)]
            if len(rows) < batch:
                break
            offset += batch
        wanted = [row.pk for row in places[:limit]]
        by_pk = Place.objects.prefetch_related(services_prefetch()).in_bulk(wanted)
        places = [by_pk[pk] for pk in wanted]
    if not places:
        filters.check()
    return [
        Hit(place=place,
            distance_km=haversine_km(latitude, longitude, place.latitude, place.longitude),
            open_now=place.is_open_at(moment))
        for place in places
    ]


def services_prefetch():
    from services.models import Service

    return Prefetch("services", queryset=Service.objects.select_related("category"))


def check_point(latitude, longitude):
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise SearchError("invalid_coordinates", _(
            "Coordonnées invalides : la latitude doit être comprise entre -90 et 90 et la "
            "longitude entre -180 et 180."))


@dataclass
class Viewport:
    points: list  # (pk, name, latitude, longitude)
    clusters: list  # (count, latitude, longitude)

    @property
    def clustered(self):
        return bool(self.clusters)


def in_viewport(*, west, south, east, north, filters=None, moment=None,
                max_features=MAX_FEATURES, grid_cells=GRID_CELLS):
    """Qualified places in the viewport: points when there are at most `max_features`,
    otherwise a grid of clusters (see the module docstring). `open_now` is applied to points
    only."""
    check_point(south, west)
    check_point(north, east)
    if south > north or west > east:
        raise SearchError("invalid_bbox", _(
            "Zone invalide : attendu « ouest,sud,est,nord » avec ouest < est et sud < nord."))
    filters = filters or Filters()
    queryset = filters.apply(Place.objects.qualified().in_bbox(south, west, north, east))
    total = queryset.count()
    if total == 0:
        filters.check()
    if total <= max_features:
        if filters.open_now:
            moment = moment or timezone.now()
            rows = [row for row in queryset.only("pk", "name", "latitude", "longitude",
                                                 "opening_hours")
                    if row.is_open_at(moment)]
            return Viewport([(r.pk, r.name, r.latitude, r.longitude) for r in rows], [])
        return Viewport(list(queryset.order_by().values_list("pk", "name", "latitude",
                                                              "longitude")), [])
    size = max(east - west, north - south) / grid_cells or 1e-6
    cells = (
        queryset.order_by()
        .annotate(cell_x=Floor(F("longitude") / Value(size, output_field=FloatField())),
                  cell_y=Floor(F("latitude") / Value(size, output_field=FloatField())))
        .values("cell_x", "cell_y")
        .annotate(count=Count("pk"), lat=Avg("latitude"), lon=Avg("longitude"))
    )
    # Cells holding a single place stay clusters of 1 (no second query for their names):
    # clicking any cluster zooms in until the viewport holds few enough places for points.
    return Viewport([], [(cell["count"], cell["lat"], cell["lon"]) for cell in cells])
