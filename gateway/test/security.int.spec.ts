/**
 * The gateway's security features against a fixture graph (two subgraphs on the kit's real subgraph
 * server, composed here) and real Redis: authentication with a rotating JWKS, the authorization
 * directives, operation limits (with the server time each refusal took), batching, CSRF, trusted
 * operations and introspection in production mode, subgraphs refusing direct calls, masked errors,
 * partial data, header propagation, keep-alive and the guessing throttle.
 */
import { RedisCache } from '@vtv/cache';
import { infraEnv, uniqueName } from '@vtv/testing';
import { signCaller, uuidv7, type SigningKey, type TokenIssuer } from '@vtv/kit';
import request from 'supertest';
import type { Gateway } from '../src/app';
import {
  JwksServer,
  SECRET,
  captureLogger,
  composeFixture,
  issuer,
  newKey,
  startAccounts,
  startExtras,
  startFixtureGateway,
  writeManifest,
  type FixtureSubgraph,
} from './fixtures';

let accounts: FixtureSubgraph;
let extras: FixtureSubgraph;
let jwks: JwksServer;
let keyA: SigningKey;
let tokensA: TokenIssuer;
let dev: Gateway;
let prod: Gateway;
let redis: RedisCache;
let supergraphPath: string;
const devLog = captureLogger();
const subgraphLog = captureLogger('accounts');
const prodLog = captureLogger();
const timings: Record<string, number> = {};

const PRODUCTION_OPERATIONS = {
  Hello: 'query Hello {\n  hello\n}',
  Secret: 'query Secret {\n  secret\n}',
};
let manifest: ReturnType<typeof writeManifest>;

beforeAll(async () => {
  [accounts, extras] = await Promise.all([
    startAccounts(subgraphLog.logger),
    startExtras(captureLogger('extras').logger),
  ]);
  supergraphPath = composeFixture({ accounts: accounts.url, extras: extras.url });
  jwks = await new JwksServer().start();
  keyA = await newKey('key-a');
  jwks.keys = [keyA];
  tokensA = issuer(keyA);
  redis = new RedisCache({ url: infraEnv().REDIS_URL, keyPrefix: `${uniqueName('gw')}:` });
  manifest = writeManifest(PRODUCTION_OPERATIONS);
  ({ gateway: dev } = await startFixtureGateway({
    supergraphPath,
    jwksUrl: jwks.url,
    logger: devLog.logger,
    cache: redis,
    env: {
      JWKS_COOLDOWN_MS: '0',
      RATE_LIMIT_GUARDED: '5/60s',
      RATE_LIMIT_GUARDED_PER_ADDRESS: '8/60s',
      TRUST_PROXY: '1',
    },
  }));
  ({ gateway: prod } = await startFixtureGateway({
    supergraphPath,
    jwksUrl: jwks.url,
    logger: prodLog.logger,
    cache: redis,
    env: { NODE_ENV: 'production', OPERATION_MANIFESTS: manifest.path },
  }));
});

afterAll(async () => {
  await Promise.allSettled([dev?.stop(), prod?.stop()]);
  await Promise.allSettled([accounts?.stop(), extras?.stop(), jwks?.stop()]);
  await redis?.close();
  const lines = Object.entries(timings)
    .map(([k, v]) => `  ${k.padEnd(44)} ${v.toFixed(2)} ms`)
    .join('\n');
  process.stdout.write(`\nGateway refusals, server time (Server-Timing):\n${lines}\n`);
});

