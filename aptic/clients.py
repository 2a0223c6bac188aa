"""The client's address, the one fact every throttle and failure counter keys on."""

from django.conf import settings


def client_ip(request):
    """The address of the client that sent `request`.

    X-Forwarded-For is read only behind settings.TRUSTED_PROXIES proxies: each one appends the
    address it received the request from, so the client is that many entries from the right;
    anything further left was written by the client and proves nothing. DRF's throttles agree
    (NUM_PROXIES is set from the same setting)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or forwarded is None:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))]
