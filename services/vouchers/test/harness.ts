/**
 * Test harness for the vouchers subgraph against the real infrastructure: a throwaway database, a private
 * Kafka namespace, real Redis, identity's proofs signed by a local key served as a JWKS, and helpers to
 * call the graph as a signed caller and to publish other domains' events.
 */
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import {
  CardIssuedSchema,
  InstitutionActivationChangedSchema,
  KafkaBus,
  OperatorMembershipChangedSchema,
  buildEvent,
  type EventRecord,
} from '@vtv/events';
import {
  TokenIssuer,
  createLogger,
  generateSigningKey,
  signCaller,
  uuidv7,
  type Caller,
  type ProofPurpose,
} from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import {
  createKafkaNamespace,
  createTestDatabase,
  infraEnv,
  type KafkaNamespace,
  type TestDatabase,
} from '@vtv/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { VouchersConfig } from '../src/config';
import { vouchers, type VouchersServices } from '../src/service';

export const SECRET = 'vouchers-test-internal-secret-0123456789';

export interface Harness {
  running: RunningService<VouchersServices, VouchersConfig>;
  services: VouchersServices;
  issuer: TokenIssuer;
  db: TestDatabase;
  ns: KafkaNamespace;
  bus: KafkaBus;
  gql(caller: Caller | null, query: string, variables?: Record<string, unknown>, key?: string): request.Test;
  /** Publishes events as their producing service would (topic from the record). */
  publish(...records: EventRecord[]): Promise<void>;
  proof(personId: string, purpose: ProofPurpose, subject?: string): Promise<string>;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startHarness(prefix: string, env: Record<string, string> = {}): Promise<Harness> {
  const issuer = new TokenIssuer([await generateSigningKey()]);
  const jwks: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(issuer.jwks()));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  const [db, ns] = await Promise.all([createTestDatabase(prefix), createKafkaNamespace(prefix)]);
  const infra = infraEnv();
  let running: RunningService<VouchersServices, VouchersConfig>;
  try {
    running = await startService(vouchers, {
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: '20',
        REDIS_URL: infra.REDIS_URL,
        KAFKA_BROKERS: ns.brokers,
        EVENTS_NAMESPACE: ns.namespace,
        IDENTITY_JWKS_URL: jwksUrl,
        INTERNAL_AUTH_SECRET: SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        VOUCHER_STATS_CACHE_SECONDS: '0',
        ...env,
      },
    });
  } catch (err) {
    await Promise.allSettled([db.drop(), ns.cleanup()]);
    jwks.close();
    throw err;
  }
  const bus = new KafkaBus({
    brokers: ns.brokers.split(','),
    clientId: `${prefix}-test-producer`,
    logger: createLogger('test', 'warn'),
    namespace: ns.namespace,
  });
  return {
    running,
    services: running.services,
    issuer,
    db,
    ns,
    bus,
    gql(caller, query, variables = {}, key) {
      const req = request(running.app)
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('apollo-require-preflight', 'true');
      if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
      if (key) req.set('idempotency-key', key);
      return req.send({ query, variables });
    },
    publish: (...records) => bus.publish(records),
    proof: (personId, purpose, subject) => issuer.issueProof({ personId, purpose, subject, method: 'PIN' }),
    sql: (text, params = []) => running.deps.ds.query(text, params),
    async stop() {
      await running.stop('test done');
      await bus.close();
      await new Promise((resolve) => jwks.close(resolve));
      await Promise.allSettled([db.drop(), ns.cleanup()]);
    },
  };
}

/** Polls until `probe` returns something other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An event as another service would publish it. */
export function event<Desc extends DescMessage>(
  schema: Desc,
  topic: string,
  subject: string,
  data: MessageInitShape<Desc>,
  source = '/vtv/training',
): EventRecord {
  return buildEvent({ schema, topic, subject, source, data });
}

export const staff = (regionCode: string, permissions: string[], id = uuidv7()): Caller => ({
  kind: 'staff',
  id,
  regionCode,
  permissions,
});

export const person = (id = uuidv7()): Caller => ({ kind: 'person', id, permissions: [] });

export const ts = (d: Date) => timestampFromDate(d);

/** identity's CardIssued, training's institution activation and operator membership, ready to publish. */
export const facts = {
  card: (personId: string, regionCode: string, birthYear = 1990) =>
    event(
      CardIssuedSchema,
      'identity.person.v1',
      personId,
      { personId, regionCode, birthYear, issuedAt: ts(new Date()) },
      '/vtv/identity',
    ),
  institution: (institutionId: string, regionCode: string, active = true) =>
    event(InstitutionActivationChangedSchema, 'training.institution.v1', institutionId, {
      institutionId,
      regionCode,
      active,
      changedAt: ts(new Date()),
    }),
  operator: (institutionId: string, operatorPersonId: string, enabled = true) =>
    event(OperatorMembershipChangedSchema, 'training.institution.v1', institutionId, {
      institutionId,
      operatorPersonId,
      enabled,
      main: false,
      changedAt: ts(new Date()),
    }),
};
