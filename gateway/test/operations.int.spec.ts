/**
 * Running the gateway: health and readiness, supergraph hot reload keeping the last good one, the
 * query-plan cache warmed from registered operations, RED metrics, structured access logs without
 * personal data, the offline GraphiQL IDE.
 */
import { uuidv7, type TokenIssuer } from '@vtv/kit';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Gateway } from '../src/app';
import {
  JwksServer,
  captureLogger,
  composeFixture,
  issuer,
  newKey,
  startAccounts,
  startExtras,
  startFixtureGateway,
  tempDir,
  writeManifest,
  type FixtureSubgraph,
} from './fixtures';

let accounts: FixtureSubgraph;
let extras: FixtureSubgraph;
let jwks: JwksServer;
let tokens: TokenIssuer;
let gateway: Gateway;
let supergraphPath: string;
let original: string;
const log = captureLogger();

const OPERATIONS = {
  Hello: 'query Hello {\n  hello\n}',
  ThingWithRating: 'query ThingWithRating($id: ID!) {\n  node(id: $id) {\n    name\n    rating\n  }\n}',
  Redeem: 'mutation Redeem($code: String!) {\n  redeemVoucher(code: $code) {\n    ok\n  }\n}',
};
let manifest: ReturnType<typeof writeManifest>;

