/**
 * Test harness for the careers integration tests: a throwaway database, a private Kafka namespace (or
 * the in-process bus), the service started as in production, and helpers to call its graph and publish
 * other domains' contract events. Everything is removed by stop().
 */
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { KafkaBus, buildEvent, type EventRecord } from '@vtv/events';
import { createLogger, signCaller, type Caller } from '@vtv/kit';
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
import type { CareersConfig } from '../src/config';
import { careers, type CareersServices } from '../src/service';
import { addDays, chinaToday } from '../src/services/dates';

export const SECRET = 'careers-test-secret-0123456789abcdef';

export interface Harness {
  running: RunningService<CareersServices, CareersConfig>;
  db: TestDatabase;
  kafka: KafkaNamespace | null;
  /** Publishes contract events into the namespace (Kafka) or the in-process bus. */
  publish(records: EventRecord[]): Promise<void>;
  gql(
    caller: Caller | null,
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): request.Test;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Real Kafka (a private namespace) instead of the in-process bus. */
  kafka?: boolean;
  env?: Record<string, string>;
}

/**
 * A loaded shared broker sometimes fails topic creation half-way ("does not host this topic-partition");
 * createKafkaNamespace then removes what it made, so trying again with a fresh namespace is safe.
 */
async function namespaceWithRetries(prefix: string, attempts = 3): Promise<KafkaNamespace> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await createKafkaNamespace(prefix);
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

export async function startHarness(prefix: string, o: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDatabase(prefix);
  let kafka: KafkaNamespace | null = null;
  let publisher: KafkaBus | null = null;
  let running: RunningService<CareersServices, CareersConfig> | undefined;
  try {
    const {
      KAFKA_BROKERS: _k,
      REDIS_URL: _r,
      EVENTS_NAMESPACE: _n,
      SMS_PROVIDER_URL: _s,
      ...base
    } = process.env;
    const env: Record<string, string | undefined> = {
      ...base,
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      INTERNAL_AUTH_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      ...o.env,
    };
    if (o.kafka) {
      kafka = await namespaceWithRetries(prefix);
      env.KAFKA_BROKERS = infraEnv().KAFKA_BROKERS;
      env.EVENTS_NAMESPACE = kafka.namespace;
      publisher = new KafkaBus({
        brokers: kafka.brokers.split(','),
        clientId: 'careers-test-publisher',
        logger: createLogger('careers-test', 'warn'),
        namespace: kafka.namespace,
      });
    }
    running = await startService(careers, { env });
  } catch (err) {
    await running?.stop().catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    await kafka?.cleanup().catch(() => undefined);
    await db.drop().catch(() => undefined);
    throw err;
  }
  const r = running;
  return {
    running: r,
    db,
    kafka,
    publish: (records) => (publisher ?? r.deps.bus).publish(records),
    gql(caller, query, variables = {}, headers = {}) {
      const req = request(r.app)
        .post('/graphql')
        .set('apollo-require-preflight', 'true')
        .set('content-type', 'application/json');
      if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
      for (const [k, v] of Object.entries(headers)) req.set(k, v);
      return req.send({ query, variables });
    },
    query: (sql, params = []) => r.deps.ds.query(sql, params),
    async stop() {
      await r.stop().catch(() => undefined);
      await publisher?.close().catch(() => undefined);
      await kafka?.cleanup().catch(() => undefined);
      await db.drop();
    },
  };
}

/** Polls until `probe` returns something other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A contract event as another domain would publish it. */
export function contractEvent<Desc extends DescMessage>(
  schema: Desc,
  topic: string,
  subject: string,
  source: string,
  data: MessageInitShape<Desc>,
  at = new Date(),
): EventRecord {
  return buildEvent({ schema, topic, subject, source, data }, at);
}

export const ts = (d: Date) => timestampFromDate(d);

/** A date `days` away from today in China, YYYY-MM-DD. */
export function daysFromToday(days: number): string {
  return addDays(chinaToday(), days);
}

export const person = (id: string): Caller => ({ kind: 'person', id, permissions: [] });

export interface SmsRequest {
  headers: Record<string, string | string[] | undefined>;
  body: {
    messageId: string;
    recipient: { personId: string };
    template: string;
    params: Record<string, unknown>;
  };
}

export interface SmsServer {
  url: string;
  requests: SmsRequest[];
  /** Decides each answer: a status (with an optional JSON body), or 'drop' to cut the connection. */
  respond: (req: SmsRequest, n: number) => number | 'drop';
  close(): Promise<void>;
}

/** A stand-in SMS gateway on 127.0.0.1 (port 0) that records what it receives. */
export async function startSmsServer(): Promise<SmsServer> {
  const server: SmsServer & { http?: Server } = {
    url: '',
    requests: [],
    respond: () => 200,
    close: async () => {
      server.http?.closeAllConnections();
      await new Promise<void>((resolve) => server.http?.close(() => resolve()));
    },
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: SmsRequest = {
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as SmsRequest['body'],
      };
      server.requests.push(record);
      const answer = server.respond(record, server.requests.length);
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          answer < 300 ? { messageId: `gw-${record.body.messageId}` } : { error: 'unavailable' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address() as AddressInfo;
  server.http = http;
  server.url = `http://127.0.0.1:${address.port}/sms/send`;
  return server;
}
