"""Public pages for beneficiaries: the map and list of qualified places, and a place's page.

The map page works without JavaScript: the search form is a plain GET form and the list of
results is rendered here; static/places/map.js then enhances it (autocompletion, "autour de
moi", live results from the search API, Leaflet map with clustered markers)."""

from urllib.parse import urlencode

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from services.models import Category, Service

from .. import departments, gazetteer, hours, search
from ..models import Place

RADIUS_CHOICES = [5, 10, 20, 30, 50, 100, 200]
# The specific supports offered as filters on the map (codes of search.SUPPORTS).
MAP_SUPPORTS = ["surdite", "deficience-visuelle", "handicaps-moteurs"]


def _service_choices():
    return [(category, [service for service in category.services.all() if service.active])
            for category in Category.objects.active().prefetch_related("services")]


def _js_strings():
    return {
        "found": _("%(count)s lieux trouvés autour de %(where)s, du plus proche au plus "
                   "éloigné."),
        "found_one": _("1 lieu trouvé autour de %(where)s."),
        "none": _("Aucun lieu qualifié ne correspond à votre recherche autour de %(where)s. "
                  "Essayez une distance plus grande ou moins de filtres."),
        "searching": _("Recherche en cours…"),
        "no_commune": _("Aucune commune ne correspond à « %(query)s »."),
        "type_place": _("Saisissez un code postal ou le nom d’une commune."),
        "error": _("La recherche n’a pas abouti. Réessayez dans un instant."),
        "my_position": _("votre position"),
        "locating": _("Recherche de votre position…"),
        "geo_denied": _("Votre position n’est pas disponible : saisissez plutôt un code "
                        "postal ou une commune."),
        "geo_unsupported": _("Votre navigateur ne permet pas la géolocalisation."),
        "open": _("Ouvert maintenant"),
        "closed": _("Fermé en ce moment"),
        "today": _("Aujourd’hui :"),
        "km": _("à %(distance)s km"),
        "see": _("Voir le lieu"),
        "suggestions": _("%(count)s suggestions : utilisez les flèches haut et bas."),
        "services": _("Services :"),
        "places_here": _("%(count)s lieux dans cette zone : zoomez pour les voir."),
    }


def _filters_from_query(params):
    """The filters in the map's address (a malformed value is left out, as if absent)."""
    try:
        codes = search.parse_departments(params.getlist("department"))
    except search.SearchError:
        codes = []
    return search.Filters(
        service=params.get("service", "").strip(),
        supports=[code for code in params.getlist("support") if code in search.SUPPORTS],
        free=params.get("free") == "1",
        open_now=params.get("open_now") == "1",
        departments=codes,
    )


def _booklet_filter(filters):
    """What a booklet's QR code asks of the map (several services, départements), told in
    words; None for the map's own filters, which its form shows."""
    if not (filters.departments or len(filters.services) > 1):
        return None
    slugs = filters.services
    labels = dict(Service.objects.filter(slug__in=slugs).values_list("slug", "label"))
    labels.update(Category.objects.filter(slug__in=slugs).values_list("slug", "label"))
    return {
        "services": [labels[slug] for slug in slugs if slug in labels],
        "departments": [departments.named(code) for code in filters.departments],
        "service": ",".join(slugs),
        "department": ",".join(filters.departments),
    }


def _search_from_query(params):
    """The server-side search of the no-JavaScript page: (where, hits) or (message, None)."""
    filters = _filters_from_query(params)
    try:
        radius = float(params.get("radius_km") or search.DEFAULT_RADIUS_KM)
    except ValueError:
        radius = search.DEFAULT_RADIUS_KM
    radius = min(max(radius, 1), search.MAX_RADIUS_KM)
    query = params.get("q", "").strip()
    communes = gazetteer.autocomplete(query, limit=1) if query else []
    point = None
    if communes:
        commune = communes[0]
        if query.isdigit() and len(query) == 5:
            point = gazetteer.locate(postcode=query)
        else:
            point = gazetteer.locate(insee=commune.insee_code)
            if point:
                point = gazetteer.Point(point.latitude, point.longitude, str(commune))
    if point is None:
        return _("Aucune commune ne correspond à « %(query)s ».") % {"query": query}, None
    try:
        hits = search.nearby(latitude=point.latitude, longitude=point.longitude,
                             radius_km=radius, filters=filters, limit=search.DEFAULT_LIMIT)
    except search.SearchError as error:
        return error.message, None
    return point.label, hits


def public_map(request):
    """The front door for beneficiaries: find a qualified place near home."""
    filters = _filters_from_query(request.GET)
    booklet_filter = _booklet_filter(filters)
    context = {
        "booklet_filter": booklet_filter,
        # A filtered map opens on the places it keeps.
        "extent": search.extent(filters) if booklet_filter else None,
        "service_choices": _service_choices(),
        "supports": [(code, search.SUPPORT_LABELS[code]) for code in MAP_SUPPORTS],
        "radius_choices": RADIUS_CHOICES,
        "default_radius": search.DEFAULT_RADIUS_KM,
        "js_strings": _js_strings(),
        "params": request.GET,
        "selected_supports": request.GET.getlist("support"),
    }
    if request.GET.get("q"):
        where, hits = _search_from_query(request.GET)
        moment = timezone.now()
        context.update(where=where, hits=hits, results=[
            {"hit": hit, "today": hours.today(hit.place.opening_hours, moment)}
            for hit in hits or []
        ])
    return render(request, "places/map.html", context)


def directions_url(place):
    """OpenStreetMap directions to the place (the visitor fills in where they start)."""
    return "https://www.openstreetmap.org/directions?" + urlencode(
        {"route": f";{place.latitude:.5f},{place.longitude:.5f}"})


def place_detail(request, pk):
    """A qualified place's page: address, directions, hours in plain French, services,
    contacts, accessibility."""
    place = get_object_or_404(
        Place.objects.qualified().select_related("structure")
        .prefetch_related("services__category"), pk=pk)
    moment = timezone.now()
    has_point = place.latitude is not None and place.longitude is not None
    return render(request, "places/place_detail.html", {
        "place": place,
        "hours_text": hours.in_words(place.opening_hours),
        "today": hours.today(place.opening_hours, moment),
        "open_now": place.is_open_at(moment),
        "directions_url": directions_url(place) if has_point else "",
        "free": search.FREE_OF_CHARGE in (place.fees or []),
    })
