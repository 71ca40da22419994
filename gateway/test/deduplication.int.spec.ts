/**
 * In-flight deduplication of subgraph reads: identical reads while one is on its way share its fetch;
 * anything that could make the answers differ (caller, variables, forwarded headers) or that writes
 * (mutations) is never shared. Against the fixture graph on the kit's real subgraph server.
 */
import { MemoryCache } from '@vtv/cache';
import { createLogger, uuidv7, type TokenIssuer } from '@vtv/kit';
import type { Gateway } from '../src/app';
import {
  JwksServer,
  NO_RATE_LIMITS,
  composeFixture,
  issuer,
  newKey,
  startAccounts,
  startExtras,
  startFixtureGateway,
  type FixtureSubgraph,
} from './fixtures';

let accounts: FixtureSubgraph;
let extras: FixtureSubgraph;
let jwks: JwksServer;
let tokens: TokenIssuer;
let shared: { gateway: Gateway; url: string };
let unshared: { gateway: Gateway; url: string };

beforeAll(async () => {
  [accounts, extras] = await Promise.all([startAccounts(silent()), startExtras(silent())]);
  const supergraphPath = composeFixture({ accounts: accounts.url, extras: extras.url });
  jwks = await new JwksServer().start();
  const key = await newKey('dedupe');
  jwks.keys = [key];
  tokens = issuer(key);
  const base = { supergraphPath, jwksUrl: jwks.url, cache: new MemoryCache() };
  shared = await startFixtureGateway({ ...base, env: NO_RATE_LIMITS });
  unshared = await startFixtureGateway({
    ...base,
    env: { ...NO_RATE_LIMITS, SUBGRAPH_DEDUPLICATE_QUERIES: 'false' },
  });
});

afterAll(async () => {
  await Promise.allSettled([shared?.gateway.stop(), unshared?.gateway.stop()]);
  await Promise.allSettled([accounts?.stop(), extras?.stop(), jwks?.stop()]);
});

const silent = () => createLogger('fixture', 'silent');

const person = (id = uuidv7()) => tokens.issue({ kind: 'person', id, permissions: [] });

async function ask(
  url: string,
  query: string,
  o: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...o.headers,
    },
    body: JSON.stringify({ query, variables: o.variables ?? {} }),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: unknown[] } };
}

/** Subgraph fetches the accounts fixture received while `work` ran. */
async function fetchesDuring(work: () => Promise<unknown>): Promise<number> {
  const before = accounts.seen.length;
  await work();
  return accounts.seen.length - before;
}

const SLOW = 'query Slow($ms: Int!) { slow(ms: $ms) }';

async function dedupedCount(gateway: Gateway): Promise<number> {
  const text = await gateway.metrics.registry.getSingleMetricAsString('subgraph_requests_deduplicated_total');
  return [...text.matchAll(/subgraph="accounts"} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

test('identical reads of one caller in flight together share one subgraph fetch, each gets the answer', async () => {
  const token = await person();
  const metricBefore = await dedupedCount(shared.gateway);
  let answers: Awaited<ReturnType<typeof ask>>[] = [];
  const fetches = await fetchesDuring(async () => {
    answers = await Promise.all(
      Array.from({ length: 8 }, () => ask(shared.url, SLOW, { token, variables: { ms: 800 } })),
    );
  });
  for (const a of answers) {
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ data: { slow: 'slept 800 ms' } });
  }
  // All eight started within the 800 ms the first one was held: far fewer fetches than requests.
  expect(fetches).toBeGreaterThanOrEqual(1);
  expect(fetches).toBeLessThan(8);
  expect((await dedupedCount(shared.gateway)) - metricBefore).toBe(8 - fetches);
});

test('with deduplication off every request fetches', async () => {
  const token = await person();
  const fetches = await fetchesDuring(() =>
    Promise.all(Array.from({ length: 4 }, () => ask(unshared.url, SLOW, { token, variables: { ms: 200 } }))),
  );
  expect(fetches).toBe(4);
});

test('different callers, variables or forwarded headers are never shared', async () => {
  const [a, b] = [await person(), await person()];
  const fetches = await fetchesDuring(() =>
    Promise.all([
      ask(shared.url, SLOW, { token: a, variables: { ms: 300 } }),
      ask(shared.url, SLOW, { token: b, variables: { ms: 300 } }),
      ask(shared.url, SLOW, { variables: { ms: 300 } }), // anonymous
      ask(shared.url, SLOW, { variables: { ms: 301 } }),
      ask(shared.url, SLOW, { variables: { ms: 300 }, headers: { 'accept-language': 'en' } }),
    ]),
  );
  expect(fetches).toBe(5);
});

test('mutations are never shared, even identical ones from one caller', async () => {
  const token = await person();
  const before = accounts.callers.length;
  const fetches = await fetchesDuring(() =>
    Promise.all(
      Array.from({ length: 4 }, () =>
        ask(shared.url, 'mutation { redeemVoucher(code: "VALID-CODE-0001") { ok } }', { token }),
      ),
    ),
  );
  expect(fetches).toBe(4);
  expect(accounts.callers.length - before).toBe(4);
});

test('a shared failure reaches every waiter as the same masked error, and the next read fetches again', async () => {
  const token = await person();
  const results = await Promise.all(Array.from({ length: 3 }, () => ask(shared.url, '{ boom }', { token })));
  for (const r of results) {
    expect(r.body.data).toEqual({ boom: null });
    expect(JSON.stringify(r.body.errors)).not.toMatch(/10\.0\.0\.7|13800138000/);
  }
  const again = await fetchesDuring(() => ask(shared.url, '{ boom }', { token }));
  expect(again).toBe(1);
});
