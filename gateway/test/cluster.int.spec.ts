/**
 * Cluster mode as deployed: gateway/src/main.ts as a real child process with GATEWAY_WORKERS=2 on PORT=0
 * (node:cluster gives every worker the same port), in front of the fixture graph. Which worker served a
 * request comes from the access log (each worker's lines carry its `worker` id); nothing is added to
 * responses. No speed is asserted: only who answered, what /metrics sums, and how the processes end.
 */
import { createLogger, loadConfig } from '@vtv/kit';
import { spawnTs, type ManagedProcess } from '@vtv/testing';
import { request } from 'node:http';
import { join } from 'node:path';
import { CrashLoop, localUrl } from '../src/cluster';
import { gatewayConfig, workerCount } from '../src/config';
import {
  JwksServer,
  NO_RATE_LIMITS,
  SECRET,
  composeFixture,
  newKey,
  startAccounts,
  startExtras,
  tempDir,
  type FixtureSubgraph,
} from './fixtures';

jest.setTimeout(240_000);

const MAIN = join(__dirname, '..', 'src', 'main.ts');

let accounts: FixtureSubgraph;
let extras: FixtureSubgraph;
let jwks: JwksServer;
let env: Record<string, string>;
const spawned: ManagedProcess[] = [];

beforeAll(async () => {
  const silent = createLogger('fixture', 'silent');
  [accounts, extras] = await Promise.all([startAccounts(silent), startExtras(silent)]);
  jwks = await new JwksServer().start();
  jwks.keys = [await newKey('cluster')];
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    GATEWAY_WORKERS: '2',
    SHUTDOWN_GRACE_MS: '5000',
    SUPERGRAPH_PATH: composeFixture({ accounts: accounts.url, extras: extras.url }),
    SUPERGRAPH_WATCH: 'false',
    INTERNAL_AUTH_SECRET: SECRET,
    JWKS_URL: jwks.url,
    OPERATION_MANIFESTS: join(tempDir(), 'none.json'),
    READINESS_CHECKS_SUBGRAPHS: 'false',
    ...NO_RATE_LIMITS,
  };
});

afterAll(async () => {
  for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  await Promise.allSettled(spawned.map((p) => p.exited));
  await Promise.allSettled([accounts?.stop(), extras?.stop(), jwks?.stop()]);
});

type LogLine = Record<string, unknown> & { msg?: string };

const logLines = (p: ManagedProcess): LogLine[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startCluster(extra: Record<string, string> = {}): Promise<{ p: ManagedProcess; url: string }> {
  const p = spawnTs(MAIN, { ...env, ...extra });
  spawned.push(p);
  await p.waitFor(/gateway cluster ready/, 120_000);
  const ready = logLines(p).find((l) => l.msg === 'gateway cluster ready')!;
  return { p, url: ready.url as string };
}

/** One request on a connection of its own (no keep-alive), so the primary hands each to a worker anew. */
function post(url: string, query: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

async function metrics(url: string): Promise<string> {
  const res = await fetch(new URL('/metrics', url));
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of every series of a metric in Prometheus text. */
const total = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );

/** Access-log lines of /graphql requests, counted per worker id. */
function servedBy(p: ManagedProcess): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of logLines(p))
    if (l.component === 'access' && l.path === '/graphql')
      out.set(l.worker as number, (out.get(l.worker as number) ?? 0) + 1);
  return out;
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function sendHellos(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await post(url, '{ hello }');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { hello: 'world' } });
  }
}

describe('two workers on one port', () => {
  let p: ManagedProcess;
  let url: string;

  beforeAll(async () => {
    ({ p, url } = await startCluster());
  });

  test('requests are served by both workers; /metrics is the sum over the workers', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toMatch(/:0\//);
    const started = logLines(p).filter((l) => l.msg === 'worker started');
    expect(started.map((l) => l.worker)).toEqual([1, 2]);

    await sendHellos(url, 40);
    const served = await until(() => {
      const s = servedBy(p);
      return sum(s) === 40 && s;
    }, 'an access-log line per request');
    expect([...served.keys()].sort()).toEqual([1, 2]);
    for (const n of served.values()) expect(n).toBeGreaterThan(0);

    const text = await metrics(url);
    expect(total(text, 'graphql_requests_total')).toBe(40);
    expect(total(text, 'graphql_request_duration_seconds_count')).toBe(40);
    expect(total(text, 'gateway_cluster_workers')).toBe(2);
    // Counters are summed, not repeated per worker: one series per label set.
    expect(text.match(/^graphql_requests_total\{/gm)).toHaveLength(1);
  });

  test('a worker killed with SIGKILL is replaced, service continues, and its counts stay in /metrics', async () => {
    const victim = logLines(p).find((l) => l.msg === 'worker started' && l.worker === 1)!;
    process.kill(victim.workerPid as number, 'SIGKILL');
    await p.waitFor(/"msg":"worker exited unexpectedly"/, 30_000);
    const exited = logLines(p).find((l) => l.msg === 'worker exited unexpectedly')!;
    expect(exited).toMatchObject({ worker: 1, signal: 'SIGKILL', level: 'error' });

    // Worker 2 answers meanwhile; worker 3 takes worker 1's place.
    await sendHellos(url, 4);
    await until(
      () => logLines(p).some((l) => l.msg === 'gateway worker ready' && l.worker === 3),
      'the replacement worker',
      120_000,
    );
    const before = servedBy(p);
    await sendHellos(url, 20);
    const after = await until(() => {
      const s = servedBy(p);
      return sum(s) === 64 && s;
    }, 'an access-log line per request');
    expect(after.get(3)).toBeGreaterThan(0);
    expect((after.get(2) ?? 0) - (before.get(2) ?? 0)).toBeGreaterThan(0);

    // Worker 1's 20-odd requests were reported at the last scrape: the sum does not fall back.
    const text = await metrics(url);
    expect(total(text, 'graphql_requests_total')).toBe(64);
    expect(total(text, 'gateway_cluster_worker_restarts_total')).toBe(1);
    expect(total(text, 'gateway_cluster_workers')).toBe(2);
  });

  test('SIGTERM: in-flight requests finish, every worker drains, the primary exits 0', async () => {
    const seen = accounts.seen.length;
    const slow = post(url, '{ slow(ms: 1500) }');
    await until(() => accounts.seen.length > seen, 'the slow request to reach the subgraph');
    p.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { slow: 'slept 1500 ms' } });
    expect(await p.exited).toBe(0);
    const lines = logLines(p);
    expect(lines.filter((l) => l.msg === 'worker exited').map((l) => l.worker)).toEqual(
      expect.arrayContaining([2, 3]),
    );
    expect(lines.some((l) => l.msg === 'gateway cluster stopped')).toBe(true);
    // Drained within the grace: nobody had to be killed.
    expect(p.output()).not.toMatch(/killing them/);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toHaveLength(1); // worker 1's
  });
});

