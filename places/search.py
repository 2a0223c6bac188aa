"""Finding qualified places: around a point (nearest first) and in a map viewport.

Distance search = a bounding-box prefilter on the indexed latitude/longitude columns, then the
exact great-circle (haversine) distance, computed in SQL with portable functions (Postgres, and
SQLite where Django registers SIN, COS, ASIN…) for ordering, and again in Python for the
`distance_km` shown. Filters that SQL can express (services, départements, specific support,
free of charge) run in the query; "open now" is evaluated in Python on the prefiltered, ordered rows
(`Place.is_open_at`), fetched in batches until `limit` places are found.

The viewport query returns points while the viewport holds at most `MAX_FEATURES` places; past
that (a whole region or the whole country), it clusters them server-side on a grid of about
`GRID_CELLS` × `GRID_CELLS` cells and returns one point per non-empty cell with its count, so
the answer stays small whatever the zoom level; large viewports are cached briefly (see
`in_viewport`), invalidated by any change of a place.
"""

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
)
from django.db.models.fields import TextField
from django.db.models.functions import (
    Cast,
    Floor,
    JSONObject,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import hours
from .departments import DEPARTMENTS
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


class DistanceKm(Func):
    """Haversine distance in km from a fixed point to each row's (latitude, longitude), as
    one SQL expression built from portable functions (Postgres has them; Django registers
    them on SQLite). Written out by hand rather than composed from Django's Sin/Cos/…
    expressions: resolving and compiling a dozen nested expressions, three times a query
    (select, where, order by), cost more than running the query."""

    output_field = FloatField()

    def __init__(self, latitude, longitude):
        super().__init__(F("latitude"), F("longitude"))
        self.point = (math.radians(latitude), math.radians(longitude))

    def as_sql(self, compiler, connection, **extra_context):
        lat, lat_params = compiler.compile(self.source_expressions[0])
        lon, lon_params = compiler.compile(self.source_expressions[1])
        phi0, lambda0 = self.point
        sql = (f"(%s * ASIN(SQRT(POWER(SIN((RADIANS({lat}) - %s) / 2.0), 2)"
               f" + %s * COS(RADIANS({lat})) * POWER(SIN((RADIANS({lon}) - %s) / 2.0), 2))))")
        params = (2 * EARTH_RADIUS_KM, *lat_params, phi0, math.cos(phi0), *lat_params,
                  *lon_params, lambda0)
        return sql, params


def distance_expression(latitude, longitude):
    """Haversine distance in km from (latitude, longitude) to each row, in SQL."""
    return DistanceKm(latitude, longitude)


def _json_list_contains(field_name, item):
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [item]})
    # SQLite keeps the JSON text as Django wrote it (ASCII-escaped): match the element.
    return Q(**{f"_{field_name}_text__contains": json.dumps(item)})


