"""The one error of the business: what every domain module raises when it refuses.

A refusal has a stable machine code (``already_redeemed``), a French message for people, the
HTTP status that says it, and optional extra fields (the cheque concerned, when and where it
was redeemed). The status belongs to the code, once for the whole platform (STATUS below),
so that the same refusal answers the same on every endpoint and page. The API maps it in
aptic.api.exception_handler; pages show it with aptic.web.show_refusal or as a form error.
Domain modules never build HTTP answers.
"""

# The status of each code; a code not listed answers 400 (the request cannot be done as
# asked). 404 is also the answer for what the caller may not see (no existence oracle).
STATUS = {
    # Not found, or not for this caller to see.
    "not_found": 404, "unknown_cheque": 404, "unknown_booklet": 404, "unknown_place": 404,
    "unknown_statement": 404, "wrong_booklet": 404, "unknown_structure": 404,
    "unknown_prescriber": 404,
    # An action this caller may not take.
    "forbidden": 403, "permission_denied": 403, "place_not_qualified": 403,
    # A well-formed request that a rule of the business refuses.
    "invalid_format": 422, "bad_check_character": 422, "bad_signature": 422,
    "service_not_allowed": 422, "territory_not_allowed": 422, "not_activated": 422,
    "duplicate_code": 422, "empty_basket": 422, "too_many_codes": 422,
    "idempotency_key_reused": 422, "wrong_cheque_count": 422, "scan_in_future": 422,
    "scan_too_old": 422,
    # The bank's files: one that is not what we read, or that concerns no transfer of ours.
    "empty_file": 422, "file_too_large": 422, "malformed_file": 422, "unknown_format": 422,
    "unknown_batch": 422, "unknown_transfer": 422, "other_account": 422,
    "amount_mismatch": 422, "invalid_amount": 422, "no_booklets": 422,
    "too_many_booklets": 422,
    # The object is not, or no longer, in a state that allows it.
    "already_redeemed": 409, "already_undone": 409, "undo_window_closed": 409,
    "in_statement": 409, "invalid_status": 409, "already_printing": 409, "not_printed": 409,
    "booklet_not_printable": 409, "booklet_handed_out": 409, "booklet_not_replaceable": 409,
    "nothing_to_replace": 409, "not_approved": 409, "not_issued": 409, "not_running": 409,
    "not_stalled": 409, "already_in_batch": 409, "already_paid": 409,
    "blocked_structures": 409, "empty_statement": 409, "inconsistent": 409, "not_draft": 409,
    "not_validated": 409, "batch_rejected": 409, "already_handed_out": 409,
    # Gone for good.
    "expired": 410, "cancelled": 410, "replaced": 410,
    # Slow down.
    "too_many_failures": 429, "throttled": 429, "locked_out": 429,
    # Ours to fix (a file we produced does not validate, the operator's account is wrong).
    "invalid_sepa": 500, "operator_account": 500,
    # Places: a structure's file, its claims, the changes under review, a signup's link.
    "incomplete": 422, "not_claimable": 404, "invalid_link": 404,
    "already_yours": 409, "already_requested": 409, "already_decided": 409,
    "already_approved": 409, "already_confirmed": 409, "account_exists": 409,
    "siret_taken": 409,
}


class DomainError(Exception):
    """A refusal: `code`, French `detail`, HTTP `status` (from STATUS unless given),
    `retry_after` seconds when trying again later may work, and `extra` fields for the
    API's answer."""

    def __init__(self, code, detail, *, status=None, retry_after=None, **extra):
        super().__init__(detail)
        self.code = code
        self.detail = str(detail)
        self.status = status or STATUS.get(code, 400)
        self.retry_after = retry_after
        self.extra = extra

    def body(self):
        """The refusal as the API says it: ``{"code", "detail", **extra}``."""
        return {"code": self.code, "detail": self.detail, **self.extra}

    def __repr__(self):
        return f"DomainError({self.code!r}, {self.detail!r}, status={self.status})"
