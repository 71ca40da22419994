/**
 * The cache and fast-gate primitives the platform needs (rate limits, token replay checks, sold-out
 * gates). Two implementations pass one contract suite: Redis and in-process (embedded mode). A cache
 * is never the final word on money or vouchers: the database is.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent; true when this call set it (SET NX). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  /** Atomic add; the TTL is applied when the key is created (fixed-window counters). */
  incrBy(key: string, by: number, ttlMs?: number): Promise<number>;
  /**
   * Atomically decrements a positive counter. Returns the new value, -1 when it was already at or below
   * zero (sold out), or null when the key does not exist (cold cache: ask the database).
   */
  decrementIfPositive(key: string): Promise<number | null>;
  /** Remaining time to live in ms; null when the key is missing or has no expiry. */
  ttl(key: string): Promise<number | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
