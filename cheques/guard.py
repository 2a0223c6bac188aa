"""Brute-force protection of cheque look-ups: failed look-ups (unknown code, wrong check
character) are counted per user and per IP address in the cache (Redis); past the threshold,
look-ups are refused for the rest of the window and the operator sees an audit event."""

from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from aptic import audit

from .lifecycle import ChequeError

# Failures that look like guessing; a cancelled or redeemed cheque is a real cheque.
COUNTED_FAILURES = {"unknown_cheque", "bad_check_character", "invalid_format", "bad_signature",
                    "unknown_booklet"}


def _keys(user, ip_address):
    keys = [f"cheque-lookup-failures:ip:{ip_address or 'unknown'}"]
    if getattr(user, "is_authenticated", False):
        keys.append(f"cheque-lookup-failures:user:{user.pk}")
    return keys


def ensure_not_blocked(user, ip_address):
    limit = settings.CHEQUE_LOOKUP_FAILURE_LIMIT
    if any((cache.get(key) or 0) >= limit for key in _keys(user, ip_address)):
        raise ChequeError("too_many_failures", _(
            "Trop de codes erronés : les vérifications sont suspendues pendant quelques "
            "minutes. Vérifiez les codes imprimés sur les chèques."), status=429)


def record_failure(user, ip_address, error):
    """Count a failed look-up; returns True when this failure crossed the threshold."""
    if error.code not in COUNTED_FAILURES:
        return False
    window = settings.CHEQUE_LOOKUP_FAILURE_WINDOW_SECONDS
    crossed = False
    for key in _keys(user, ip_address):
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        crossed |= count == settings.CHEQUE_LOOKUP_FAILURE_LIMIT
    if crossed and getattr(user, "is_authenticated", False):
        with transaction.atomic():
            audit.record(user, user, "cheque_lookup.blocked", ip=ip_address or "",
                         failures=settings.CHEQUE_LOOKUP_FAILURE_LIMIT, reason=error.code)
    return crossed


def client_ip(request):
    return request.META.get("REMOTE_ADDR", "")


@contextmanager
def counting_failures(request):
    """Refuse a blocked caller, and count a failed look-up of the block inside: typing codes
    or booklet numbers to cancel or hand over is a look-up too."""
    user, ip_address = request.user, client_ip(request)
    ensure_not_blocked(user, ip_address)
    try:
        yield
    except ChequeError as error:
        record_failure(user, ip_address, error)
        raise
