import { Redis } from 'ioredis';
import { getLogger } from '../../core/logger.js';

/**
 * A Redis client tuned for a cache: commands fail fast while Redis is down (no offline queue,
 * one retry), so callers fall back to PostgreSQL instead of waiting; it reconnects by itself.
 */
export function createCacheClient(url: string): Redis {
  const log = getLogger('cache');
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  client.on('error', (err) => {
    if (!down) log.warn({ err: err.message }, 'Redis unavailable: state reads fall back to PostgreSQL');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('Redis is back');
    down = false;
  });
  return client;
}

/** Deletes every key starting with `prefix` (SCAN, never KEYS); a Redis that is down is not an error. */
export async function deleteKeysByPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // keys expire by their TTL anyway
  } finally {
    redis.disconnect();
  }
}
