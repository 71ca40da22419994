/**
 * Admission control: at most MAX_CONCURRENT_REQUESTS worked on at once, the rest served in arrival
 * order, a bounded queue and a bounded wait, each refusal a retryable 503 — against the fixture graph.
 */
import { MemoryCache } from '@vtv/cache';
import { createLogger } from '@vtv/kit';
import type { Gateway } from '../src/app';
import {
  JwksServer,
  NO_RATE_LIMITS,
  composeFixture,
  newKey,
  startAccounts,
  startExtras,
  startFixtureGateway,
  type FixtureSubgraph,
} from './fixtures';

let accounts: FixtureSubgraph;
let extras: FixtureSubgraph;
let jwks: JwksServer;
let supergraphPath: string;
const started: Gateway[] = [];

const noLimits = { ...NO_RATE_LIMITS, SUBGRAPH_DEDUPLICATE_QUERIES: 'false' };

beforeAll(async () => {
  const silent = createLogger('fixture', 'silent');
  [accounts, extras] = await Promise.all([startAccounts(silent), startExtras(silent)]);
  supergraphPath = composeFixture({ accounts: accounts.url, extras: extras.url });
  jwks = await new JwksServer().start();
  jwks.keys = [await newKey('admission')];
});

afterAll(async () => {
  await Promise.allSettled(started.map((g) => g.stop()));
  await Promise.allSettled([accounts?.stop(), extras?.stop(), jwks?.stop()]);
});

async function gateway(env: Record<string, string>) {
  const g = await startFixtureGateway({
    supergraphPath,
    jwksUrl: jwks.url,
    cache: new MemoryCache(),
    env: { ...noLimits, ...env },
  });
  started.push(g.gateway);
  return g;
}

async function slow(url: string, ms: number) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ slow(ms: ${ms}) }` }),
  });
  const body = (await res.json()) as {
    data?: { slow: string };
    errors?: { extensions: Record<string, unknown> }[];
  };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body, at: performance.now() };
}

const queuedGauge = async (g: Gateway) =>
  Number(/gateway_requests_queued (\d+)/.exec(await g.metrics.registry.metrics())?.[1]);

test('past the concurrency limit requests wait their turn, in arrival order; past the queue, a retryable 503', async () => {
  const { gateway: g, url } = await gateway({ MAX_CONCURRENT_REQUESTS: '2', MAX_QUEUED_REQUESTS: '3' });
  const until = async (queued: number) => {
    for (let i = 0; i < 100 && (await queuedGauge(g)) < queued; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await queuedGauge(g)).toBe(queued);
  };
  const order: number[] = [];
  const send = (i: number, ms: number) =>
    slow(url, ms).then((r) => {
      order.push(i);
      return r;
    });
  // Two long requests take both places; three short ones then queue, one after the other.
  const admitted = [send(0, 600), send(1, 600)];
  await new Promise((r) => setTimeout(r, 100));
  await until(0);
  for (const i of [2, 3, 4]) {
    // FIFO admits 2 and 3 when the long two finish, and 4 only after one of them: 4 ends last. Any other
    // order would start 4 earlier, or 2 later, and change who finishes last.
    admitted.push(send(i, i === 4 ? 150 : 100));
    await until(i - 1);
  }
  const refused = await slow(url, 1);
  expect(refused.status).toBe(503);
  expect(refused.retryAfter).toBe('1');
  expect(refused.body.errors?.[0]?.extensions).toMatchObject({
    code: 'UNAVAILABLE',
    retryable: true,
    reason: 'overloaded',
  });
  const results = await Promise.all(admitted);
  for (const r of results) expect(r.status).toBe(200);
  // The queued three were admitted as places freed, first come first served; 2 and 3 together, 4 after.
  expect(order.slice(0, 2).sort()).toEqual([0, 1]);
  expect(order.slice(2, 4).sort()).toEqual([2, 3]);
  expect(order[4]).toBe(4);
  expect(await queuedGauge(g)).toBe(0);
});

test('a request that waits longer than QUEUE_TIMEOUT_MS is refused, and the next one still gets through', async () => {
  const { url } = await gateway({ MAX_CONCURRENT_REQUESTS: '1', QUEUE_TIMEOUT_MS: '150' });
  const holding = slow(url, 800);
  await new Promise((r) => setTimeout(r, 50));
  const waited = await slow(url, 1);
  expect(waited.status).toBe(503);
  expect(waited.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'queue-timeout' });
  expect((await holding).status).toBe(200);
  const after = await slow(url, 1);
  expect(after.status).toBe(200);
});

test('health endpoints are never queued behind GraphQL traffic', async () => {
  const { url } = await gateway({ MAX_CONCURRENT_REQUESTS: '1', MAX_QUEUED_REQUESTS: '0' });
  const holding = slow(url, 500);
  await new Promise((r) => setTimeout(r, 50));
  const health = await fetch(new URL('/healthz', url));
  expect(health.status).toBe(200);
  expect((await slow(url, 1)).status).toBe(503); // no queue at all: refused at once
  expect((await holding).status).toBe(200);
});

test('MAX_CONCURRENT_REQUESTS=0 turns admission control off', async () => {
  const { url } = await gateway({ MAX_CONCURRENT_REQUESTS: '0', MAX_QUEUED_REQUESTS: '0' });
  const all = await Promise.all([1, 2, 3, 4].map(() => slow(url, 100)));
  expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
});
