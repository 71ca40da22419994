/**
 * TESTING.md, Faults: "Kafka down for a minute: writes keep succeeding, the outbox grows, the relay backs off
 * without a hot loop and drains on recovery", as a real network outage.
 *
 * The broker of scripts/infra.sh has a second client listener (KAFKA_PROXIED_TARGET, 127.0.0.1:9094) that
 * advertises KAFKA_PROXIED_BROKERS (127.0.0.1:9095), where this test puts a TcpProxy. The training
 * subgraph runs as a real child process whose KAFKA_BROKERS is the proxy, so every byte between its
 * kafkajs clients and the broker passes the proxy, also after the first metadata call. A probe consumer
 * reads the topic straight from the broker (KAFKA_BROKERS).
 *
 * The outage lasts KAFKA_OUTAGE_SECONDS (default 20; scripts/reliability-long.sh runs 60+): black-holed
 * for the first half (connections accepted, nothing answered: a partition), refused for the second half
 * (every connection reset: the broker host is up, Kafka is not). Meanwhile writes keep coming; the last
 * few seconds of the outage are quiet so the process's own CPU time measures what the relay costs while
 * it waits. Then the proxy passes again and the outbox must drain, every event reaching the topic once.
 */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { TOPICS } from '@vtv/events';
import {
  TcpProxy,
  createKafkaNamespace,
  createTestDatabase,
  infraEnv,
  type KafkaNamespace,
  type ManagedProcess,
  type TestDatabase,
} from '@vtv/testing';
import {
  eventually,
  exitWithin,
  probeTopic,
  registerInstitution,
  sleep,
  sql,
  startChildService,
} from './support/child-service';
import { processCpuS } from '../../scripts/bench/cpu';

const OUTAGE_S = Math.max(6, Number(process.env.KAFKA_OUTAGE_SECONDS ?? 20));
/** Quiet seconds at the end of the outage (no writes): the relay alone is measured. */
const QUIET_S = Math.min(10, Math.max(3, Math.round(OUTAGE_S / 4)));
/** Recovery: the relay's backoff is capped at 30 s, kafkajs adds its own retries and timeouts. */
const DRAIN_BOUND_MS = 120_000;
const EXIT_BOUND_MS = 45_000;
const WRITERS = 4;
jest.setTimeout((OUTAGE_S + 300) * 1000);

const ROOT = join(__dirname, '..', '..');
const SECRET = 'kafka-outage-secret-0123456789abcdef-0123';

/** The proxied listener, from the environment or the .infra.env scripts/infra.sh writes. */
function proxiedListener(): {
  proxy: { host: string; port: number };
  target: { host: string; port: number };
} {
  const fromFile: Record<string, string> = {};
  try {
    const text = readFileSync(join(ROOT, '.infra.env'), 'utf8');
    for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) fromFile[m[1]!] = m[2]!.trim();
  } catch {
    // No file: the environment must have them.
  }
  const pick = (name: string) => {
    const v = process.env[name] || fromFile[name];
    if (!v)
      throw new Error(
        `${name} is not set: this test needs the proxied Kafka listener of scripts/infra.sh (run 'npm run infra -- up')`,
      );
    const [host, port] = v.split(':');
    return { host: host!, port: Number(port) };
  };
  return { proxy: pick('KAFKA_PROXIED_BROKERS'), target: pick('KAFKA_PROXIED_TARGET') };
}

let db: TestDatabase | undefined;
let ns: KafkaNamespace | undefined;
let proxy: TcpProxy | undefined;
let proc: ManagedProcess | undefined;
let stopProbe: (() => Promise<void>) | undefined;

afterAll(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.kill('SIGKILL');
  await proc?.exited;
  await stopProbe?.().catch(() => undefined);
  await proxy?.stop();
  await ns?.cleanup(['probe']).catch(() => undefined);
  await db?.drop();
});

