"""The cache backend: Django's Redis cache with one connection pool per process.

Django keeps a cache object per request context, and each builds its own Redis connection pool
on first use. Under ASGI every request's synchronous code runs in a new thread and context, so
every request that touched the cache (a session, the parameter snapshot, a parameter change's
invalidation) opened a new connection to Redis, and left it to the garbage collector: on a
2-vCPU machine that was 1.5 ms of every parameter change. Here the Redis client, with its
connection pool, is made once per process and configuration and shared by every context;
redis-py's pool is thread-safe and starts afresh in a forked child (Celery's workers).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[Any, ...], RedisCacheClient] = {}
_clients_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` whose client is shared process-wide."""

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client
