"""The import of a file of the standard: rows are upserted by (source, id), all in one
transaction; imported places are not qualified unless `qualified=True` (the operator
migrating a registry of places already qualified elsewhere), which is audited."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from services.models import Service

from .. import access, search
from ..models import Place, Qualification
from .reading import ImportFileError, read_file
from .rows import PLACE_FIELDS, Mapper, RowError, parse_row
from .values import clean_text


@dataclass
class Problem:
    row: int
    place_id: str
    field: str
    reason: str

    def __str__(self):
        where = _("ligne %(row)s") % {"row": self.row}
        if self.place_id:
            where += f" (id {self.place_id})"
        return f"{where}, {self.field} : {self.reason}"


@dataclass
class ImportReport:
    version: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    qualified: int = 0
    rejected: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def summary(self):
        return f"created {self.created}, updated {self.updated}, rejected {len(self.rejected)}"

def import_places(data, *, source=None, qualified=False, actor=None, file_name=""):
    """Import a file of the national standard (bytes). Returns an ImportReport.
    Raises ImportFileError (nothing imported) when the file cannot be read as a whole.
    `actor` is the operator who imports, or None for the platform itself (a command)."""
    access.require_importer(actor)
    version, rows = read_file(data)
    report = ImportReport(version=version)
    mapper = Mapper()
    if not mapper.categories:
        raise ImportFileError(_("La nomenclature des services est vide : impossible de "
                                "rattacher les services des lieux."))
    services_of = {}
    for service in Service.objects.active().filter(category__active=True):
        services_of.setdefault(service.category_id, []).append(service.pk)

    parsed = {}
    for number, raw in rows:
        place_id = clean_text(raw.get("id")) if "__columns__" not in raw else ""

        def warn(column, reason, number=number, place_id=place_id):
            report.warnings.append(Problem(number, place_id, column, reason))

        try:
            values, categories = parse_row(raw, version, mapper, source=source, warn=warn)
        except RowError as error:
            report.rejected.append(Problem(number, place_id, error.field, error.reason))
            continue
        key = (values["source"], values["source_id"])
        if key in parsed:
            report.rejected.append(Problem(
                number, place_id, "id",
                _("identifiant en double dans le fichier (déjà vu ligne %(row)s)")
                % {"row": parsed[key][0]}))
            continue
        service_ids = sorted({pk for category in categories
                              for pk in services_of.get(category.pk, [])})
        parsed[key] = (number, values, service_ids)

    with transaction.atomic():
        _write(parsed, report, qualified=qualified, actor=actor, file_name=file_name)
    return report


def _write(parsed, report, *, qualified, actor, file_name):
    sources = {key[0] for key in parsed}
    source_ids = {key[1] for key in parsed}
    existing = {
        (place.source, place.source_id): place
        for place in Place.objects.select_for_update().filter(
            Q(source__in=sources) & Q(source_id__in=source_ids)
        ).order_by("pk")
    }
    current_services = {}
    through = Place.services.through
    for place_id, service_id in through.objects.filter(
        place_id__in=[place.pk for place in existing.values()]
    ).values_list("place_id", "service_id"):
        current_services.setdefault(place_id, set()).add(service_id)

    now = timezone.now()
    to_create, to_update, newly_qualified = [], [], {}
    new_services, replaced_services = [], {}
    for key, (_number, values, service_ids) in parsed.items():
        place = existing.get(key)
        if place is None:
            place = Place(**values)
            if qualified:
                place.qualification = Qualification.QUALIFIED
            to_create.append((place, service_ids))
            continue
        changed = any(getattr(place, name) != value for name, value in values.items())
        services_changed = current_services.get(place.pk, set()) != set(service_ids)
        promote = qualified and place.qualification in (Qualification.DRAFT,
                                                        Qualification.SUBMITTED)
        if not (changed or services_changed or promote):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(place, name, value)
        place.updated_at = now
        if promote:
            newly_qualified.setdefault(place.qualification, []).append(place)
            place.qualification = Qualification.QUALIFIED
        if services_changed:
            replaced_services[place.pk] = service_ids
        to_update.append(place)

    created = Place.objects.bulk_create([place for place, _ids in to_create], batch_size=500)
    for place, (_place, service_ids) in zip(created, to_create, strict=True):
        new_services += [through(place_id=place.pk, service_id=pk) for pk in service_ids]
    if to_update:
        Place.objects.bulk_update(to_update, PLACE_FIELDS + ["qualification", "updated_at"],
                                  batch_size=500)
    if replaced_services:
        through.objects.filter(place_id__in=list(replaced_services)).delete()
        new_services += [through(place_id=place_id, service_id=pk)
                         for place_id, ids in replaced_services.items() for pk in ids]
    through.objects.bulk_create(new_services, batch_size=2000)
    if created or to_update:
        search.places_changed()  # bulk writes send no signals

    details = {"file": file_name, "qualified_import": qualified}
    if created:
        audit.record_many(actor, created, "place.imported", "",
                          created[0].qualification, **details)
    promoted = {place.pk for group in newly_qualified.values() for place in group}
    updated_only = [place for place in to_update if place.pk not in promoted]
    if updated_only:
        audit.record_many(actor, updated_only, "place.import_updated", **details)
    for from_state, places in newly_qualified.items():
        audit.record_many(actor, places, "place.qualified", from_state,
                          Qualification.QUALIFIED, via="import", **details)
    report.created = len(created)
    report.updated = len(to_update)
    report.qualified = (len(created) if qualified else 0) + sum(
        len(group) for group in newly_qualified.values())

