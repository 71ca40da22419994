import type { Cache } from '@vtv/cache';
import { createHash } from 'node:crypto';
import type { Logger } from '@vtv/kit';
import type { RateLimit } from './config';

/**
 * Fixed-window counters in the shared cache (Redis in production, so every gateway replica counts
 * together). Keys hold hashes, never raw ids, device ids or addresses.
 */
export interface Rule {
  /** Names the rule in metrics and in the error. */
  name: string;
  limit: RateLimit;
  /** What is counted: e.g. the account, the device, the address, plus the operation. */
  subject: string;
  /** Refuse when the store cannot be reached (guessing protection) instead of letting it pass. */
  failClosed?: boolean;
}

export interface Verdict {
  allowed: boolean;
  /** The rule that refused, and when the window ends. */
  rule?: string;
  retryAfterS?: number;
  /** The store did not answer and a fail-closed rule applied. */
  unavailable?: boolean;
}

const hash = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);

export class RateLimiter {
  constructor(
    private readonly cache: Cache,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any rule is already over its limit, without counting (checked before costly work). */
  async peek(rules: Rule[]): Promise<Verdict | null> {
    for (const rule of rules) {
      const window = Math.floor(this.now() / rule.limit.windowMs);
      try {
        const count = Number((await this.cache.get(this.key(rule, window))) ?? 0);
        if (count >= rule.limit.max) {
          const retryAfterS = Math.max(
            1,
            Math.ceil(((window + 1) * rule.limit.windowMs - this.now()) / 1000),
          );
          return { allowed: false, rule: rule.name, retryAfterS };
        }
      } catch (err) {
        this.logger.warn({ err, rule: rule.name }, 'rate-limit store unavailable');
      }
    }
    return null;
  }

  private key(rule: Rule, window: number): string {
    return `rl:${rule.name}:${hash(rule.subject)}:${window}`;
  }

  /**
   * Counts one attempt against every rule (all of them, so a refused attempt still counts on the other
   * dimensions) and refuses when any is over its limit.
   */
  async check(rules: Rule[]): Promise<Verdict> {
    let verdict: Verdict = { allowed: true };
    await Promise.all(
      rules.map(async (rule) => {
        const window = Math.floor(this.now() / rule.limit.windowMs);
        const key = this.key(rule, window);
        try {
          const count = await this.cache.incrBy(key, 1, rule.limit.windowMs);
          if (count > rule.limit.max) {
            const retryAfterS = Math.max(
              1,
              Math.ceil(((window + 1) * rule.limit.windowMs - this.now()) / 1000),
            );
            if (verdict.allowed || (verdict.retryAfterS ?? 0) < retryAfterS)
              verdict = { allowed: false, rule: rule.name, retryAfterS };
          }
        } catch (err) {
          this.logger.warn({ err, rule: rule.name }, 'rate-limit store unavailable');
          if (rule.failClosed && verdict.allowed)
            verdict = { allowed: false, rule: rule.name, retryAfterS: 5, unavailable: true };
        }
      }),
    );
    return verdict;
  }
}
