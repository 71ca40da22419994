/**
 * Cluster mode (GATEWAY_WORKERS > 1): a primary process that serves nothing itself and keeps N worker
 * processes (node:cluster) running, each a complete gateway listening on the same port. The primary
 * accepts connections and hands them to the workers in turn (Node's round-robin scheduling).
 *
 * - A worker that dies while the cluster is not shutting down is replaced at once, logged at error with
 *   its exit code or signal. More than `maxExits` such exits within `windowMs` is a crash loop: the
 *   primary logs fatal, stops the survivors and exits 1, so the orchestrator restarts the pod.
 * - SIGTERM/SIGINT: no more replacements; every worker gets SIGTERM and runs its own drain; the primary
 *   waits for all of them, at most `graceMs` + `marginMs`, SIGKILLs whatever is left and exits 0.
 * - /metrics: the worker that gets the scrape asks the primary over IPC; the primary collects every
 *   listening worker's registry (`getMetricsAsJSON()`) and merges them with prom-client's
 *   `AggregatorRegistry.aggregate` (counters and histograms summed, gauges per their aggregator, default
 *   sum), plus the primary's own cluster metrics. Only workers that already listen are asked, and a
 *   worker that exits mid-scrape is dropped from it: prom-client's `clusterMetrics()` asks every
 *   connected worker, and one still starting up (no IPC listener yet: its message is lost) or dying
 *   holds the scrape for 5 s and fails it. The counters and histograms a worker last reported outlive it:
 *   without them the cluster's sums would fall when a worker is replaced, and Prometheus reads any fall
 *   of a counter as a reset to zero, so rate() would count the survivors' totals again as new.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@vtv/kit';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** One registry's metrics as `getMetricsAsJSON()` gives them: what workers send the primary. */
type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const METRICS_REQUEST = 'vtv-gateway:metrics-request';
const METRICS_RESPONSE = 'vtv-gateway:metrics-response';
const WORKER_METRICS_REQUEST = 'vtv-gateway:worker-metrics-request';
const WORKER_METRICS_RESPONSE = 'vtv-gateway:worker-metrics-response';

interface Message {
  type: string;
  id: number;
}
interface MetricsResponse extends Message {
  text?: string;
  error?: string;
}
interface WorkerMetricsResponse extends Message {
  metrics?: MetricsJson;
  error?: string;
}

/** Counters and histograms only ever grow: those an exited worker reported stay in the cluster's sums. */
const monotonic = (metrics: MetricsJson): MetricsJson =>
  metrics.filter((m) => String(m.type) === 'counter' || String(m.type) === 'histogram');

/** The URL a local client reaches a listener at (a wildcard address means loopback will do). */
export function localUrl(address: string | null | undefined, port: number): string {
  const host =
    !address || address === '0.0.0.0' || address === '::'
      ? '127.0.0.1'
      : address.includes(':')
        ? `[${address}]`
        : address;
  return `http://${host}:${port}/graphql`;
}

const isMessage = (m: unknown, type: string): m is Message =>
  typeof m === 'object' &&
  m !== null &&
  (m as Message).type === type &&
  typeof (m as Message).id === 'number';

/** Crash-loop detection: more than `maxExits` unexpected exits within any `windowMs`. */
export class CrashLoop {
  private readonly exits: number[] = [];

  constructor(
    readonly maxExits = 5,
    readonly windowMs = 60_000,
  ) {}

  /** Records an unexpected exit at `now`; true when that makes a crash loop. */
  record(now: number): boolean {
    this.exits.push(now);
    while (this.exits.length && this.exits[0]! <= now - this.windowMs) this.exits.shift();
    return this.exits.length > this.maxExits;
  }

  /** Unexpected exits within the window ending at `now`. */
  recent(now: number): number {
    return this.exits.filter((t) => t > now - this.windowMs).length;
  }
}

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** SHUTDOWN_GRACE_MS: how long each worker's drain may take. */
  graceMs: number;
  /** Added to graceMs before leftovers are killed (the worker's other shutdown steps). */
  marginMs?: number;
  crashLoop?: CrashLoop;
  /** How long a scrape waits for the workers' registries. */
  scrapeTimeoutMs?: number;
  exit?: (code: number) => void;
}

export interface Primary {
  /** Resolves once every worker of the first generation listens. */
  ready: Promise<void>;
  shutdown(reason: string, code?: number): Promise<void>;
}

