import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

/**
 * The Redis cache in front of the registry (metadata answers) and, when enabled, of small query
 * results. Every failure is a miss: with Redis down or slow (each command waits at most
 * `timeoutMs`), calls go to the registry and the servers, slower, and the cache reports itself
 * down until Redis answers again (ioredis reconnects on its own). Keys carry the generation of
 * what they depend on, so that a sync that changes a server's metadata makes its old entries
 * unreachable at once; they are also deleted, and expire anyway.
 */

export type CacheStatus = 'disabled' | 'up' | 'down';

export interface CacheOptions {
  url: string | undefined;
  prefix: string;
  timeoutMs: number;
  onWarning?: (message: string, error: Error) => void;
}

export const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);

export class Cache {
  private warned = false;
  hits = 0;
  misses = 0;

  /**
   * The cache for `options`: ioredis is imported only when a Redis URL is set (about 25 MB resident
   * and its share of the start otherwise spent for nothing), and connects in the background.
   */
  static async open(options: CacheOptions): Promise<Cache> {
    if (options.url === undefined) return new Cache(options, undefined);
    const { connectRedis } = await import('./redis-client.js');
    return new Cache(options, connectRedis(options.url, options.timeoutMs));
  }

  private constructor(
    private readonly options: CacheOptions,
    private readonly redis: Redis | undefined,
  ) {
    if (!redis) return;
    redis.on('error', (error: Error) => {
      if (this.warned) return;
      this.warned = true;
      options.onWarning?.('Redis cache unavailable: answering from the registry', error);
    });
    redis.on('ready', () => {
      this.warned = false;
    });
  }

  get status(): CacheStatus {
    if (!this.redis) return 'disabled';
    return this.redis.status === 'ready' ? 'up' : 'down';
  }

  key(...parts: (string | number)[]): string {
    return [this.options.prefix, ...parts.map(String)].join(':');
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.redis || this.redis.status !== 'ready') {
      this.misses += 1;
      return undefined;
    }
    try {
      const value = await this.redis.get(key);
      if (value === null) this.misses += 1;
      else this.hits += 1;
      return value ?? undefined;
    } catch {
      this.misses += 1;
      return undefined;
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (!this.redis || this.redis.status !== 'ready' || ttlSeconds <= 0) return;
    try {
      await this.redis.set(key, value, 'EX', ttlSeconds);
    } catch {
      // A cache that cannot store is a cache that misses.
    }
  }

  /** Deletes every key under `prefix:<parts>:` (SCAN + UNLINK, bounded); best effort. */
  async deleteUnder(...parts: string[]): Promise<number> {
    if (!this.redis || this.redis.status !== 'ready') return 0;
    const pattern = `${this.key(...parts).replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)}:*`;
    let deleted = 0;
    try {
      let cursor = '0';
      for (let rounds = 0; rounds < 1000; rounds += 1) {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (keys.length > 0) deleted += await this.redis.unlink(...keys);
        cursor = next;
        if (cursor === '0') break;
      }
    } catch {
      // Entries left behind are unreachable (their generation is old) and expire.
    }
    return deleted;
  }

  async ping(): Promise<void> {
    if (!this.redis) return;
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    this.redis.disconnect();
  }
}