class OffersService(Func):
    """`EXISTS` one of the place's services whose slug, or whose category's slug, is one of
    `slugs`: the service filter as a single correlated subquery, written out (like
    `DistanceKm`) to spare the ORM from resolving a subquery inside a subquery on every
    search."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, slugs):
        super().__init__(F("pk"))
        self.slugs = list(slugs)

    def as_sql(self, compiler, connection, **extra_context):
        from services.models import Category, Service

        pk, pk_params = compiler.compile(self.source_expressions[0])
        name = connection.ops.quote_name
        through = name(Place.services.through._meta.db_table)
        marks = ", ".join(["%s"] * len(self.slugs))
        sql = (f"EXISTS (SELECT 1 FROM {through} ps"
               f" INNER JOIN {name(Service._meta.db_table)} s ON s.id = ps.service_id"
               f" INNER JOIN {name(Category._meta.db_table)} c ON c.id = s.category_id"
               f" WHERE ps.place_id = {pk} AND (s.slug IN ({marks}) OR c.slug IN ({marks})))")
        return sql, (*pk_params, *self.slugs, *self.slugs)


@dataclass
class Filters:
    # A service or category slug, or several separated by commas: places offering any.
    service: str = ""
    supports: list = field(default_factory=list)
    free: bool = False
    open_now: bool = False
    # Département codes (places.departments); empty: everywhere.
    departments: list = field(default_factory=list)

    @property
    def services(self):
        return [slug for slug in (part.strip() for part in self.service.split(",")) if slug]

    def check(self):
        """Raise SearchError for an unknown service (checked only when nothing was found,
        to spare a query on the hot path)."""
        from services.models import Category, Service

        for slug in self.services:
            if not (Service.objects.filter(slug=slug).exists()
                    or Category.objects.filter(slug=slug).exists()):
                raise SearchError("unknown_service",
                                  _("Service inconnu : « %(slug)s ».") % {"slug": slug})

    def apply(self, queryset):
        """The SQL part of the filters (all but `open_now`)."""
        if self.services:
            queryset = queryset.filter(OffersService(self.services))
        if self.departments:
            queryset = queryset.filter(department__in=self.departments)
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


def parse_departments(values):
    """`department=33,24` (or repeated) → a list of known département codes."""
    found = []
    for value in values:
        for code in (part.strip().upper() for part in value.split(",")):
            if not code:
                continue
            if code not in DEPARTMENTS:
                raise SearchError("unknown_department", _(
                    "Département inconnu : « %(code)s ».") % {"code": code})
            found.append(code)
    return found


def map_query(*, services=(), departments=()):
    """The query string of the public map (/lieux/) filtered to places offering one of
    `services` (slugs) in one of `departments`: what a booklet's QR code opens, and what the
    map page, its list and the search API honour."""
    params = {}
    if services:
        params["service"] = ",".join(services)
    if departments:
        params["department"] = ",".join(departments)
    return urlencode(params, safe=",")


def extent(filters):
    """(south, west, north, east) of the qualified places these filters keep, or None: where
    a filtered map opens."""
    row = filters.apply(Place.objects.qualified()).filter(latitude__isnull=False).aggregate(
        south=Min("latitude"), north=Max("latitude"), west=Min("longitude"),
        east=Max("longitude"))
    if row["south"] is None:
        return None
    return row["south"], row["west"], row["north"], row["east"]


# What a distance search reads of each place: plain values, not model instances (this is the
# hot path of the public map).
SUMMARY_FIELDS = ("pk", "name", "address", "postcode", "town", "latitude", "longitude",
                  "opening_hours", "phone", "specific_support", "fees")


@dataclass(slots=True)
class PlaceSummary:
    """A qualified place as the search results list shows it."""

    pk: int
    name: str
    address: str
    postcode: str
    town: str
    latitude: float
    longitude: float
    opening_hours: str
    phone: str
    specific_support: list
    fees: list
    services: list = field(default_factory=list)  # [{"slug", "label", "category"}]

    @property
    def id(self):
        return self.pk

    def is_open_at(self, moment):
        return hours.is_open(self.opening_hours, moment)


@dataclass
class Hit:
    place: PlaceSummary
    distance_km: float
    open_now: bool | None


def _services_column():
    """On Postgres, each place's services as one array of JSON objects in the same query
    (ordered like the nomenclature); elsewhere None, and `_attach_services` asks for them."""
    if connection.vendor != "postgresql":
        return None
    from django.contrib.postgres.expressions import ArraySubquery

    rows = (Place.services.through.objects.filter(place_id=OuterRef("pk"))
            .order_by("service__category__position", "service__position", "service__label")
            .values(json=JSONObject(slug="service__slug", label="service__label",
                                    category="service__category__slug")))
    return ArraySubquery(rows)


def _attach_services(summaries):
    """Fill `services` with one query (databases without the array subquery)."""
    by_pk = {summary.pk: summary for summary in summaries}
    rows = (Place.services.through.objects.filter(place_id__in=list(by_pk))
            .order_by("service__category__position", "service__position", "service__label")
            .values_list("place_id", "service__slug", "service__label",
                         "service__category__slug"))
    for place_id, slug, label, category in rows:
        by_pk[place_id].services.append({"slug": slug, "label": label, "category": category})


def _summaries(queryset):
    """Evaluate `queryset` (already ordered and sliced) into `PlaceSummary`s in one query on
    Postgres, two elsewhere."""
    services = _services_column()
    if services is not None:
        rows = queryset.annotate(services_json=services).values_list(
            *SUMMARY_FIELDS, "services_json")
        return [PlaceSummary(*row[:-1], services=row[-1] or []) for row in rows]
    summaries = [PlaceSummary(*row) for row in queryset.values_list(*SUMMARY_FIELDS)]
    if summaries:
        _attach_services(summaries)
    return summaries


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
        places = _summaries(ordered[:limit])
    else:
        # "Open now" is not SQL: read the ordered rows in batches until `limit` are open.
        places, offset, batch = [], 0, max(100, limit * 5)
        while len(places) < limit:
            rows = _summaries(ordered[offset:offset + batch])
            places += [row for row in rows if row.is_open_at(moment)]
            if len(rows) < batch:
                break
            offset += batch
        places = places[:limit]
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
    otherwise a grid of clusters (see the module docstring); `open_now` applies to both.

    The grid's cells are a power-of-two fraction of a degree, aligned on multiples of their
    size, so that panning at one zoom level keeps the same cells. Large viewports (at least
    `CACHED_SPAN` degrees across: a département or more, where nearly every visitor lands
    first) are widened to whole cells and their answer is kept in the cache for
    `CACHE_SECONDS`, under the current `data_version()`, which any change of a place bumps."""
    check_point(south, west)
    check_point(north, east)
    if south > north or west > east:
        raise SearchError("invalid_bbox", _(
            "Zone invalide : attendu « ouest,sud,est,nord » avec ouest < est et sud < nord."))
    filters = filters or Filters()
    moment = moment or timezone.now()
    size = cell_size(max(east - west, north - south), grid_cells)
    if max(east - west, north - south) < CACHED_SPAN:
        return _viewport(west, south, east, north, filters, moment, max_features, size)
    west, east = math.floor(west / size) * size, math.ceil(east / size) * size
    south, north = math.floor(south / size) * size, math.ceil(north / size) * size
    west, south = max(west, -180.0), max(south, -90.0)
    east, north = min(east, 180.0), min(north, 90.0)
    minute = (timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if filters.open_now
              else "")
    key = "places:viewport:" + hashlib.sha256(repr((
        data_version(), round(west, 6), round(south, 6), round(east, 6), round(north, 6),
        size, max_features, filters.service, sorted(filters.supports), filters.free,
        sorted(filters.departments), minute)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        viewport = _viewport(west, south, east, north, filters, moment, max_features, size)
        cache.set(key, (viewport.points, viewport.clusters), CACHE_SECONDS)
        return viewport
    return Viewport(*found)


def cell_size(span, grid_cells=GRID_CELLS):
    """The side of a cluster cell in degrees: `span / grid_cells` rounded up to a power of
    two (so 16 to 32 cells across for the default grid)."""
    raw = max(span / grid_cells, 1e-6)
    return 2.0 ** math.ceil(math.log2(raw))


def _viewport(west, south, east, north, filters, moment, max_features, size):
    queryset = filters.apply(Place.objects.qualified().in_bbox(south, west, north, east))
    queryset = queryset.order_by()
    # Counting stops one row past the limit: enough to know whether to cluster.
    total = queryset.values("pk")[:max_features + 1].count()
    if total == 0:
        filters.check()
        return Viewport([], [])
    if total > max_features:
        return Viewport([], _clusters(queryset, filters, moment, size))
    fields = ("pk", "name", "latitude", "longitude")
    if not filters.open_now:
        return Viewport(list(queryset.values_list(*fields)), [])
    return Viewport([row[:4] for row in queryset.values_list(*fields, "opening_hours")
                     if hours.is_open(row[4], moment)], [])


def _clusters(queryset, filters, moment, size):
    """(count, mean latitude, mean longitude) per non-empty cell of the grid. With `open_now`
    the rows are grouped by cell and hours in SQL (places share few distinct hours strings)
    and the cells re-added in Python, keeping only the hours open at `moment`."""
    cell = Value(size, output_field=FloatField())
    located = queryset.annotate(cell_x=Floor(F("longitude") / cell),
                                cell_y=Floor(F("latitude") / cell))
    sums = {"count": Count("*"), "lat": Sum("latitude"), "lon": Sum("longitude")}
    if not filters.open_now:
        return [(row["count"], row["lat"] / row["count"], row["lon"] / row["count"])
                for row in located.values("cell_x", "cell_y").annotate(**sums)]
    cells = {}
    for row in located.values("cell_x", "cell_y", "opening_hours").annotate(**sums):
        if hours.is_open(row["opening_hours"], moment):
            total = cells.setdefault((row["cell_x"], row["cell_y"]), [0, 0.0, 0.0])
            total[0] += row["count"]
            total[1] += row["lat"]
            total[2] += row["lon"]
    return [(count, lat / count, lon / count) for count, lat, lon in cells.values()]


# Cached answers of large viewports, and what invalidates them.
CACHED_SPAN = 1.0  # degrees
CACHE_SECONDS = 60
VERSION_KEY = "places:search:version"


def data_version():
    """A token that changes whenever a place (or its services) changes."""
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY, version)
    return version


def places_changed(**_kwargs):
    """Signal receiver (and a call after bulk writes): cached viewports are stale. Bumped now
    and again after the commit, so that an answer computed meanwhile from the old rows is not
    kept under the new token."""
    cache.set(VERSION_KEY, time.time_ns(), None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, time.time_ns(), None))
