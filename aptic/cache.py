"""Django's Redis cache, with one Redis client per connection pool instead of one per
operation: building a client costs more than a GET (redis-py fills a table of some 200
response callbacks each time), and an API call makes several cache operations (throttles,
the look-up guard). The pool, and its connections, are shared all the same."""

import uuid

from django.core.cache.backends import redis

# A sliding log of the moments of a key's allowed requests, kept in a sorted set: the
# entries older than the window go, and the request is logged when fewer than `limit`
# remain. Returns {1, 0} when allowed, else {0, the oldest moment still in the window}.
_SLIDING_LOG = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window))
  return {1, '0'}
end
return {0, redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]}
"""


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
        self._sliding_logs = {}

    def log_within_limit(self, key, *, now, window, limit):
        """Log a request at `now` (seconds) under `key` if fewer than `limit` were logged in
        the last `window` seconds: (True, None), else (False, the oldest logged moment).
        One round trip, whatever the length of the log (aptic.throttling)."""
        client = self._cache.get_client(write=True)
        script = self._sliding_logs.get(id(client))
        if script is None:
            script = self._sliding_logs[id(client)] = client.register_script(_SLIDING_LOG)
        allowed, oldest = script(keys=[self.make_and_validate_key(key)],
                                 args=[repr(now), window, limit, f"{now!r}-{uuid.uuid4().hex}"])
        return bool(allowed), None if allowed else float(oldest)
