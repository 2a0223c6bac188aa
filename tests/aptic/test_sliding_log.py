"""The throttles' sliding logs (aptic.cache.log_within_limits): kept by Redis in sorted sets,
in one round trip; kept as lists by another cache (the demo's memory), as DRF keeps them."""

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from aptic.cache import log_within_limits


@pytest.fixture(params=["redis", "memory"])
def log(request):
    if request.param == "redis":
        backend = cache
        if not hasattr(backend, "log_within_limits"):
            pytest.fail("the tests run with Redis (TEST_REDIS_URL): the cache must be aptic's")
    else:
        backend = LocMemCache(f"sliding-log-{request.node.name}", {})

    def log(now, *limits):
        """Log at `now` in logs given as (key, window, limit), by default one of 3 a minute."""
        return log_within_limits(backend, list(limits) or [("k", 60, 3)], now=now)

    return log


def test_the_log_lets_the_limit_through_then_refuses_until_the_oldest_leaves_the_window(log):
    assert [log(now) for now in (1000.0, 1001.0, 1002.5)] == [None] * 3
    assert log(1003.0) == pytest.approx(57.0)
    assert log(1059.9) == pytest.approx(0.1)
    # DRF drops an entry once it is `window` seconds old or more.
    assert log(1060.0) is None
    assert log(1060.1) == pytest.approx(0.9)


def test_a_refused_request_is_not_logged(log):
    for now in (1.0, 2.0, 3.0):
        log(now)
    for now in (4.0, 5.0, 6.0):
        assert log(now) == pytest.approx(57.0 - (now - 4.0))
    assert log(61.0) is None
    assert log(61.5) == pytest.approx(0.5)


def test_two_requests_at_the_same_moment_are_two_entries(log):
    assert log(5.0) is None and log(5.0) is None and log(5.0) is None
    assert log(5.0) == pytest.approx(60.0)


def test_a_request_is_logged_in_every_log_or_in_none(log):
    account, address = ("account", 60, 2), ("address", 60, 3)
    assert log(1.0, account, address) is None
    assert log(2.0, account, address) is None
    assert log(3.0, account, address) == pytest.approx(58.0)  # the account is full
    # Not logged by the address either: another account behind it still has one request.
    assert log(4.0, ("colleague", 60, 2), address) is None
    assert log(5.0, ("colleague", 60, 2), address) == pytest.approx(56.0)  # now the address


def test_in_redis_a_log_is_a_sorted_set_that_expires_and_never_exceeds_its_limit():
    for second in range(500):
        log_within_limits(cache, [("k", 3600, 300)], now=float(second))
    client = cache._cache.get_client(write=True)
    key = cache.make_and_validate_key("k")
    assert client.type(key) == b"zset"
    assert client.zcard(key) == 300
    assert 0 < client.ttl(key) <= 3600