it(`Kafka unreachable over the network for ${OUTAGE_S} s: writes succeed, the outbox grows, the relay backs off, then drains; every event once`, async () => {
  const { proxy: at, target } = proxiedListener();
  await assertPortFree(at.port);
  db = await createTestDatabase('kafka_outage');
  ns = await createKafkaNamespace('kafka_outage');
  proxy = new TcpProxy(target.host, target.port);
  await proxy.start(at.port);

  // The probe reads straight from the broker, never through the proxy.
  const probe = await probeTopic(infraEnv().KAFKA_BROKERS, ns.namespace, TOPICS.trainingInstitution.name);
  stopProbe = probe.stop;
  const { received } = probe;

  const started = await startChildService('training', {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: `${at.host}:${at.port}`,
    EVENTS_NAMESPACE: ns.namespace,
    INTERNAL_AUTH_SECRET: SECRET,
    SHUTDOWN_GRACE_MS: '10000',
  });
  proc = started.proc;
  const { url } = started;
  const base = url.replace(/\/graphql$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: WRITERS });
  const write = async (): Promise<Outcome> => {
    const o = await registerInstitution(url, agent, SECRET, 30_000);
    return { ok: o.ok, ms: o.doneAt - o.sentAt, result: o.result, body: o.body };
  };

  // Warm-up through the proxy: the relay's producer is connected and the outbox is empty.
  for (let i = 0; i < 10; i++) expect((await write()).ok).toBe(true);
  await eventually('warm-up events published', async () => (await pending(db!.url)) === 0, 60_000);
  expect(proxy.accepted).toBeGreaterThan(0); // the service really talks to Kafka through the proxy
  expect(await readiness(base)).toMatchObject({ status: 200 });

  // ── the outage ──
  const cpuAtCut = cpuSeconds(proc);
  const acceptedAtCut = proxy.accepted;
  const logAtCut = proc.output().length;
  const cutAt = Date.now();
  proxy.setMode({ kind: 'blackhole' });
  proxy.resetAll();

  const outcomes: Outcome[] = [];
  let writing = true;
  const writers = Array.from({ length: WRITERS }, async () => {
    while (writing) outcomes.push(await write());
  });
  const pendingSamples: number[] = [];
  const readyDuringOutage: Readiness[] = [];
  const halfway = cutAt + (OUTAGE_S * 1000) / 2;
  const quietFrom = cutAt + (OUTAGE_S - QUIET_S) * 1000;
  let refused = false;
  let cpuAtQuiet = 0;
  let quietStartedAt = 0;
  while (Date.now() < cutAt + OUTAGE_S * 1000) {
    if (!refused && Date.now() >= halfway) {
      readyDuringOutage.push(await readiness(base)); // black-holed: the check times out
      proxy.setMode({ kind: 'refuse' });
      proxy.resetAll();
      refused = true;
    }
    if (writing && Date.now() >= quietFrom) {
      writing = false;
      await Promise.all(writers);
      readyDuringOutage.push(await readiness(base)); // refused
      quietStartedAt = Date.now();
      cpuAtQuiet = cpuSeconds(proc);
    }
    pendingSamples.push(await pending(db.url));
    await sleep(1_000);
  }
  const outageEnd = Date.now();
  const cpuAtEnd = cpuSeconds(proc);
  const acceptedInOutage = proxy.accepted - acceptedAtCut;
  const outageLog = proc.output().slice(logAtCut);
  const relayFailures = outageLog.split('\n').filter((l) => l.includes('outbox publish failed'));
  const pendingAtEnd = await pending(db.url);

  // ── recovery ──
  proxy.setMode({ kind: 'pass' });
  const restoredAt = Date.now();
  await eventually(
    'the outbox drained after the outage',
    async () => (await pending(db!.url)) === 0,
    DRAIN_BOUND_MS,
  );
  const drainedMs = Date.now() - restoredAt;
  await eventually('readiness back', async () => (await readiness(base)).status === 200, 60_000);

  const ids = (await sql<{ id: string }>(db.url, 'SELECT id FROM outbox')).map((r) => r.id);
  await eventually(
    'every event on the topic',
    async () => new Set(received.map((e) => e.id)).size >= ids.length,
    60_000,
  );
  await sleep(1_000); // a late duplicate would show now
  const copies = new Map<string, number>();
  for (const e of received) copies.set(e.id, (copies.get(e.id) ?? 0) + 1);
  const duplicates = [...copies].filter(([, n]) => n > 1).length;

  // ── shutdown after an outage: no hang ──
  const termAt = Date.now();
  proc.kill('SIGTERM');
  const exit = await exitWithin(proc, EXIT_BOUND_MS);
  const exitMs = Date.now() - termAt;
  agent.destroy();

  const ok = outcomes.filter((o) => o.ok);
  const latencies = ok.map((o) => o.ms).sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
  const quietS = (outageEnd - quietStartedAt) / 1000;
  const quietCpu = (cpuAtEnd - cpuAtQuiet) / quietS;
  const attemptsBound = relayAttemptBound(OUTAGE_S);
  const acceptedBound = 8 * attemptsBound + 10;
  console.log(
    [
      `Kafka outage ${((outageEnd - cutAt) / 1000).toFixed(1)} s (black-holed, then refused; last ${quietS.toFixed(1)} s without writes):`,
      `${ok.length}/${outcomes.length} writes succeeded (p99 ${p99} ms), outbox pending max ${Math.max(...pendingSamples)} / at end ${pendingAtEnd};`,
      `relay attempts ${relayFailures.length} (bound ${attemptsBound}), connections to the proxy ${acceptedInOutage} (bound ${acceptedBound});`,
      `CPU ${(cpuAtEnd - cpuAtCut).toFixed(2)} s over the outage, ${(quietCpu * 100).toFixed(1)} % of a core while quiet (bound 25 %);`,
      `readiness during the outage ${readyDuringOutage.map((r) => `${r.status} ${r.state} events=${r.events}`).join(', ')};`,
      `drained ${drainedMs} ms after recovery (bound ${DRAIN_BOUND_MS}); ${ids.length} events, ${received.length} received, ${duplicates} duplicated;`,
      `SIGTERM → exit ${exit} in ${exitMs} ms`,
    ].join('\n  '),
  );

  // Writes never depended on Kafka.
  expect(outcomes.filter((o) => !o.ok).map((o) => `${o.result} ${o.body?.slice(0, 200)}`)).toEqual([]);
  expect(ok.length).toBeGreaterThan(0);
  // The outbox grew with every write of the outage, nothing was published, nothing was lost.
  expect(pendingAtEnd).toBe(ok.length);
  expect(Math.max(...pendingSamples)).toBe(ok.length);
  // The relay kept trying, with backoff: a handful of attempts and connections, no hot loop.
  expect(relayFailures.length).toBeGreaterThan(0);
  expect(relayFailures.length).toBeLessThanOrEqual(attemptsBound);
  expect(acceptedInOutage).toBeLessThanOrEqual(acceptedBound);
  expect(quietCpu).toBeLessThan(0.25);
  // Readiness: the 'events' check (an admin describeCluster through the same proxy) fails and is
  // reported, but the service stays in its Service (200, degraded): its writes keep working.
  for (const r of readyDuringOutage) {
    expect(r.status).toBe(200);
    expect(r.state).toBe('degraded');
    expect(r.events).toMatch(/^failing/);
  }
  // Recovery: every event of the outbox reached the topic exactly once.
  expect(new Set(copies.keys())).toEqual(new Set(ids));
  expect(duplicates).toBe(0);
  expect(exit).toBe(0);
});

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Most relay attempts the backoff allows in `seconds` (packages/events/src/outbox.ts: 100 ms × 2^n,
 * at least half of it, capped at 30 s), plus slack for the attempt under way at the cut. A hot loop
 * makes thousands.
 */
function relayAttemptBound(seconds: number): number {
  let t = 0;
  let n = 0;
  while (t < seconds * 1000) {
    n += 1;
    t += Math.min(30_000, 100 * 2 ** Math.min(n, 12)) / 2;
  }
  return n + 3;
}

const cpuSeconds = (p: ManagedProcess) => processCpuS(p.child.pid!);

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', () =>
      reject(new Error(`127.0.0.1:${port} is taken: is another kafka-outage test running?`)),
    );
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

interface Outcome {
  ok: boolean;
  ms: number;
  result: number | string;
  body?: string;
}

interface Readiness {
  status: number;
  /** 'ready', 'degraded' or 'not ready'. */
  state: string;
  events: string;
}

async function readiness(base: string): Promise<Readiness> {
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(15_000) });
  const body = (await res.json()) as { status?: string; checks?: Record<string, string> };
  return { status: res.status, state: body.status ?? '(none)', events: body.checks?.events ?? '(none)' };
}

async function pending(url: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    url,
    'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
  );
  return row!.n;
}
