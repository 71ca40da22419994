import type { Logger } from 'pino';

type Step = { name: string; run: () => Promise<unknown> };

/**
 * Ordered shutdown: steps run in registration order (readiness off → stop HTTP → stop consumers and
 * relay → close pools). Each step is bounded so one stuck dependency cannot hold the pod past its grace.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly logger: Logger,
    private readonly stepTimeoutMs = 10_000,
  ) {}

  add(name: string, run: () => Promise<unknown>): this {
    this.steps.push({ name, run });
    return this;
  }

  run(reason: string): Promise<void> {
    this.running ??= (async () => {
      this.logger.info({ reason }, 'shutting down');
      for (const step of this.steps) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('timed out')), this.stepTimeoutMs);
            }),
          ]);
        } catch (err) {
          this.logger.warn({ step: step.name, err }, 'shutdown step failed');
        } finally {
          clearTimeout(timer);
        }
      }
      this.logger.info('shutdown complete');
    })();
    return this.running;
  }

  /** Installs SIGTERM/SIGINT handlers that run the steps and exit. */
  onSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void this.run(signal).then(() => exit(0));
      });
    }
  }
}
