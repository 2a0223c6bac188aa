from django.contrib import admin

from aptic.admin import ReadOnlyAdmin

from .models import (
    Adjustment,
    BankFile,
    Booklet,
    BookletMove,
    Cheque,
    Invoice,
    Order,
    PricingSettings,
    Transfer,
)


@admin.register(PricingSettings)
class PricingSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "per_booklet_fee_cents"]

    def has_add_permission(self, request):
        return not PricingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "funder", "status", "booklets", "cheques_per_booklet",
                    "face_value_cents", "total_cents", "valid_until", "created_at"]
    list_filter = ["status"]
    search_fields = ["funder__name", "contact_email"]
    # State changes go through cheques.ordering / cheques.lifecycle (audited), not the admin.
    readonly_fields = ["status", "total_cents", "issued_cheques", "credit_note_cents",
                       "decided_at", "decided_by", "issued_at", "expired_at",
                       "expiry_alert_sent_at", "rejection_reason"]
    # Once priced, the terms are what the funder agreed to and what the invoice bills.
    priced_terms = ["booklets", "cheques_per_booklet", "face_value_cents",
                    "per_booklet_fee_cents"]

    # The validity changes through cheques.lifecycle.extend_validity (bounded, audited).
    terms = [*priced_terms, "valid_until"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (self.terms if obj else [])


@admin.register(Booklet)
class BookletAdmin(admin.ModelAdmin):
    list_display = ["number", "order", "state", "distributed_at"]
    list_filter = ["state"]
    search_fields = ["number"]
    list_select_related = ["order"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cheque)
class ChequeAdmin(admin.ModelAdmin):
    list_display = ["number", "display_code", "state", "face_value_cents"]
    list_filter = ["state"]
    search_fields = ["number", "code"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Read only: an invoice is written at the order's approval and never changes."""

    list_display = ["number", "order", "funder_name", "total_cents", "issued_at"]
    search_fields = ["number", "funder_name"]
    list_select_related = ["order"]


# Money records change through cheques.reimbursement, cheques.bank_reports and
# cheques.corrections (audited, in the ledger), never by hand.
@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["end_to_end_id", "batch", "structure", "amount_cents", "state",
                    "reason_code", "paid_on"]
    list_filter = ["state"]
    search_fields = ["end_to_end_id", "structure__name"]


@admin.register(BankFile)
class BankFileAdmin(ReadOnlyAdmin):
    list_display = ["kind", "message_id", "uploaded_at", "uploaded_by"]
    list_filter = ["kind"]
    search_fields = ["message_id"]


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["kind", "structure", "amount_cents", "reason", "created_at"]
    list_filter = ["kind"]


@admin.register(BookletMove)
class BookletMoveAdmin(ReadOnlyAdmin):
    list_display = ["booklet", "from_holder", "to_holder", "at", "actor"]
