"""Admin of places. Qualification decisions go through the operator's queue
(/operateur/qualification/), which audits them and notifies the structure: here they are
read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from aptic.admin import ReadOnlyAdmin

from .models import ChangeRequest, Commune, Place, PlaceClaim, StructureProfile


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "postcode", "town", "structure", "qualification", "source",
                    "decision_link"]
    list_filter = ["qualification", "source", "department"]
    search_fields = ["name", "town", "postcode", "insee_code", "source_id", "structure__name"]
    autocomplete_fields = ["structure"]
    filter_horizontal = ["services"]
    readonly_fields = ["qualification", "qualification_reason", "department", "created_at",
                       "updated_at", "decision_link"]
    list_select_related = ["structure"]

    @admin.display(description=_("décision"))
    def decision_link(self, place):
        if place.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>',
                           reverse("operator-qualification-place", args=[place.pk]),
                           _("Qualifier, refuser, suspendre…"))

    def has_delete_permission(self, request, obj=None):
        # A place that redeemed cheques is referenced by them (PROTECT): suspend instead.
        return super().has_delete_permission(request, obj)


@admin.register(StructureProfile)
class StructureProfileAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "charter_accepted_at", "account_holder", "iban", "bic"]
    search_fields = ["organisation__name", "organisation__siret", "account_holder"]


@admin.register(Commune)
class CommuneAdmin(ReadOnlyAdmin):
    list_display = ["name", "postcode", "insee_code", "department", "latitude", "longitude"]
    list_filter = ["department"]
    search_fields = ["name", "search_name", "postcode", "insee_code"]


@admin.register(PlaceClaim)
class PlaceClaimAdmin(ReadOnlyAdmin):
    """Claims are decided from the qualification queue, which audits them."""

    list_display = ["place", "structure", "holder", "state", "requested_at", "decided_at"]
    list_filter = ["state"]
    search_fields = ["place__name", "structure__name", "holder__name"]
    list_select_related = ["place", "structure", "holder"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    """Changes under review are decided from the qualification queue, which audits them."""

    list_display = ["kind", "structure", "place", "state", "requested_at", "decided_at"]
    list_filter = ["kind", "state"]
    search_fields = ["structure__name", "place__name"]
    list_select_related = ["structure", "place"]