/** Runs this process as the cluster primary: forks, replaces, aggregates metrics, shuts down. */
export function runPrimary(o: PrimaryOptions): Primary {
  const { logger } = o;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const marginMs = o.marginMs ?? 5_000;
  const crashLoop = o.crashLoop ?? new CrashLoop();
  const scrapeTimeoutMs = o.scrapeTimeoutMs ?? 5_000;

  const registry = new Registry();
  const workersUp = new Gauge({
    name: 'gateway_cluster_workers',
    help: 'Gateway worker processes listening (cluster mode)',
    registers: [registry],
    aggregator: 'sum',
  });
  const restarts = new Counter({
    name: 'gateway_cluster_worker_restarts_total',
    help: 'Workers forked to replace one that exited unexpectedly (cluster mode)',
    registers: [registry],
  });

  const listening = new Set<number>();
  const pids = new Map<number, number>();
  let stopping: Promise<void> | undefined;
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let firstGeneration = o.workers;

  const fork = (): Worker => {
    const worker = cluster.fork();
    pids.set(worker.id, worker.process.pid!);
    logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker started');
    return worker;
  };

  cluster.on('listening', (worker, address) => {
    listening.add(worker.id);
    workersUp.set(listening.size);
    if (firstGeneration > 0 && --firstGeneration === 0) {
      logger.info(
        { workers: listening.size, url: localUrl(address.address, address.port) },
        'gateway cluster ready',
      );
      markReady();
    }
  });

  // Scrapes in flight: which workers still owe their registry.
  const scrapes = new Map<number, { owed: Set<number>; got: MetricsJson[]; finish: () => void }>();
  let scrapeIds = 0;
  // Each live worker's last report, and the counters of exited workers folded into one set.
  const lastReported = new Map<number, MetricsJson>();
  let retired: MetricsJson = [];
  let retiring = Promise.resolve();
  const retire = (last: MetricsJson) => {
    retiring = retiring
      .then(async () => {
        retired = await AggregatorRegistry.aggregate([retired, monotonic(last)]).getMetricsAsJSON();
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not keep an exited worker’s counters'));
  };

  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    workersUp.set(listening.size);
    for (const s of scrapes.values()) if (s.owed.delete(worker.id)) s.finish();
    const last = lastReported.get(worker.id);
    lastReported.delete(worker.id);
    if (last) retire(last);
    const facts = { worker: worker.id, workerPid: pids.get(worker.id), code, signal };
    pids.delete(worker.id);
    if (stopping) {
      logger.info(facts, 'worker exited');
      return;
    }
    logger.error(facts, 'worker exited unexpectedly');
    if (crashLoop.record(Date.now())) {
      logger.fatal(
        { exits: crashLoop.recent(Date.now()), windowMs: crashLoop.windowMs },
        `workers crash-looping: more than ${crashLoop.maxExits} unexpected exits within ${crashLoop.windowMs / 1000} s`,
      );
      void shutdown('crash loop', 1);
      return;
    }
    restarts.inc();
    fork();
  });

  const collect = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = ++scrapeIds;
      const owed = new Set<number>();
      const got: MetricsJson[] = [];
      let done = false;
      const timer = setTimeout(
        () => settle(new Error(`workers ${[...owed].join(', ')} did not answer`)),
        scrapeTimeoutMs,
      );
      const settle = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        scrapes.delete(id);
        if (err) return reject(err);
        void retiring
          .then(() => registry.getMetricsAsJSON())
          .then((own) => AggregatorRegistry.aggregate([...got, retired, own]).metrics())
          .then(resolve, reject);
      };
      const scrape = { owed, got, finish: () => owed.size === 0 && settle() };
      scrapes.set(id, scrape);
      for (const wid of listening) {
        const w = cluster.workers?.[wid];
        if (w?.isConnected()) {
          owed.add(wid);
          w.send({ type: WORKER_METRICS_REQUEST, id } satisfies Message);
        }
      }
      scrape.finish();
    });

  cluster.on('message', (worker, msg: unknown) => {
    if (isMessage(msg, WORKER_METRICS_RESPONSE)) {
      const r = msg as WorkerMetricsResponse;
      const s = scrapes.get(r.id);
      if (!s || !s.owed.delete(worker.id)) return;
      if (r.metrics) {
        s.got.push(r.metrics);
        lastReported.set(worker.id, r.metrics);
      } else logger.warn({ worker: worker.id, error: r.error }, 'worker could not read its metrics');
      s.finish();
    } else if (isMessage(msg, METRICS_REQUEST)) {
      const reply = (r: Omit<MetricsResponse, 'type' | 'id'>) => {
        if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id: msg.id, ...r });
      };
      collect().then(
        (text) => reply({ text }),
        (err: Error) => reply({ error: err.message }),
      );
    }
  });

  const shutdown = (reason: string, code = 0): Promise<void> => {
    stopping ??= (async () => {
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      logger.info({ reason, workers: alive.length }, 'stopping workers');
      const exited = alive.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
      for (const w of alive) w.process.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), o.graceMs + marginMs);
      });
      if ((await Promise.race([Promise.all(exited), bound])) === 'timeout') {
        const left = alive.filter((w) => !w.isDead());
        logger.warn(
          { workers: left.map((w) => ({ worker: w.id, workerPid: w.process.pid })) },
          `workers still running ${o.graceMs + marginMs} ms after SIGTERM: killing them`,
        );
        for (const w of left) w.process.kill('SIGKILL');
        await Promise.all(exited);
      }
      clearTimeout(timer);
      logger.info({ reason }, 'gateway cluster stopped');
      exit(code);
    })();
    return stopping;
  };

  logger.info({ workers: o.workers }, 'gateway cluster starting');
  for (let i = 0; i < o.workers; i++) fork();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(signal));
  return { ready, shutdown };
}

/**
 * In a worker: answers the primary's requests for this worker's registry, and returns the function
 * /metrics uses to get the whole cluster's view from the primary.
 */
export function clusterMetricsClient(registry: Registry, timeoutMs = 10_000): () => Promise<string> {
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let ids = 0;
  process.on('message', (msg: unknown) => {
    if (isMessage(msg, WORKER_METRICS_REQUEST)) {
      const reply = (r: Omit<WorkerMetricsResponse, 'type' | 'id'>) => {
        if (process.connected) process.send!({ type: WORKER_METRICS_RESPONSE, id: msg.id, ...r });
      };
      registry.getMetricsAsJSON().then(
        (metrics) => reply({ metrics }),
        (err: Error) => reply({ error: err.message }),
      );
    } else if (isMessage(msg, METRICS_RESPONSE)) {
      const r = msg as MetricsResponse;
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (r.text !== undefined) p?.resolve(r.text);
      else p?.reject(new Error(r.error ?? 'no metrics'));
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      if (!process.connected) return reject(new Error('not connected to the cluster primary'));
      const id = ++ids;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the cluster primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send!({ type: METRICS_REQUEST, id } satisfies Message, undefined, {}, (err) => {
        if (!err) return;
        pending.get(id)?.reject(err);
        pending.delete(id);
      });
    });
}
