"""DRF throttles for signed-in work: limited per account, and per address with a ceiling
ADDRESS_CEILING_FACTOR times higher, so that colleagues behind one address (a médiathèque's
box, an office's proxy) do not share one budget, while many accounts in one hand still meet a
limit. Anonymous callers stay limited per address by ScopedRateThrottle itself.

DRF keeps each key's log of requests as one pickled list, read and written whole on every
request: at the redemption's 6,000 a minute that is thousands of entries each time. With
Redis the same sliding logs live in sorted sets, both trimmed, counted and appended in one
round trip (aptic.cache.log_within_limits); the limits and the Retry-After are DRF's.

When Redis is down the counters are out of reach: signed-in users go on, anonymous callers
get a 503 (aptic.outages.counters_unavailable)."""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from .cache import log_within_limits
from .outages import OUTAGE_ERRORS, counters_unavailable


class AccountAndAddressThrottle(ScopedRateThrottle):
    """The view's scope (`throttle_scope`): per account when signed in, else per address;
    and, for the signed-in users of one address together, ADDRESS_CEILING_FACTOR times the
    rate. Both logs are checked, and the request logged in both or neither, at once
    (aptic.cache.log_within_limits)."""

    seconds_to_wait = None

    def allow_request(self, request, view):
        # ScopedRateThrottle's rate for the view's scope, then both logs at once.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        logs = self.get_logs(request, view) if self.rate is not None else []
        if not logs:
            return True
        try:
            self.seconds_to_wait = log_within_limits(self.cache, logs, now=self.timer())
        except OUTAGE_ERRORS as error:
            counters_unavailable(request.user, error)
            return True
        return self.seconds_to_wait is None

    def get_logs(self, request, view):
        # Keys of their own: the ones DRF used hold pickled lists, not sorted sets.
        account = self.get_cache_key(request, view)
        if account is None:
            return []
        logs = [(f"{account}:log", self.duration, self.num_requests)]
        if request.user.is_authenticated:
            address = self.cache_format % {"scope": f"{self.scope}-address",
                                           "ident": self.get_ident(request)}
            logs.append((f"{address}:log", self.duration,
                         self.num_requests * settings.ADDRESS_CEILING_FACTOR))
        return logs

    def wait(self):
        return self.seconds_to_wait


# `throttle_classes` of a view with a `throttle_scope`.
PER_ACCOUNT_AND_ADDRESS = [AccountAndAddressThrottle]
