"""Brute-force protection of cheque look-ups: failed look-ups (unknown code, wrong check
character) are counted per user and per IP address in the cache (Redis); past the threshold,
look-ups are refused for the rest of the window and the operator sees an audit event.

When Redis is down nothing can be counted. The guard then fails open for a signed-in user (a
mediator redeeming, with a beneficiary in front of them: the database still pays a cheque
once and every redemption is in the audit trail) and closed for an anonymous caller, whose
request ends in aptic.outages' 503. The API's throttles of look-ups and redemptions follow
the same rule (RateThrottle)."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.throttling import ScopedRateThrottle

from aptic import audit
from aptic.outages import OUTAGE_ERRORS

from .lifecycle import ChequeError

logger = logging.getLogger(__name__)

# Failures that look like guessing; a cancelled or redeemed cheque is a real cheque.
COUNTED_FAILURES = {"unknown_cheque", "bad_check_character", "invalid_format", "bad_signature"}


def _keys(user, ip_address):
    keys = [f"cheque-lookup-failures:ip:{ip_address or 'unknown'}"]
    if getattr(user, "is_authenticated", False):
        keys.append(f"cheque-lookup-failures:user:{user.pk}")
    return keys


def _counters_down(user, error):
    """The rule without counters: re-raise for an anonymous caller (fail closed), carry on
    for a signed-in user (fail open)."""
    if not getattr(user, "is_authenticated", False):
        raise error
    logger.warning("Cheque look-up counters unavailable, user %s let through: %s",
                   user.pk, error)


def ensure_not_blocked(user, ip_address):
    limit = settings.CHEQUE_LOOKUP_FAILURE_LIMIT
    try:
        blocked = any((cache.get(key) or 0) >= limit for key in _keys(user, ip_address))
    except OUTAGE_ERRORS as error:
        _counters_down(user, error)
        return
    if blocked:
        raise ChequeError("too_many_failures", _(
            "Trop de codes erronés : les vérifications sont suspendues pendant quelques "
            "minutes. Vérifiez les codes imprimés sur les chèques."), status=429)


def record_failure(user, ip_address, error):
    """Count a failed look-up; returns True when this failure crossed the threshold."""
    if error.code not in COUNTED_FAILURES:
        return False
    window = settings.CHEQUE_LOOKUP_FAILURE_WINDOW_SECONDS
    crossed = False
    try:
        for key in _keys(user, ip_address):
            cache.add(key, 0, timeout=window)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
                count = 1
            crossed |= count == settings.CHEQUE_LOOKUP_FAILURE_LIMIT
    except OUTAGE_ERRORS as error:
        _counters_down(user, error)
        return False
    if crossed and getattr(user, "is_authenticated", False):
        with transaction.atomic():
            audit.record(user, user, "cheque_lookup.blocked", ip=ip_address or "",
                         failures=settings.CHEQUE_LOOKUP_FAILURE_LIMIT, reason=error.code)
    return crossed


def client_ip(request):
    return request.META.get("REMOTE_ADDR", "")


class RateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (`throttle_scope` on the view), with the guard's rule when its
    counters are out of reach."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except OUTAGE_ERRORS as error:
            _counters_down(request.user, error)
            return True