function post(gateway: Gateway, body: unknown, token?: string | null, headers: Record<string, string> = {}) {
  const req = request(gateway.app).post('/graphql').set('content-type', 'application/json');
  // Each request from its own address unless the test says otherwise (believed where TRUST_PROXY=1).
  req.set('x-forwarded-for', `10.${rnd()}.${rnd()}.${rnd()}`);
  if (token) req.set('authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(body as object);
}

const rnd = () => Math.floor(Math.random() * 250) + 1;
const serverMs = (res: request.Response) =>
  Number(/dur=([\d.]+)/.exec(res.headers['server-timing'] ?? '')?.[1]);

const person = () => tokensA.issue({ kind: 'person', id: uuidv7(), permissions: [] });

describe('authentication', () => {
  test('a valid token is accepted and the caller reaches the subgraph signed', async () => {
    const token = await tokensA.issue({
      kind: 'staff',
      id: uuidv7(),
      regionCode: '420100',
      permissions: ['x'],
    });
    const res = await post(dev, { query: '{ secret }' }, token).expect(200);
    expect(res.body.data).toEqual({ secret: 'the secret' });
  });

  test('garbage, forged and expired tokens get 401', async () => {
    await post(dev, { query: '{ hello }' }, 'not-a-jwt-at-all').expect(401);
    const forger = issuer(await newKey('key-a')); // same kid, different key
    await post(
      dev,
      { query: '{ hello }' },
      await forger.issue({ kind: 'person', id: uuidv7(), permissions: [] }),
    ).expect(401);
    const expired = await tokensA.issue({ kind: 'person', id: uuidv7(), permissions: [] }, -10);
    const res = await post(dev, { query: '{ hello }' }, expired).expect(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('keys rotate: a token under a new kid makes the gateway refetch the JWKS once', async () => {
    const keyB = await newKey('key-b');
    jwks.keys = [keyB, keyA]; // identity publishes the new key first, keeps the old one
    const before = jwks.fetches;
    const tokenB = await issuer(keyB).issue({ kind: 'person', id: uuidv7(), permissions: [] });
    await post(dev, { query: '{ secret }' }, tokenB).expect(200);
    expect(jwks.fetches).toBe(before + 1);
    // Tokens under the old key still pass, from the cache.
    await post(dev, { query: '{ secret }' }, await person()).expect(200);
    expect(jwks.fetches).toBe(before + 1);
  });

  test('an unknown kid is refused, and refetches are rate-limited by the cooldown', async () => {
    // The production gateway keeps the default 30 s cooldown.
    await post(prod, { query: PRODUCTION_OPERATIONS.Hello }, await person()).expect(200);
    const before = jwks.fetches;
    const stranger = issuer(await newKey('never-published'));
    for (let i = 0; i < 5; i += 1) {
      const t = await stranger.issue({ kind: 'person', id: uuidv7(), permissions: [] });
      await post(prod, { query: PRODUCTION_OPERATIONS.Hello }, t).expect(401);
    }
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });
});

describe('subgraphs refuse calls that did not come through the gateway', () => {
  const direct = (headers: Record<string, string>) =>
    request(accounts.server.app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .set(headers)
      .send({ query: '{ hello }' });

  test('no caller header, a forged one, a stale one: 401 before parsing', async () => {
    expect((await direct({})).status).toBe(401);
    expect(
      (
        await direct({
          'x-vtv-caller': signCaller(
            { kind: 'staff', id: 'x', permissions: [] },
            'wrong-secret-0123456789-0123456789',
          ),
        })
      ).status,
    ).toBe(401);
    const stale = signCaller({ kind: 'person', id: 'x', permissions: [] }, SECRET, Date.now() - 5 * 60_000);
    expect((await direct({ 'x-vtv-caller': stale })).status).toBe(401);
    const ok = signCaller({ kind: 'person', id: 'x', permissions: [] }, SECRET);
    expect((await direct({ 'x-vtv-caller': ok })).status).toBe(200);
  });

  test('a subgraph enforces its own @authenticated even for a correctly signed anonymous caller', async () => {
    const anonymous = signCaller({ kind: 'anonymous', permissions: [] }, SECRET);
    const res = await request(accounts.server.app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('x-vtv-caller', anonymous)
      .send({ query: '{ secret }' });
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('authorization directives (@authenticated, @requiresScopes)', () => {
  test('anonymous callers are refused @authenticated fields, with nothing executed', async () => {
    const res = await post(dev, { query: '{ hello secret }' }).expect(401);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(res.body.errors[0].message).toContain('Query.secret');
  });

  test('@authenticated on a field of another subgraph (entity field) is enforced too', async () => {
    await post(dev, { query: '{ node(id: "1") { rating } }' }).expect(401);
    const res = await post(dev, { query: '{ node(id: "1") { name rating } }' }, await person()).expect(200);
    expect(res.body.data.node).toEqual({ name: 'thing 1', rating: 5 });
  });

  test('@requiresScopes: refused without a matching scope, through fragments too', async () => {
    const query = '{ ...F } fragment F on Query { thing(id: "7") { name } }';
    const res = await post(dev, { query }, await person()).expect(403);
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    // OR of scope sets: a permission …
    const reader = await tokensA.issue({ kind: 'person', id: uuidv7(), permissions: ['things:read'] });
    expect((await post(dev, { query }, reader).expect(200)).body.data.thing.name).toBe('thing 7');
    // … or the caller's kind (kind:staff).
    const staff = await tokensA.issue({ kind: 'staff', id: uuidv7(), regionCode: '420100', permissions: [] });
    await post(dev, { query }, staff).expect(200);
  });

  test('a field-level scope applies wherever the type is reached', async () => {
    const reader = await tokensA.issue({ kind: 'person', id: uuidv7(), permissions: ['things:read'] });
    await post(dev, { query: '{ things(first: 1) { note } }' }, reader).expect(403);
    const owner = await tokensA.issue({ kind: 'person', id: uuidv7(), permissions: ['things:owner'] });
    const res = await post(dev, { query: '{ things(first: 1) { note } }' }, owner).expect(200);
    expect(res.body.data.things[0].note).toBe('owner only');
  });
});

describe('operation limits: bombs refused before planning, cheaply', () => {
  const bombs: Record<string, { body: unknown; code: string; limit?: string }> = {
    'alias bomb (16 aliases)': {
      body: {
        query: `{ thing: things(first: 1) { ${Array.from({ length: 16 }, (_, i) => `a${i}: name`).join(' ')} } }`,
      },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'aliases',
    },
    'root-field bomb (11 root fields)': {
      body: { query: `{ ${Array.from({ length: 11 }, (_, i) => `r${i}: hello`).join(' ')} }` },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'rootFields',
    },
    'depth bomb (14 levels)': {
      body: { query: `{ node(id: "1") { ${'parent { '.repeat(13)}name${' }'.repeat(13)} } }` },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'depth',
    },
    'field bomb (1 500 duplicate fields)': {
      body: { query: `{ ${'hello '.repeat(1500)}}` },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'fields',
    },
    'fragment bomb (2^30 expansions)': {
      body: {
        query:
          '{ ...F0 } fragment F0 on Query { ...F1 ...F1 } ' +
          Array.from(
            { length: 29 },
            (_, i) => `fragment F${i + 1} on Query { ...F${i + 2} ...F${i + 2} }`,
          ).join(' ') +
          ' fragment F30 on Query { hello }',
      },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'fields',
    },
    'cost bomb (50 × 50 × 50 list nesting)': {
      body: { query: '{ things(first: 50) { children(first: 50) { children(first: 50) { name } } } }' },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'cost',
    },
    'token bomb (20 000 tokens)': {
      body: { query: `{ hello ${'@skip(if: false) '.repeat(3_000)}}` },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'tokens',
    },
    'alias bomb (5 000 aliases, stopped by the token cap)': {
      body: { query: `{ ${Array.from({ length: 5_000 }, (_, i) => `a${i}: hello`).join(' ')} }` },
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'tokens',
    },
    'batch of 100 operations': {
      body: Array.from({ length: 100 }, () => ({ query: '{ hello }' })),
      code: 'BATCHING_NOT_SUPPORTED',
    },
    'oversized body (1 MB)': {
      body: { query: `{ hello }`, variables: { pad: 'x'.repeat(1_000_000) } },
      code: 'PAYLOAD_TOO_LARGE',
    },
  };

  test.each(Object.keys(bombs))('%s', async (name) => {
    const bomb = bombs[name]!;
    const planned = accounts.seen.length;
    const res = await post(dev, bomb.body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.errors[0].extensions.code).toBe(bomb.code);
    if (bomb.limit) expect(res.body.errors[0].extensions.limit).toBe(bomb.limit);
    // Cheap means refused before planning: no subgraph was asked. The server time is printed for
    // reading, not asserted — wall-clock goals live in `npm run bench`, not in tests.
    timings[name] = serverMs(res);
    expect(accounts.seen.length).toBe(planned);
  });

  test('the largest document under every limit is still answered', async () => {
    const query = `{ ${'hello '.repeat(499)}}`;
    const res = await post(dev, { query }).expect(200);
    expect(res.body.data).toEqual({ hello: 'world' });
    timings['accepted: 499 duplicate fields (executed)'] = serverMs(res);
  });

  test('a moderately sized list is within the cost budget', async () => {
    const res = await post(dev, { query: '{ things(first: 10) { children(first: 10) { name } } }' }).expect(
      200,
    );
    expect(res.body.data.things).toHaveLength(10);
  });
});

describe('request hygiene', () => {
  test('CSRF prevention: a simple (form-like) request is refused', async () => {
    const res = await request(dev.app)
      .post('/graphql')
      .set('content-type', 'text/plain')
      .send(JSON.stringify({ query: '{ hello }' }));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/CSRF|preflight/i);
    await request(dev.app).get('/graphql').query({ query: '{ hello }' }).expect(400);
    await request(dev.app)
      .get('/graphql')
      .query({ query: '{ hello }' })
      .set('apollo-require-preflight', '1')
      .expect(200);
  });

  test('only allow-listed headers reach subgraphs; the token never does', async () => {
    const before = accounts.seen.length;
    await post(dev, { query: '{ hello }' }, await person(), {
      'accept-language': 'zh-CN',
      'x-device-id': 'device-0001-abcdef',
      'x-evil': 'drop me',
      cookie: 'session=1',
    }).expect(200);
    const seen = accounts.seen.slice(before).at(-1)!.headers;
    expect(seen['accept-language']).toBe('zh-CN');
    expect(seen['x-device-id']).toBe('device-0001-abcdef');
    expect(seen['x-evil']).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen.authorization).toBeUndefined();
    expect(seen['x-vtv-caller']).toMatch(/^v1\./);
    expect(seen['x-request-id']).toBeDefined();
  });

  test('subgraph connections are kept alive and reused', async () => {
    const before = accounts.seen.length;
    for (let i = 0; i < 10; i += 1) await post(dev, { query: '{ hello }' }).expect(200);
    const ports = new Set(accounts.seen.slice(before).map((s) => s.remotePort));
    expect(ports.size).toBe(1);
  });
});

describe('errors', () => {
  test('unexpected errors are masked with a correlation id that is in the server log', async () => {
    const res = await post(dev, { query: '{ hello boom }' }).expect(200);
    expect(res.body.data).toEqual({ hello: 'world', boom: null });
    const [err] = res.body.errors;
    expect(err.message).toBe('Internal server error');
    expect(err.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', correlationId: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/exploded|10\.0\.0\.7|13800138000|stack/);
    // The subgraph masked it and logged the real error under the id the client sees.
    const logged = subgraphLog.lines().find((l) => l.correlationId === err.extensions.correlationId);
    expect(logged).toMatchObject({ level: 'error', msg: 'unexpected error' });
    expect(JSON.stringify(logged)).toContain('database exploded');
    // … with the phone number scrubbed even there.
    expect(JSON.stringify(logged)).not.toContain('13800138000');
  });

  test('a subgraph down: partial data and a masked, retryable UNAVAILABLE error logged with its id', async () => {
    await extras.stop();
    try {
      const res = await post(dev, { query: '{ hello weather }' }).expect(200);
      expect(res.body.data).toEqual({ hello: 'world', weather: null });
      const [err] = res.body.errors;
      expect(err.extensions).toEqual({
        code: 'UNAVAILABLE',
        retryable: true,
        correlationId: expect.any(String),
      });
      expect(JSON.stringify(err)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|extras/);
      const logged = devLog.lines().find((l) => l.correlationId === err.extensions.correlationId);
      expect(logged).toMatchObject({ level: 'error', subgraph: 'extras' });
      // The gateway stays in service (the other subgraphs' fields work) and names the failing one.
      const ready = await request(dev.app).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.checks.subgraphs).toMatch(/failing.*not ready: 127\.0\.0\.1:\d+/);
    } finally {
      extras = await startExtrasOnSamePort(extras);
    }
  });
});

async function startExtrasOnSamePort(old: FixtureSubgraph): Promise<FixtureSubgraph> {
  const port = Number(new URL(old.url).port);
  const fresh = await startExtras(captureLogger('extras').logger);
  // Move the new server to the old port so the composed supergraph stays valid.
  await new Promise<void>((resolve) => fresh.server.httpServer.close(() => resolve()));
  await new Promise<void>((resolve) => fresh.server.httpServer.listen(port, '127.0.0.1', resolve));
  return { ...fresh, url: old.url };
}

describe('production mode', () => {
  test('registered operations run, by exact text or by id', async () => {
    const byText = await post(prod, { query: PRODUCTION_OPERATIONS.Hello }).expect(200);
    expect(byText.body.data).toEqual({ hello: 'world' });
    const hello = manifest.ops.Hello!;
    const byId = await post(prod, { documentId: `sha256:${hello.id}` }).expect(200);
    expect(byId.body.data).toEqual({ hello: 'world' });
    const apq = await post(prod, {
      extensions: { persistedQuery: { version: 1, sha256Hash: hello.id } },
    }).expect(200);
    expect(apq.body.data).toEqual({ hello: 'world' });
    const get = await request(prod.app)
      .get('/graphql')
      .query({ documentId: hello.id })
      .set('apollo-require-preflight', '1')
      .expect(200);
    expect(get.body.data).toEqual({ hello: 'world' });
  });

  test('unregistered operations, even one whitespace away, are refused before parsing', async () => {
    const res = await post(prod, { query: '{ hello }' }).expect(400);
    expect(res.body.errors[0].extensions.code).toBe('OPERATION_NOT_REGISTERED');
    timings['unregistered operation (production)'] = serverMs(res);
    await post(prod, { query: `${PRODUCTION_OPERATIONS.Hello} ` }).expect(400);
    const unknownId = await post(prod, { documentId: 'sha256:' + '0'.repeat(64) }).expect(400);
    expect(unknownId.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  test('introspection is refused', async () => {
    const res = await post(prod, { query: '{ __schema { types { name } } }' }).expect(400);
    expect(res.body.errors[0].extensions.code).toBe('OPERATION_NOT_REGISTERED');
  });

  test('with trusted operations off, introspection and field suggestions are still off', async () => {
    const { gateway: open } = await startFixtureGateway({
      supergraphPath,
      jwksUrl: jwks.url,
      env: { NODE_ENV: 'production', TRUSTED_OPERATIONS: 'off' },
    });
    try {
      const intro = await post(open, { query: '{ __schema { types { name } } }' });
      expect(intro.status).toBe(400);
      expect(intro.body.errors[0].message).toMatch(/introspection/i);
      const typo = await post(open, { query: '{ helo }' });
      expect(typo.body.errors[0].message).not.toMatch(/Did you mean/);
      const devTypo = await post(dev, { query: '{ helo }' });
      expect(devTypo.body.errors[0].message).toMatch(/Did you mean "hello"/);
    } finally {
      await open.stop();
    }
  });

  test('no IDE and no query plans are served', async () => {
    await request(prod.app).get('/graphiql').expect(404);
    const res = await post(prod, { query: PRODUCTION_OPERATIONS.Hello }, null, {
      'apollo-query-plan-experimental': '1',
    }).expect(200);
    expect(res.body.extensions).toBeUndefined();
  });
});

describe('rate limits (Redis)', () => {
  const redeem = 'mutation { redeemVoucher(code: "GUESS-0000") { ok } }';

  test('code guessing is throttled per account', async () => {
    const token = await person();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await post(dev, { query: redeem }, token, { 'x-forwarded-for': `10.1.0.${i}` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.errors[0].extensions).toMatchObject({
          code: 'RATE_LIMITED',
          retryAfter: expect.any(Number),
        });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // Another account is not affected by this one's attempts (a fresh device, the address limit aside).
    await post(dev, { query: redeem }, await person()).expect(200);
  });

  test('per device: switching accounts does not reset the device’s count', async () => {
    const device = { 'x-device-id': `device-${uuidv7()}` };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1)
      statuses.push((await post(dev, { query: redeem }, await person(), device)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  test('per address: anonymous guessing from one address is throttled', async () => {
    const { gateway: fresh } = await startFixtureGateway({
      supergraphPath,
      jwksUrl: jwks.url,
      cache: redis,
      env: { RATE_LIMIT_GUARDED_PER_ADDRESS: '3/60s', RATE_LIMIT_GUARDED: '100/60s', TRUST_PROXY: '1' },
    });
    try {
      const from = { 'x-forwarded-for': '10.200.0.1' };
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await post(fresh, { query: redeem }, null, from)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      // Ordinary operations are not guarded.
      await post(fresh, { query: '{ hello }' }, null, from).expect(200);
    } finally {
      await fresh.stop();
    }
  });

  test('the refused attempts never reached the subgraph', async () => {
    const attempts = accounts.callers.length;
    const token = await person();
    for (let i = 0; i < 8; i += 1)
      await post(dev, { query: redeem }, token, { 'x-device-id': `d-${uuidv7()}` });
    expect(accounts.callers.length - attempts).toBeLessThanOrEqual(5);
  });

  test('failed sign-ins are throttled per address (token guessing)', async () => {
    const { gateway: fresh } = await startFixtureGateway({
      supergraphPath,
      jwksUrl: jwks.url,
      cache: redis,
      env: { RATE_LIMIT_GUARDED_PER_ADDRESS: '3/60s', TRUST_PROXY: '1' },
    });
    try {
      const headers = { 'x-forwarded-for': '10.200.0.2' };
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1)
        statuses.push((await post(fresh, { query: '{ hello }' }, `bad.token.${i}xxxxxx`, headers)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await fresh.stop();
    }
  });
});
