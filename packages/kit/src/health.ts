import type { Request, Response, Router } from 'express';
import express from 'express';

export type Check = () => Promise<unknown>;

/**
 * Liveness says the process runs (never checks dependencies, so a database outage does not restart
 * every pod); readiness says each dependency really answers, each check bounded by a timeout.
 */
export class Health {
  private readonly checks = new Map<string, Check>();
  private draining = false;

  constructor(private readonly timeoutMs = 2_000) {}

  register(name: string, check: Check): this {
    this.checks.set(name, check);
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

  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    if (this.draining) return { ready: false, checks: { shutdown: 'draining' } };
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
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
    return { ready: Object.values(results).every((r) => r === 'ok'), checks: results };
  }

  router(): Router {
    const router = express.Router();
    router.get('/healthz', (_req: Request, res: Response) => {
      res.json({ status: 'ok' });
    });
    router.get('/readyz', async (_req: Request, res: Response) => {
      const report = await this.readiness();
      res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not ready', ...report });
    });
    return router;
  }
}
