import type { Cache } from './cache';

interface Entry {
  value: string;
  expiresAt: number | null;
}

/** In-process cache for the embedded mode; same semantics as RedisCache, single process only. */
export class MemoryCache implements Cache {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 30_000).unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    for (const key of this.entries.keys()) this.live(key);
  }

  private expiry(ttlMs?: number): number | null {
    return ttlMs && ttlMs > 0 ? this.now() + ttlMs : null;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async del(...keys: string[]): Promise<void> {
    for (const k of keys) this.entries.delete(k);
  }

  async incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    const e = this.live(key);
    if (e && !/^-?\d+$/.test(e.value)) throw new Error('value is not an integer');
    const next = (e ? Number(e.value) : 0) + by;
    this.entries.set(key, { value: String(next), expiresAt: e ? e.expiresAt : this.expiry(ttlMs) });
    return next;
  }

  async decrementIfPositive(key: string): Promise<number | null> {
    const e = this.live(key);
    if (!e) return null;
    if (!/^-?\d+$/.test(e.value)) throw new Error('value is not an integer');
    const current = Number(e.value);
    if (!(current > 0)) return -1;
    e.value = String(current - 1);
    return current - 1;
  }

  async ttl(key: string): Promise<number | null> {
    const e = this.live(key);
    if (!e || e.expiresAt === null) return null;
    return e.expiresAt - this.now();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
