import { parse } from 'graphql';
import request from 'supertest';
import { CALLER_HEADER, signCaller } from './caller';
import { Health } from './health';
import { createLogger } from './logger';
import { createSubgraphServer, type SubgraphServer } from './server';

const secret = 'server-spec-secret-0123456789abcdef';
const caller = signCaller({ kind: 'staff', id: 'u1', regionCode: '420100', permissions: [] }, secret);
let executed = 0;

async function server(health: Health): Promise<SubgraphServer> {
  return createSubgraphServer({
    name: 'spec',
    typeDefs: parse('type Query { ping: String }'),
    resolvers: { Query: { ping: () => (executed++, 'pong') } },
    logger: createLogger('spec', 'silent'),
    health,
    internalAuthSecret: secret,
    context: {},
  });
}

const ask = (s: SubgraphServer) =>
  request(s.app)
    .post('/graphql')
    .set(CALLER_HEADER, caller)
    .set('apollo-require-preflight', 'true')
    .send({ query: '{ ping }' });

describe('subgraph server during shutdown', () => {
  it('answers before the drain and refuses with a retryable 503 after it began, without executing', async () => {
    const health = new Health();
    const s = await server(health);
    try {
      const before = await ask(s);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({ data: { ping: 'pong' } });
      expect(executed).toBe(1);

      health.startDraining();
      const during = await ask(s);
      expect(during.status).toBe(503);
      expect(during.headers.connection).toBe('close');
      expect(during.headers['retry-after']).toBe('1');
      expect(during.body.errors[0].extensions).toEqual({ code: 'UNAVAILABLE', retryable: true });
      expect(executed).toBe(1);
      // Probes keep answering: readiness says why it is off, liveness stays on.
      expect((await request(s.app).get('/readyz')).status).toBe(503);
      expect((await request(s.app).get('/healthz')).status).toBe(200);
    } finally {
      await s.apollo.stop();
    }
  });
});

describe('readiness', () => {
  const failing = () => Promise.reject(new Error('broker unreachable'));
  const ok = () => Promise.resolve();

  it('only critical checks gate it; a failing non-critical one makes it degraded', async () => {
    const health = new Health().register('database', ok).register('events', failing, { critical: false });
    expect(await health.readiness()).toEqual({
      ready: true,
      degraded: true,
      checks: { database: 'ok', events: 'failing: broker unreachable' },
    });
    health.register('database', failing);
    expect(await health.readiness()).toMatchObject({ ready: false, degraded: true });
  });

  it('answers 200 degraded, 503 not ready, and 503 draining over HTTP', async () => {
    const health = new Health().register('events', failing, { critical: false });
    const s = await server(health);
    try {
      const degraded = await request(s.app).get('/readyz');
      expect(degraded.status).toBe(200);
      expect(degraded.body).toMatchObject({ status: 'degraded', ready: true });
      health.register('database', failing);
      expect((await request(s.app).get('/readyz')).body).toMatchObject({ status: 'not ready', ready: false });
      health.startDraining();
      const draining = await request(s.app).get('/readyz');
      expect(draining.status).toBe(503);
      expect(draining.body.checks).toEqual({ shutdown: 'draining' });
    } finally {
      await s.apollo.stop();
    }
  });
});
