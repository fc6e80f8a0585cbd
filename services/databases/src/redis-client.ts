import { Redis } from 'ioredis';

/**
 * The cache's Redis connection. A module of its own so that cache.ts imports it (and ioredis) only
 * when a Redis URL is set; a static import here, because a bundle's import() of CommonJS gives only
 * its `default`.
 */
export function connectRedis(url: string, timeoutMs: number): Redis {
  return new Redis(url, {
    // A command while disconnected fails at once instead of queueing: a miss, not a wait.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1000, timeoutMs * 4),
    retryStrategy: (times) => Math.min(200 * times, 5000),
    lazyConnect: false,
  });
}
