import Redis from 'ioredis';
import { uniqueName, infraEnv } from '@vtv/testing';
import { MemoryCache, RedisCache, type Cache } from '../src';

/** A cache under test plus whatever it takes to leave the real server as we found it. */
interface Harness {
  cache: Cache;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function memoryHarness(): Harness {
  const cache = new MemoryCache();
  return { cache, cleanup: () => cache.close() };
}

function redisHarness(): Harness {
  const url = infraEnv().REDIS_URL;
  const keyPrefix = `${uniqueName('cachetest')}:`;
  const cache = new RedisCache({ url, keyPrefix, commandTimeoutMs: 5_000 });
  return {
    cache,
    cleanup: async () => {
      await cache.close();
      // Remove every key this run created (those without a TTL would otherwise stay behind).
      const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await admin.connect();
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
          if (keys.length) await admin.del(...keys);
          cursor = next;
        } while (cursor !== '0');
        expect(await admin.keys(`${keyPrefix}*`)).toEqual([]);
      } finally {
        admin.disconnect();
      }
    },
  };
}

/** The one contract both implementations must satisfy. */
function cacheContract(factory: () => Harness, _kind: Cache['kind']) {
  let h: Harness;
  let cache: Cache;

  beforeAll(() => {
    h = factory();
    cache = h.cache;
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it('answers ping', async () => {
    await expect(cache.ping()).resolves.toBeUndefined();
  });

  it('gets what was set; a missing key is null', async () => {
    expect(await cache.get('get:missing')).toBeNull();
    await cache.set('get:a', 'alpha');
    expect(await cache.get('get:a')).toBe('alpha');
    await cache.set('get:a', 'beta');
    expect(await cache.get('get:a')).toBe('beta');
    // No TTL given: no expiry.
    expect(await cache.ttl('get:a')).toBeNull();
  });

  it('expires a value after its TTL', async () => {
    await cache.set('ttl:short', 'v', 50);
    await cache.set('ttl:long', 'v', 60_000);
    expect(await cache.get('ttl:short')).toBe('v');
    const remaining = await cache.ttl('ttl:short');
    expect(remaining).not.toBeNull();
    expect(remaining!).toBeGreaterThan(0);
    expect(remaining!).toBeLessThanOrEqual(50);
    await sleep(120);
    expect(await cache.get('ttl:short')).toBeNull();
    expect(await cache.ttl('ttl:short')).toBeNull();
    expect(await cache.get('ttl:long')).toBe('v');
  });

  it('set without TTL clears a previous expiry', async () => {
    await cache.set('ttl:reset', 'v', 50);
    await cache.set('ttl:reset', 'w');
    await sleep(100);
    expect(await cache.get('ttl:reset')).toBe('w');
    expect(await cache.ttl('ttl:reset')).toBeNull();
  });

  it('reports the remaining TTL, null for missing keys', async () => {
    expect(await cache.ttl('ttl:none')).toBeNull();
    await cache.set('ttl:ten', 'v', 10_000);
    const ms = await cache.ttl('ttl:ten');
    expect(ms).toBeGreaterThan(9_000);
    expect(ms).toBeLessThanOrEqual(10_000);
  });

  it('setIfAbsent sets once, then refuses; works again after expiry', async () => {
    expect(await cache.setIfAbsent('nx:a', 'first', 100)).toBe(true);
    expect(await cache.setIfAbsent('nx:a', 'second', 100)).toBe(false);
    expect(await cache.get('nx:a')).toBe('first');
    const ms = await cache.ttl('nx:a');
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(100);
    await sleep(160);
    expect(await cache.setIfAbsent('nx:a', 'third', 10_000)).toBe(true);
    expect(await cache.get('nx:a')).toBe('third');
  });

  it('setIfAbsent does not overwrite a value set with set()', async () => {
    await cache.set('nx:existing', 'kept');
    expect(await cache.setIfAbsent('nx:existing', 'other', 1_000)).toBe(false);
    expect(await cache.get('nx:existing')).toBe('kept');
  });

  it('100 concurrent setIfAbsent calls: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => cache.setIfAbsent('nx:race', `caller-${i}`, 10_000)),
    );
    expect(results.filter((r) => r === true)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await cache.get('nx:race')).toBe(`caller-${winner}`);
  });

  it('incrBy adds atomically and applies the TTL only when it creates the key', async () => {
    expect(await cache.incrBy('ctr:a', 1, 60_000)).toBe(1);
    const first = await cache.ttl('ctr:a');
    expect(first).toBeGreaterThan(55_000);
    await sleep(60);
    expect(await cache.incrBy('ctr:a', 5, 1_000_000)).toBe(6);
    expect(await cache.incrBy('ctr:a', -2)).toBe(4);
    const later = await cache.ttl('ctr:a');
    // Not reset (would be ~1_000_000) and not extended: the window is fixed.
    expect(later).not.toBeNull();
    expect(later!).toBeLessThan(first!);
    expect(await cache.get('ctr:a')).toBe('4');
  });

  // Regression: the Redis script once re-armed the TTL whenever a counter came back to `by` from 0.
  it('incrBy does not apply a TTL to an existing key that is at 0', async () => {
    await cache.set('ctr:zero', '0');
    expect(await cache.incrBy('ctr:zero', 3, 5_000)).toBe(3);
    expect(await cache.ttl('ctr:zero')).toBeNull();
  });

  it('incrBy without a TTL creates a key that does not expire', async () => {
    expect(await cache.incrBy('ctr:plain', 3)).toBe(3);
    expect(await cache.ttl('ctr:plain')).toBeNull();
  });

  it('a fixed-window counter starts over once its window has passed', async () => {
    expect(await cache.incrBy('ctr:window', 1, 50)).toBe(1);
    expect(await cache.incrBy('ctr:window', 1, 50)).toBe(2);
    await sleep(120);
    expect(await cache.get('ctr:window')).toBeNull();
    expect(await cache.incrBy('ctr:window', 1, 50)).toBe(1);
  });

  it('incrBy is atomic under concurrency', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.incrBy('ctr:race', 1, 60_000)));
    expect(new Set(results).size).toBe(200);
    expect(Math.max(...results)).toBe(200);
    expect(await cache.get('ctr:race')).toBe('200');
  });

  it('incrBy rejects a non-integer value', async () => {
    await cache.set('ctr:text', 'not a number');
    await expect(cache.incrBy('ctr:text', 1)).rejects.toThrow();
    expect(await cache.get('ctr:text')).toBe('not a number');
  });

  it('decrementIfPositive: null for a missing key, counts down to 0, then -1', async () => {
    expect(await cache.decrementIfPositive('stock:missing')).toBeNull();
    await cache.set('stock:a', '3');
    expect(await cache.decrementIfPositive('stock:a')).toBe(2);
    expect(await cache.decrementIfPositive('stock:a')).toBe(1);
    expect(await cache.decrementIfPositive('stock:a')).toBe(0);
    expect(await cache.decrementIfPositive('stock:a')).toBe(-1);
    expect(await cache.decrementIfPositive('stock:a')).toBe(-1);
    expect(await cache.get('stock:a')).toBe('0');
    // A negative counter is "sold out" too and is left untouched.
    await cache.set('stock:neg', '-4');
    expect(await cache.decrementIfPositive('stock:neg')).toBe(-1);
    expect(await cache.get('stock:neg')).toBe('-4');
  });

  it('decrementIfPositive keeps the TTL of the counter', async () => {
    await cache.set('stock:ttl', '5', 60_000);
    expect(await cache.decrementIfPositive('stock:ttl')).toBe(4);
    const ms = await cache.ttl('stock:ttl');
    expect(ms).toBeGreaterThan(50_000);
  });

  it('500 concurrent decrements of 100: exactly 100 succeed and it ends at 0', async () => {
    await cache.set('stock:race', '100');
    const results = await Promise.all(
      Array.from({ length: 500 }, () => cache.decrementIfPositive('stock:race')),
    );
    const granted = results.filter((r): r is number => r !== null && r >= 0);
    expect(granted).toHaveLength(100);
    // Every unit handed out once: the remaining counts are exactly 99..0.
    expect([...granted].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(results.filter((r) => r === -1)).toHaveLength(400);
    expect(await cache.get('stock:race')).toBe('0');
  });

  it('del removes several keys at once and ignores missing ones', async () => {
    await cache.set('del:a', '1');
    await cache.set('del:b', '2', 60_000);
    await cache.set('del:c', '3');
    await cache.del('del:a', 'del:b', 'del:missing');
    expect(await cache.get('del:a')).toBeNull();
    expect(await cache.get('del:b')).toBeNull();
    expect(await cache.ttl('del:b')).toBeNull();
    expect(await cache.get('del:c')).toBe('3');
    await expect(cache.del()).resolves.toBeUndefined();
    expect(await cache.decrementIfPositive('del:a')).toBeNull();
  });
}

describe.each([
  ['MemoryCache', 'memory', memoryHarness],
  ['RedisCache', 'redis', redisHarness],
] as const)('Cache contract: %s', (_name, kind, factory) => {
  it(`reports kind ${kind}`, async () => {
    const h = factory();
    try {
      expect(h.cache.kind).toBe(kind);
    } finally {
      await h.cleanup();
    }
  });

  cacheContract(factory, kind);
});

describe('RedisCache key prefix', () => {
  it('keeps two prefixes apart on one server', async () => {
    const a = redisHarness();
    const b = redisHarness();
    try {
      await a.cache.set('shared', 'from-a');
      expect(await b.cache.get('shared')).toBeNull();
      expect(await b.cache.setIfAbsent('shared', 'from-b', 10_000)).toBe(true);
      expect(await a.cache.get('shared')).toBe('from-a');
      expect(await b.cache.get('shared')).toBe('from-b');
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });
});
