"""Django's Redis cache, with one Redis client per connection pool instead of one per
operation: building a client costs more than a GET (redis-py fills a table of some 200
response callbacks each time), and an API call makes several cache operations (throttles,
the look-up guard). The pool, and its connections, are shared all the same."""

import uuid

from django.core.cache.backends import redis

# Sliding logs of the moments of allowed requests, one sorted set per key: in each, the
# entries older than its window go; when every log holds fewer entries than its limit, the
# request is logged in all of them. ARGV: now, then window and limit per key, then the
# entry's name. Returns {0, ''} when allowed, else {the first full log's index, its oldest
# moment}.
_SLIDING_LOGS = """
local now, count = tonumber(ARGV[1]), #KEYS
for i = 1, count do
  local window, limit = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    return {i, redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2] or ARGV[1]}
  end
end
for i = 1, count do
  redis.call('ZADD', KEYS[i], now, ARGV[2 * count + 2])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i])))
end
return {0, ''}
"""


def log_within_limits(cache, logs, *, now):
    """Log a request at `now` (seconds) in each of `logs` ((key, window in seconds, limit),
    …) when every one holds fewer than its limit within its window, and answer None; else
    log nothing and answer how many seconds until the first full one has room.

    With aptic's RedisCache, one round trip whatever the logs' lengths (a script over sorted
    sets); with another cache (the demo's memory), lists read and written whole, as DRF's
    throttles keep them."""
    in_one_trip = getattr(cache, "log_within_limits", None)  # `cache` may be Django's proxy
    if in_one_trip is not None:
        return in_one_trip(logs, now=now)
    stored = cache.get_many([key for key, _window, _limit in logs])
    kept = {}
    for key, window, limit in logs:
        history = [moment for moment in stored.get(key, []) if moment > now - window]
        if len(history) >= limit:
            return window - (now - min(history, default=now))
        kept[key] = [now, *history]
    for (key, window, _limit) in logs:
        cache.set(key, kept[key], window)
    return None


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(index))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._sliding_logs_script = None  # registered with the writing client, once

    def log_within_limits(self, logs, *, now):
        """aptic.cache.log_within_limits, in one round trip."""
        if self._sliding_logs_script is None:
            self._sliding_logs_script = self._cache.get_client(write=True).register_script(
                _SLIDING_LOGS)
        args = [repr(now)]
        for _key, window, limit in logs:
            args += [window, limit]
        keys = [self.make_and_validate_key(key) for key, _window, _limit in logs]
        full, oldest = self._sliding_logs_script(
            keys=keys, args=[*args, f"{now!r}-{uuid.uuid4().hex}"])
        if not full:
            return None
        return logs[full - 1][1] - (now - float(oldest))
