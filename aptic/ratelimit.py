"""Rate limits of the pages that create something for anyone who asks: a structure's signup,
a claim on a place.

Anonymous requests are counted per client address, signed-in ones per account: an account
is what an attacker cannot change without effort, and people who share one address (a
town hall, a social centre) each keep their own allowance once signed in. The rates are
DRF's `DEFAULT_THROTTLE_RATES` (settings), one place for every rate of the site, read when
the request comes so that they can be changed in tests.

Counting is a fixed window in the cache (Redis in production): cheap, shared by every
worker, and at worst twice the rate across the boundary of two windows.
"""

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _

from .clients import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def identity(request):
    """Whom a request is counted against: the account when signed in, else the address."""
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


def parse_rate(rate):
    """"10/hour" -> (10, 3600); the period is read from its first letter, as DRF does."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def increment(key, timeout):
    """Add one to the counter at `key`, created for `timeout` seconds; its new value. One
    atomic INCR on Redis, so that concurrent workers never lose a count."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def hit(scope, request):
    """Count one request of `scope`; the seconds to wait when it is over the rate, else 0."""
    limit, period = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope])
    now = time.time()
    window = int(now // period)
    count = increment(f"ratelimit:{scope}:{identity(request)}:{window}", period)
    if count <= limit:
        return 0
    return max(1, int((window + 1) * period - now))


def limited(scope, message, methods=("POST",)):
    """Decorate a view: requests of `methods` over the rate of `scope` get a 429 page with
    `message` (French) and a Retry-After header; other methods are not counted."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                seconds = hit(scope, request)
                if seconds:
                    minutes = max(1, -(-seconds // 60))
                    response = render(request, "throttled.html", {
                        "title": _("Trop de demandes"), "message": message,
                        "minutes": minutes}, status=429)
                    response["Retry-After"] = str(seconds)
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
