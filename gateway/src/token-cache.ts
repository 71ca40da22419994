import type { Caller, TokenVerifier } from '@vtv/kit';

/**
 * Verified access tokens, remembered so that a client's next requests skip the ES256 signature check
 * (the gateway's largest per-request CPU cost after Apollo itself). An entry lives until the token
 * expires or `maxAgeMs` passes, whichever is first, so a key withdrawn from identity's JWKS stops
 * being honoured through this cache within `maxAgeMs` (the JWKS itself is cached longer than that).
 * Only successes are remembered; a bad token is verified (and counted as a failure) every time.
 * Bounded: the least recently used entry goes when `maxEntries` is reached.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The caller of a token verified earlier and still valid, without verifying again. */
  cached(token: string): Caller | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(token);
      return undefined;
    }
    // Re-insert: Map iteration order is insertion order, so the oldest entry is the least recently used.
    this.entries.delete(token);
    this.entries.set(token, e);
    return e.caller;
  }

  /** Verifies the token (throws UNAUTHENTICATED) and remembers the result. */
  async verify(token: string): Promise<Caller> {
    const verified = await this.verifier.verifyAccess(token);
    // Frozen: one cached caller is handed to many requests.
    const caller = Object.freeze({
      ...verified.caller,
      permissions: Object.freeze([...verified.caller.permissions]) as string[],
    });
    const expiresAt = verified.expiresAt;
    if (this.maxEntries > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(token, { caller, until: Math.min(expiresAt, this.now() + this.maxAgeMs) });
    }
    return caller;
  }

  get size(): number {
    return this.entries.size;
  }
}
