import type { Request, Response, Router } from 'express';
import express from 'express';

export type Check = () => Promise<unknown>;

export interface CheckOptions {
  /**
   * A critical check failing takes the instance out of service (readiness 503). A non-critical one is
   * reported (status 'degraded', still 200): a dependency the instance can work without for a while,
   * such as the broker behind an outbox, must not take every replica out of its Service at once.
   */
  critical?: boolean;
}

/**
 * Liveness says the process runs (never checks dependencies, so a database outage does not restart
 * every pod); readiness says the critical dependencies really answer and reports the others, each
 * check bounded by a timeout.
 */
export class Health {
  private readonly checks = new Map<string, { check: Check; critical: boolean }>();
  private draining = false;

  constructor(private readonly timeoutMs = 2_000) {}

  register(name: string, check: Check, { critical = true }: CheckOptions = {}): this {
    this.checks.set(name, { check, critical });
    return this;
  }

  /** Called first on SIGTERM so load balancers stop sending traffic before the drain. */
  startDraining(): void {
    this.draining = true;
  }

  /** True from the first step of shutdown on: requests arriving now are refused, not started. */
  isDraining(): boolean {
    return this.draining;
  }

  async readiness(): Promise<{ ready: boolean; degraded: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    if (this.draining) return { ready: false, degraded: false, checks: { shutdown: 'draining' } };
    await Promise.all(
      [...this.checks].map(async ([name, { check }]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`timed out after ${this.timeoutMs} ms`)),
                this.timeoutMs,
              );
            }),
          ]);
          results[name] = 'ok';
        } catch (err) {
          results[name] = `failing: ${(err as Error).message}`;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const failing = (critical: boolean) =>
      [...this.checks].some(([name, c]) => c.critical === critical && results[name] !== 'ok');
    return { ready: !failing(true), degraded: failing(false), checks: results };
  }

  router(): Router {
    const router = express.Router();
    router.get('/healthz', (_req: Request, res: Response) => {
      res.json({ status: 'ok' });
    });
    router.get('/readyz', async (_req: Request, res: Response) => {
      const { ready, degraded, checks } = await this.readiness();
      const status = !ready ? 'not ready' : degraded ? 'degraded' : 'ready';
      res.status(ready ? 200 : 503).json({ status, ready, checks });
    });
    return router;
  }
}
