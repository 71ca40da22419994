import type { RequestHandler, Response } from 'express';
import type { GatewayMetrics } from './metrics';
import { facts } from './pipeline';

export interface AdmissionLimits {
  /** Requests worked on at once; 0 turns admission control off. */
  maxConcurrent: number;
  /** Requests waiting for a turn; beyond this a request is refused at once. */
  maxQueued: number;
  /** How long a request may wait for its turn before it is refused. */
  queueTimeoutMs: number;
}

interface Waiting {
  res: Response;
  admit(): void;
  timer: NodeJS.Timeout;
  gone: boolean;
}

/**
 * Admission control in front of everything costly (body parsing, token checks, planning): at most
 * `maxConcurrent` requests are worked on, the rest wait in arrival order. Under a flash crowd this turns
 * thousands of half-finished requests interleaving on one event loop into a steady first-come,
 * first-served flow: the first claimers get through (and a template sells out) in the time their own
 * work takes, not the whole crowd's. Beyond the queue, or past the wait, a request gets a retryable 503
 * instead of a timeout deep inside.
 */
export class Admission {
  private active = 0;
  private readonly queue: Waiting[] = [];
  private head = 0;
  private waiting = 0;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly metrics: GatewayMetrics,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting;
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      if (this.limits.maxConcurrent <= 0) return next();
      const admit = () => {
        this.active += 1;
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          this.active -= 1;
          this.drain();
        };
        res.once('finish', release);
        res.once('close', release);
        next();
      };
      if (this.active < this.limits.maxConcurrent && this.queued === 0) return admit();
      if (this.queued >= this.limits.maxQueued) return this.refuse(res, 'overloaded');
      const waiting: Waiting = {
        res,
        admit,
        gone: false,
        timer: setTimeout(() => {
          this.leave(waiting);
          this.refuse(res, 'queue-timeout');
        }, this.limits.queueTimeoutMs),
      };
      // A client that gave up frees its place without waiting for its turn.
      req.socket.once('close', () => this.leave(waiting));
      this.queue.push(waiting);
      this.waiting += 1;
      this.metrics.queued.set(this.waiting);
    };
  }

  private drain(): void {
    while (this.active < this.limits.maxConcurrent && this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.head += 1;
      if (next.gone) continue;
      this.leave(next);
      next.admit();
    }
    // Compact the array now and then instead of shifting on every admission.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.metrics.queued.set(this.waiting);
  }

  private leave(w: Waiting): void {
    if (w.gone) return;
    w.gone = true;
    clearTimeout(w.timer);
    this.waiting -= 1;
    this.metrics.queued.set(this.waiting);
  }

  private refuse(res: Response, reason: 'overloaded' | 'queue-timeout'): void {
    this.metrics.rejections.inc({ reason });
    if (res.locals.facts) facts(res).rejected = reason;
    if (res.headersSent || res.destroyed) return;
    res.setHeader('retry-after', '1');
    res.status(503).json({
      errors: [
        {
          message: 'The gateway is at capacity; retry shortly',
          extensions: { code: 'UNAVAILABLE', retryable: true, reason },
        },
      ],
    });
  }
}
