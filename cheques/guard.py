"""Brute-force protection of cheque look-ups: failed look-ups (unknown code, wrong check
character) are counted in the cache (Redis); past the threshold, look-ups are refused for the
rest of the window and the operator sees an audit event.

An anonymous caller is counted per client address. A signed-in user is counted per account:
the mediators behind one address (a médiathèque's box) never block each other, and their
address shares a ceiling ADDRESS_CEILING_FACTOR times higher, against one person guessing
through many accounts.

When Redis is down nothing can be counted. The guard then fails open for a signed-in user (a
mediator redeeming, with a beneficiary in front of them: the database still pays a cheque
once and every redemption is in the audit trail) and closed for an anonymous caller, whose
request ends in aptic.outages' 503 (aptic.outages.counters_unavailable, the same rule as
the API's throttles)."""

from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from aptic import audit
from aptic.clients import client_ip  # the callers' one address rule
from aptic.errors import DomainError
from aptic.outages import OUTAGE_ERRORS, counters_unavailable
from aptic.ratelimit import increment

# Failures that look like guessing; a cancelled or redeemed cheque is a real cheque.
COUNTED_FAILURES = {"unknown_cheque", "bad_check_character", "invalid_format", "bad_signature",
                    "unknown_booklet"}


def _counters(user, ip_address):
    """The (cache key, limit) pairs this caller's failures count against."""
    limit = settings.CHEQUE_LOOKUP_FAILURE_LIMIT
    address = ip_address or "unknown"
    if getattr(user, "is_authenticated", False):
        return [(f"cheque-lookup-failures:user:{user.pk}", limit),
                (f"cheque-lookup-failures:signed-in-ip:{address}",
                 limit * settings.ADDRESS_CEILING_FACTOR)]
    return [(f"cheque-lookup-failures:ip:{address}", limit)]


def ensure_not_blocked(user, ip_address):
    counters = _counters(user, ip_address)
    try:
        counts = cache.get_many([key for key, _limit in counters])  # one round trip
        blocked = any((counts.get(key) or 0) >= limit for key, limit in counters)
    except OUTAGE_ERRORS as error:
        counters_unavailable(user, error)
        return
    if blocked:
        raise DomainError("too_many_failures", _(
            "Trop de codes erronés : les vérifications sont suspendues pendant quelques "
            "minutes. Vérifiez les codes imprimés sur les chèques."))


def record_failure(user, ip_address, error):
    """Count a failed look-up; returns True when this failure crossed the threshold."""
    if error.code not in COUNTED_FAILURES:
        return False
    window = settings.CHEQUE_LOOKUP_FAILURE_WINDOW_SECONDS
    crossed = None
    try:
        for key, limit in _counters(user, ip_address):
            if increment(key, window) == limit:
                crossed = limit
    except OUTAGE_ERRORS as outage:
        counters_unavailable(user, outage)
        return False
    if crossed and getattr(user, "is_authenticated", False):
        with transaction.atomic():
            audit.record(user, user, "cheque_lookup.blocked", ip=ip_address or "",
                         failures=crossed, reason=error.code)
    return bool(crossed)


@contextmanager
def counting_failures(request):
    """Refuse a blocked caller, and count a failed look-up of the block inside: typing codes
    or booklet numbers to cancel or hand over is a look-up too."""
    user, ip_address = request.user, client_ip(request)
    ensure_not_blocked(user, ip_address)
    try:
        yield
    except DomainError as error:
        record_failure(user, ip_address, error)
        raise
