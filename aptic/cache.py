"""Django's Redis cache, with one Redis client per connection pool instead of one per
operation: building a client costs more than a GET (redis-py fills a table of some 200
response callbacks each time), and an API call makes several cache operations (throttles,
the look-up guard). The pool, and its connections, are shared all the same."""

from django.core.cache.backends import redis


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