beforeAll(async () => {
  const quiet = captureLogger('fixture').logger;
  [accounts, extras] = await Promise.all([startAccounts(quiet), startExtras(quiet)]);
  const dir = tempDir();
  supergraphPath = composeFixture({ accounts: accounts.url, extras: extras.url }, dir);
  original = readFileSync(supergraphPath, 'utf8');
  jwks = await new JwksServer().start();
  const key = await newKey();
  jwks.keys = [key];
  tokens = issuer(key);
  manifest = writeManifest(OPERATIONS, dir);
  ({ gateway } = await startFixtureGateway({
    supergraphPath,
    jwksUrl: jwks.url,
    logger: log.logger,
    env: { OPERATION_MANIFESTS: manifest.path, SUPERGRAPH_WATCH: 'true', NODE_ENV: 'development' },
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.allSettled([accounts?.stop(), extras?.stop(), jwks?.stop()]);
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  request(gateway.app)
    .post('/graphql')
    .set('content-type', 'application/json')
    .set(headers)
    .send(body as object);

test('/healthz is up; /readyz reports the supergraph and every subgraph', async () => {
  await request(gateway.app).get('/healthz').expect(200, { status: 'ok' });
  const ready = await request(gateway.app).get('/readyz').expect(200);
  expect(ready.body).toMatchObject({ status: 'ready', checks: { supergraph: 'ok', subgraphs: 'ok' } });
});

test('the query-plan cache is warmed at start from the registered operations', async () => {
  expect(await gateway.warmed()).toBe(3);
  for (const name of Object.keys(OPERATIONS)) expect(await gateway.planCached(name)).toBe(true);
  const token = await tokens.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  const res = await post(
    { query: OPERATIONS.ThingWithRating, operationName: 'ThingWithRating', variables: { id: '4' } },
    { authorization: `Bearer ${token}` },
  ).expect(200);
  expect(res.body.data.node).toEqual({ name: 'thing 4', rating: 5 });
});

test('hot reload: an invalid supergraph is rejected and the last good one keeps serving', async () => {
  const next = gateway.supergraph.nextReload();
  writeFileSync(supergraphPath, 'this is not a supergraph');
  expect(await next).toBe('rejected');
  await post({ query: '{ hello }' }).expect(200);
  expect(log.lines().some((l) => l.msg === 'supergraph reload rejected; keeping the last good one')).toBe(
    true,
  );
});

test('hot reload: a valid new supergraph is applied live, and plans are warmed again', async () => {
  // The same graph without the extras subgraph: `weather` disappears.
  const dir = tempDir();
  const alt = composeFixture({ accounts: accounts.url, extras: extras.url }, dir);
  const without = readFileSync(alt, 'utf8').replace(
    /\n\s*"""From the second subgraph[^"]*"""\n\s*weather: String @join__field\(graph: EXTRAS\)/,
    '',
  );
  expect(without).not.toBe(original);
  expect((await post({ query: '{ weather }' }).expect(200)).body.data).toEqual({ weather: 'sunny' });
  const next = gateway.supergraph.nextReload();
  writeFileSync(supergraphPath, without);
  const outcome = await next;
  if (outcome !== 'applied') console.log(log.lines().filter((l) => l.level === 'error'));
  expect(outcome).toBe('applied');
  const res = await post({ query: '{ weather }' });
  expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(await gateway.warmed()).toBe(3);
  // And back (a copy replaces the file, as `npm run compose` does).
  const restored = gateway.supergraph.nextReload();
  const copy = join(dir, 'restore.graphql');
  writeFileSync(copy, original);
  copyFileSync(copy, supergraphPath);
  expect(await restored).toBe('applied');
  await post({ query: '{ weather }' }).expect(200);
  const metrics = (await request(gateway.app).get('/metrics').expect(200)).text;
  expect(metrics).toMatch(/supergraph_reloads_total\{result="applied"\} 2/);
  expect(metrics).toMatch(/supergraph_reloads_total\{result="rejected"\} 1/);
});

test('RED metrics per operation and per subgraph, in Prometheus format', async () => {
  await post({ query: OPERATIONS.Hello }).expect(200);
  await post({ query: '{ hello boom }' }).expect(200);
  await post({ query: `{ ${'a: hello '.repeat(20)}}` }).expect(400);
  const res = await request(gateway.app).get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/text\/plain/);
  const text = res.text;
  expect(text).toMatch(/graphql_requests_total\{operation="Hello",type="query",outcome="ok"\} \d+/);
  expect(text).toMatch(/graphql_requests_total\{operation="unregistered",type="query",outcome="error"\} \d+/);
  expect(text).toMatch(
    /graphql_request_duration_seconds_bucket\{le="0\.1",operation="Hello",type="query",outcome="ok"\}/,
  );
  expect(text).toMatch(/graphql_errors_total\{operation="unregistered",code="INTERNAL_SERVER_ERROR"\} \d+/);
  expect(text).toMatch(/gateway_rejections_total\{reason="limit-aliases"\} \d+/);
  expect(text).toMatch(/subgraph_requests_total\{subgraph="accounts",operation="Hello",outcome="ok"\} \d+/);
  expect(text).toMatch(
    /subgraph_requests_total\{subgraph="accounts",operation="unregistered",outcome="error"\} \d+/,
  );
  expect(text).toMatch(
    /subgraph_request_duration_seconds_count\{subgraph="accounts",operation="Hello",outcome="ok"\} \d+/,
  );
  expect(text).toMatch(/gateway_process_cpu_seconds_total/);
});

test('access logs are structured and carry no personal data', async () => {
  const token = await tokens.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  const secretCode = 'VOUCHER-CODE-4201-0099-1234';
  const phone = '13912345678';
  await post(
    { query: OPERATIONS.Redeem, variables: { code: secretCode } },
    { authorization: `Bearer ${token}`, 'x-request-id': 'req-0001-abcdef', 'x-device-id': `device-${phone}` },
  ).expect(200);
  const line = log.lines().find((l) => l.msg === 'graphql request' && l.requestId === 'req-0001-abcdef');
  expect(line).toMatchObject({
    component: 'access',
    method: 'POST',
    path: '/graphql',
    status: 200,
    operation: 'Redeem',
    operationType: 'mutation',
    operationId: manifest.ops.Redeem!.id,
    caller: 'person',
    outcome: 'ok',
    durationMs: expect.any(Number),
  });
  const all = JSON.stringify(log.lines());
  expect(all).not.toContain(secretCode);
  expect(all).not.toContain(phone);
  expect(all).not.toContain(token);
});

test('development: a local GraphiQL served from npm packages, no CDN', async () => {
  const page = await request(gateway.app).get('/graphiql').expect(200);
  expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  const srcs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(srcs.length).toBeGreaterThanOrEqual(5);
  for (const src of srcs) {
    expect(src.startsWith('/graphiql/assets/')).toBe(true);
    const asset = await request(gateway.app).get(src).expect(200);
    expect(asset.text.length).toBeGreaterThan(100);
  }
  const redirect = await request(gateway.app).get('/graphql').set('accept', 'text/html');
  expect(redirect.status).toBe(302);
  expect(redirect.headers.location).toBe('/graphiql');
});
