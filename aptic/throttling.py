"""DRF throttles for signed-in work: limited per account, and per address with a ceiling
ADDRESS_CEILING_FACTOR times higher, so that colleagues behind one address (a médiathèque's
box, an office's proxy) do not share one budget, while many accounts in one hand still meet a
limit. Anonymous callers stay limited per address by ScopedRateThrottle itself.

Without Redis the counters are out of reach: signed-in users go on, anonymous callers get a
503 (aptic.outages.counters_unavailable)."""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from .outages import OUTAGE_ERRORS, counters_unavailable


class AccountThrottle(ScopedRateThrottle):
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
