import type { Logger } from '@vtv/kit';

/**
 * A background job a service runs beside its HTTP server and consumers (an outbox-style sender, a
 * scheduler). Started after the consumers; stopped before the event relay on shutdown.
 */
export interface BackgroundJob {
  readonly name: string;
  start(): void | Promise<void>;
  /** Lets the run in hand finish, then returns; no new run starts. */
  stop(): Promise<void>;
}

export interface PollingJobOptions {
  name: string;
  /** Does one unit of work; returns how much it did. More than zero runs it again at once. */
  run: () => Promise<number>;
  /** Pause between runs that found nothing to do. */
  intervalMs: number;
  /** Ceiling of the exponential backoff after failed runs (default 60 s). */
  maxBackoffMs?: number;
  logger: Logger;
}

/**
 * Runs `run` in a loop: again at once while it finds work, every `intervalMs` when idle, with
 * exponential backoff (and jitter) while it fails, so a broken dependency never becomes a hot loop.
 * Several replicas may run the same job: `run` must claim its work (e.g. FOR UPDATE SKIP LOCKED).
 */
export class PollingJob implements BackgroundJob {
  readonly name: string;
  private running = false;
  private loop?: Promise<void>;
  /** Ends the current pause: `poke` ends idle pauses only, `stop` any pause. */
  private wakeIdle?: () => void;
  private wakeAny?: () => void;
  /** A poke that came while no idle pause was pending: the next idle pause is skipped. */
  private poked = false;
  private failures = 0;

  constructor(private readonly o: PollingJobOptions) {
    this.name = o.name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Cuts the current idle pause short (e.g. right after new work was written). */
  poke(): void {
    this.poked = true;
    this.wakeIdle?.();
  }

  private pause(ms: number, idle: boolean): Promise<void> {
    if (idle && this.poked) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.wakeIdle = undefined;
        this.wakeAny = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      if (idle) this.wakeIdle = done;
      this.wakeAny = done;
    });
  }

  private async runLoop(): Promise<void> {
    const maxBackoff = this.o.maxBackoffMs ?? 60_000;
    while (this.running) {
      try {
        this.poked = false;
        const done = await this.o.run();
        this.failures = 0;
        if (done > 0) continue;
        await this.pause(this.o.intervalMs, true);
      } catch (err) {
        this.failures += 1;
        const backoff = Math.min(maxBackoff, this.o.intervalMs * 2 ** Math.min(this.failures, 16));
        const delay = Math.round(backoff / 2 + Math.random() * (backoff / 2));
        this.o.logger.warn({ err, job: this.name, failures: this.failures, retryInMs: delay }, 'job failed');
        // A poke must not cut a backoff short, or a failing dependency becomes a hot loop.
        await this.pause(delay, false);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeAny?.();
    await this.loop;
  }
}
