"""DRF throttles for signed-in work: limited per account, and per address with a ceiling
ADDRESS_CEILING_FACTOR times higher, so that colleagues behind one address (a médiathèque's
box, an office's proxy) do not share one budget, while many accounts in one hand still meet a
limit. Anonymous callers stay limited per address by ScopedRateThrottle itself.

DRF keeps each key's log of requests as one pickled list, read and written whole on every
request: at the redemption's 6,000 a minute that is thousands of entries each time. With
Redis the same sliding log lives in a sorted set, trimmed, counted and appended in one round
trip (aptic.cache.RedisCache.log_within_limit); the limits and the Retry-After are DRF's.

When Redis is down the counters are out of reach: signed-in users go on, anonymous callers
get a 503 (aptic.outages.counters_unavailable)."""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from .outages import OUTAGE_ERRORS, counters_unavailable


class SlidingLogThrottle(SimpleRateThrottle):
    """DRF's sliding log, kept by Redis when the cache is aptic.cache.RedisCache."""

    oldest = None

    def allow_request(self, request, view):
        log_within_limit = getattr(self.cache, "log_within_limit", None)
        if log_within_limit is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        # Its own key: the one DRF used holds a pickled list, not a sorted set.
        allowed, self.oldest = log_within_limit(
            f"{self.key}:log", now=self.now, window=self.duration, limit=self.num_requests)
        return allowed

    def wait(self):
        if self.oldest is None:
            return super().wait()
        return max(self.duration - (self.now - self.oldest), 0)


class AccountThrottle(ScopedRateThrottle, SlidingLogThrottle):
    """The view's scope (`throttle_scope`): per account when signed in, else per address."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except OUTAGE_ERRORS as error:
            counters_unavailable(request.user, error)
            return True


class AddressCeilingThrottle(AccountThrottle):
    """The view's scope, for the signed-in users of one address together."""

    def parse_rate(self, rate):
        requests, duration = super().parse_rate(rate)
        if requests is None:
            return None, None
        return requests * settings.ADDRESS_CEILING_FACTOR, duration

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": f"{self.scope}-address",
                                    "ident": self.get_ident(request)}


# `throttle_classes` of a view with a `throttle_scope`.
PER_ACCOUNT_AND_ADDRESS = [AccountThrottle, AddressCeilingThrottle]
