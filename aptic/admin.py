from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .forms import AdminLoginForm
from .models import ApiToken, AuditEvent, Membership, Organisation, User
from .tokens import revoke_token

admin.site.site_header = _("Administration #APTIC")
admin.site.site_title = _("#APTIC")
# The admin's door counts and delays attempts as the others do (aptic.logins).
admin.site.login_form = AdminLoginForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    ordering = ["email"]
    list_display = ["email", "username", "first_name", "last_name", "is_active"]
    search_fields = ["email", "username", "first_name", "last_name"]
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "siret", "email"]
    list_filter = ["kind"]
    search_fields = ["name", "siret"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody edits by hand: the audit trail, invoices, imported references."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_repr", "from_state", "to_state"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_id", "action"]
    date_hierarchy = "at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at",
                       "revoked_by"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Révoquer les jetons choisis"))
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_token(token=token, by=request.user)