test('workers dying over and over: the primary stops the rest and exits 1', async () => {
  const { p } = await startCluster();
  const killed = new Set<number>();
  // Each replacement is killed as soon as it is forked: more than 5 unexpected exits within a minute.
  const killer = setInterval(() => {
    for (const l of logLines(p)) {
      const pid = l.workerPid as number;
      if (l.msg === 'worker started' && !killed.has(pid)) {
        killed.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 50);
  try {
    expect(await p.exited).toBe(1);
  } finally {
    clearInterval(killer);
  }
  const fatal = logLines(p).find((l) => l.level === 'fatal')!;
  expect(fatal.msg).toMatch(/workers crash-looping: more than 5 unexpected exits within 60 s/);
  expect(logLines(p).filter((l) => l.msg === 'worker exited unexpectedly').length).toBe(6);
  expect(logLines(p).some((l) => l.msg === 'gateway cluster stopped')).toBe(true);
});

test('GATEWAY_WORKERS=1 (the default) is one process, as before cluster mode', async () => {
  const p = spawnTs(MAIN, { ...env, GATEWAY_WORKERS: '1' });
  spawned.push(p);
  await p.waitFor(/"msg":"gateway ready"/, 120_000);
  const { url } = logLines(p).find((l) => l.msg === 'gateway ready')! as { url: string };
  await sendHellos(url, 3);
  expect(total(await metrics(url), 'graphql_requests_total')).toBe(3);
  expect(p.output()).not.toMatch(/worker|cluster/);
  p.kill('SIGTERM');
  expect(await p.exited).toBe(0);
});

test('a configuration error exits 78 before any worker is forked', async () => {
  const p = spawnTs(MAIN, { ...env, INTERNAL_AUTH_SECRET: 'too short' });
  spawned.push(p);
  expect(await p.exited).toBe(78);
  expect(p.output()).toMatch(/INTERNAL_AUTH_SECRET/);
  expect(p.output()).not.toMatch(/worker started/);
});

describe('the parts without processes', () => {
  test('a crash loop is more than maxExits unexpected exits within the window', () => {
    const loop = new CrashLoop(2, 1_000);
    expect(loop.record(0)).toBe(false);
    expect(loop.record(500)).toBe(false);
    expect(loop.record(900)).toBe(true);
    // Exits older than the window are forgotten: one a second for ever is not a loop.
    const steady = new CrashLoop(2, 1_000);
    for (let t = 0; t < 10_000; t += 1_000) expect(steady.record(t)).toBe(false);
    expect(steady.recent(9_999)).toBe(1);
  });

  test('GATEWAY_WORKERS=0 means one worker per core', () => {
    expect(workerCount({ GATEWAY_WORKERS: 0 }, 4)).toBe(4);
    expect(workerCount({ GATEWAY_WORKERS: 3 }, 4)).toBe(3);
    expect(workerCount({ GATEWAY_WORKERS: 1 }, 4)).toBe(1);
  });

  test('production cluster mode needs Redis: per-worker counters would multiply every limit', () => {
    const base = { NODE_ENV: 'production', INTERNAL_AUTH_SECRET: SECRET, GATEWAY_WORKERS: '2' };
    expect(() => loadConfig(gatewayConfig, base)).toThrow(/REDIS_URL: is required in production/);
    expect(loadConfig(gatewayConfig, { ...base, REDIS_URL: 'redis://redis:6379' }).GATEWAY_WORKERS).toBe(2);
    expect(loadConfig(gatewayConfig, { ...base, GATEWAY_WORKERS: '1' }).GATEWAY_WORKERS).toBe(1);
  });

  test('the ready URL of a wildcard or IPv6 listener', () => {
    expect(localUrl('0.0.0.0', 4000)).toBe('http://127.0.0.1:4000/graphql');
    expect(localUrl('::', 4000)).toBe('http://127.0.0.1:4000/graphql');
    expect(localUrl('::1', 4000)).toBe('http://[::1]:4000/graphql');
    expect(localUrl('10.0.0.5', 4000)).toBe('http://10.0.0.5:4000/graphql');
  });
});
