"""Outages of Redis (the cache and the Celery broker), once for the whole site.

Redis holds no fact of the business: counters (throttles, failed look-ups, logins), the
progress of an issuance, and task messages. What needs it and cannot do without answers 503
with `Retry-After` and a French message, never a 500: the request changed nothing that
matters (a retry with the same Idempotency-Key replays a redemption's answer). What can do
without it goes on: redemption by a signed-in mediator does (cheques.guard).
"""

import logging

from django.http import HttpResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What a stopped, unreachable or hanging Redis raises, as the cache and as the broker.
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, BrokerError)
RETRY_AFTER_SECONDS = 30


def counters_unavailable(user, error):
    """The rule when counters (throttles, failed look-ups) are out of reach: an anonymous
    caller is refused (the error goes on to OutageMiddleware's 503), a signed-in user goes
    on, with a warning in the log."""
    if not getattr(user, "is_authenticated", False):
        raise error
    logger.warning("Counters unavailable, user %s let through: %s", user.pk, error)


def unavailable_detail():
    return _("Service momentanément indisponible : réessayez dans quelques instants.")


class OutageMiddleware:
    """A view that raised one of OUTAGE_ERRORS answers 503 with `Retry-After` (the API's
    error shape under /api/, a plain page elsewhere)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        logger.error("Redis unavailable for %s %s: %s", request.method, request.path,
                     exception)
        if request.path.startswith("/api/"):
            from .api import _json, error_body

            response = _json(error_body("service_unavailable", unavailable_detail()), 503)
        else:
            response = HttpResponse(unavailable_detail(), status=503,
                                    content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
