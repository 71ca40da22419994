/**
 * A small closed-loop load generator: `concurrency` workers, each sending its next request as soon as the
 * previous one answered, over keep-alive `node:http` connections (one socket per worker). A warm-up whose
 * samples are dropped, then a measured window. Latencies in milliseconds from a sorted sample array.
 */
import { Agent, request } from 'node:http';
import { cpuMeter, type Component, type CpuReading } from './cpu';

export interface Sample {
  ms: number;
  ok: boolean;
}

export interface LoadResult {
  name: string;
  concurrency: number;
  seconds: number;
  requests: number;
  errors: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Why the run ended early (e.g. out of vouchers), if it did. */
  note?: string;
  /** The first few error descriptions, for the report. */
  errorSamples?: string[];
  /** CPU per completed operation by component, over the measured window. */
  cpu?: CpuReading;
}

export interface PostResult {
  status: number;
  body: string;
}

/** A keep-alive JSON poster bound to one agent. */
export function poster(maxSockets: number): {
  post(url: string, body: unknown, headers?: Record<string, string>): Promise<PostResult>;
  close(): void;
} {
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    post(url, body, headers = {}) {
      const payload = Buffer.from(JSON.stringify(body));
      return new Promise<PostResult>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': String(payload.length),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarise(
  name: string,
  concurrency: number,
  seconds: number,
  samples: Sample[],
  extra: Partial<LoadResult> = {},
): LoadResult {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const errors = samples.filter((s) => !s.ok).length;
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    name,
    concurrency,
    seconds: r2(seconds),
    requests: samples.length,
    errors,
    throughput: r2((samples.length - errors) / seconds),
    p50: r2(percentile(ms, 50)),
    p95: r2(percentile(ms, 95)),
    p99: r2(percentile(ms, 99)),
    max: r2(ms[ms.length - 1] ?? 0),
    ...extra,
  };
}

/**
 * Runs `iteration` from `concurrency` workers for `warmupS + measureS` seconds (or until an iteration
 * returns 'done'); keeps the samples that started inside the measured window.
 */
export async function closedLoop(o: {
  name: string;
  concurrency: number;
  warmupS: number;
  measureS: number;
  /** One unit of work; resolves true when it succeeded, 'done' when there is no more work. */
  iteration: (worker: number) => Promise<boolean | 'done' | string>;
  /** Components whose CPU is metered over the measured window. */
  cpu?: Component[];
}): Promise<LoadResult> {
  const samples: Sample[] = [];
  const errorSamples: string[] = [];
  const t0 = performance.now();
  const measureFrom = t0 + o.warmupS * 1000;
  let meter: ReturnType<typeof cpuMeter> | undefined;
  const metering = o.cpu ? setTimeout(() => (meter = cpuMeter(o.cpu!)), o.warmupS * 1000) : undefined;
  const end = measureFrom + o.measureS * 1000;
  let exhausted = false;
  let lastEnd = measureFrom;
  const worker = async (w: number) => {
    while (!exhausted) {
      const started = performance.now();
      if (started >= end) return;
      let outcome: boolean | 'done' | string;
      try {
        outcome = await o.iteration(w);
      } catch (err) {
        outcome = (err as Error).message ?? String(err);
      }
      if (outcome === 'done') {
        exhausted = true;
        return;
      }
      const finished = performance.now();
      if (started >= measureFrom) {
        samples.push({ ms: finished - started, ok: outcome === true });
        lastEnd = Math.max(lastEnd, finished);
        if (outcome !== true && errorSamples.length < 5) errorSamples.push(String(outcome).slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  clearTimeout(metering);
  const cpu = meter?.stop(samples.length);
  const seconds = exhausted ? (lastEnd - measureFrom) / 1000 : o.measureS;
  return summarise(o.name, o.concurrency, Math.max(seconds, 0.001), samples, {
    ...(cpu ? { cpu } : {}),
    ...(exhausted ? { note: 'work ran out before the window ended' } : {}),
    ...(errorSamples.length ? { errorSamples } : {}),
  });
}
