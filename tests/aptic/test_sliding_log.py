"""The throttles' sliding log kept by Redis (aptic.cache.RedisCache.log_within_limit)."""

import pytest
from django.core.cache import cache


@pytest.fixture
def log():
    if not hasattr(cache, "log_within_limit"):
        pytest.fail("the tests run with Redis (TEST_REDIS_URL): the cache must be aptic's")
    return cache.log_within_limit


def test_the_log_lets_the_limit_through_then_refuses_until_the_oldest_leaves_the_window(log):
    moments = [1000.0, 1001.0, 1002.5]
    assert [log("k", now=now, window=60, limit=3) for now in moments] == [(True, None)] * 3
    assert log("k", now=1003.0, window=60, limit=3) == (False, 1000.0)
    assert log("k", now=1059.9, window=60, limit=3) == (False, 1000.0)
    # DRF drops an entry once it is `window` seconds old or more.
    assert log("k", now=1060.0, window=60, limit=3) == (True, None)
    assert log("k", now=1060.1, window=60, limit=3) == (False, 1001.0)


def test_a_refused_request_is_not_logged(log):
    for now in (1.0, 2.0):
        log("k", now=now, window=10, limit=2)
    for now in (3.0, 4.0, 5.0):
        assert log("k", now=now, window=10, limit=2) == (False, 1.0)
    assert log("k", now=11.0, window=10, limit=2) == (True, None)
    assert log("k", now=11.5, window=10, limit=2) == (False, 2.0)


def test_two_requests_at_the_same_moment_are_two_entries(log):
    assert log("k", now=5.0, window=10, limit=2) == (True, None)
    assert log("k", now=5.0, window=10, limit=2) == (True, None)
    assert log("k", now=5.0, window=10, limit=2) == (False, 5.0)


def test_the_log_is_a_sorted_set_that_expires_and_never_holds_more_than_the_limit(log):
    for second in range(500):
        log("k", now=float(second), window=3600, limit=300)
    client = cache._cache.get_client(write=True)
    key = cache.make_and_validate_key("k")
    assert client.type(key) == b"zset"
    assert client.zcard(key) == 300
    assert 0 < client.ttl(key) <= 3600
