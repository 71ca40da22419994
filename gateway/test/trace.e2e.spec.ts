/**
 * One business action, one trace: a class plan approved through the gateway is traced from the
 * client's request through the gateway, training (its HTTP server, its SQL, the outbox relay's
 * publish to Kafka) to vouchers' consumer, against real PostgreSQL, Kafka and Redis.
 *
 * Why child processes: OpenTelemetry's auto-instrumentation hooks `http` and `pg` by patching Node's
 * module loader before they are first required. Jest loads modules through its own registry, so the
 * patch never sees them, and one process would also give every service the same service.name. So the
 * gateway, training and vouchers run here exactly as deployed — `tsx <service>/src/main.ts`, whose
 * first import starts telemetry — each exporting OTLP/HTTP (JSON) to a small receiver in this test.
 */
import {
  createKafkaNamespace,
  createTestDatabase,
  infraEnv,
  type KafkaNamespace,
  type TestDatabase,
} from '@vtv/testing';
import { TokenIssuer, generateSigningKey, uuidv7 } from '@vtv/kit';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { creditCodeCheckChar } from '../../services/training/src/services/credit-code';

jest.setTimeout(180_000);

const root = join(__dirname, '..', '..');
const SECRET = 'trace-test-internal-secret-0123456789-abcdef';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP receiver (JSON encoding, what @opentelemetry/exporter-trace-otlp-http sends). */
class OtlpReceiver {
  readonly spans: Span[] = [];
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.ingest(Buffer.concat(chunks).toString('utf8'));
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
  }

  private ingest(body: string): void {
    type Attr = { key: string; value: Record<string, unknown> };
    const attrs = (list: Attr[] = []) =>
      Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
    const payload = JSON.parse(body) as {
      resourceSpans: {
        resource: { attributes: Attr[] };
        scopeSpans: { spans: (Omit<Span, 'service' | 'attributes'> & { attributes: Attr[] })[] }[];
      }[];
    };
    for (const rs of payload.resourceSpans) {
      const service = String(attrs(rs.resource.attributes)['service.name']);
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) this.spans.push({ ...s, service, attributes: attrs(s.attributes) });
    }
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up`);
}

const receiver = new OtlpReceiver();
const children: ChildProcess[] = [];
const output: string[] = [];
let databases: TestDatabase[] = [];
let kafka: KafkaNamespace;
let jwks: Server;
let tokens: TokenIssuer;
let gatewayUrl: string;

function run(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      INTERNAL_AUTH_SECRET: SECRET,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: name,
      // Export quickly, so the test need not wait the default 5 s batches.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => output.push(`[${name}] ${b.toString()}`);
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  children.push(child);
  return child;
}

beforeAll(async () => {
  const infra = infraEnv();
  await receiver.start();
  const key = await generateSigningKey();
  tokens = new TokenIssuer([key]);
  jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [key.publicJwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  kafka = await createKafkaNamespace('trace');
  databases = await Promise.all([createTestDatabase('trace_training'), createTestDatabase('trace_vouchers')]);
  const [trainingPort, vouchersPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const common = {
    REDIS_URL: infra.REDIS_URL,
    KAFKA_BROKERS: kafka.brokers,
    EVENTS_NAMESPACE: kafka.namespace,
    IDENTITY_JWKS_URL: jwksUrl,
  };
  const training = run('training', 'services/training/src/main.ts', {
    ...common,
    PORT: String(trainingPort),
    DATABASE_URL: databases[0]!.url,
  });
  const vouchers = run('vouchers', 'services/vouchers/src/main.ts', {
    ...common,
    PORT: String(vouchersPort),
    DATABASE_URL: databases[1]!.url,
  });
  const gateway = run('gateway', 'gateway/src/main.ts', {
    PORT: String(gatewayPort),
    HOST: '127.0.0.1',
    SUPERGRAPH_PATH: join(root, 'schema', 'supergraph.graphql'),
    OPERATION_MANIFESTS: join(root, 'schema', 'operations', 'manifest.json'),
    SUPERGRAPH_WATCH: 'false',
    JWKS_URL: jwksUrl,
    TRAINING_URL: `http://127.0.0.1:${trainingPort}/graphql`,
    VOUCHERS_URL: `http://127.0.0.1:${vouchersPort}/graphql`,
  });
  try {
    await Promise.all([
      waitFor(`http://127.0.0.1:${trainingPort}/healthz`, training),
      waitFor(`http://127.0.0.1:${vouchersPort}/readyz`, vouchers),
      waitFor(`http://127.0.0.1:${gatewayPort}/healthz`, gateway),
    ]);
  } catch (err) {
    process.stderr.write(output.join(''));
    throw err;
  }
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          const force = setTimeout(() => c.kill('SIGKILL'), 15_000);
          c.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  await Promise.allSettled(databases.map((d) => d.drop()));
  await kafka?.cleanup().catch(() => undefined);
  await receiver.stop();
  await new Promise((resolve) => jwks?.close(resolve));
});

const manifest = JSON.parse(readFileSync(join(root, 'schema', 'operations', 'manifest.json'), 'utf8')) as {
  operations: { id: string; name: string }[];
};
const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;

async function call(
  token: string,
  operation: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Record<string, { errors: unknown[] } & Record<string, unknown>>> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ documentId: `sha256:${idOf(operation)}`, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, never>; errors?: unknown };
  if (!body.data) throw new Error(`${operation}: ${JSON.stringify(body)}`);
  return body.data;
}

function creditCode(): string {
  const first17 = `91420100${String(Date.now()).slice(-9)}`;
  return first17 + creditCodeCheckChar(first17);
}

test('one trace spans client → gateway → training → outbox → Kafka → vouchers’ consumer', async () => {
  const staff = await tokens.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420100',
    permissions: ['training:institution:write', 'training:class:submit', 'training:class:approve'],
  });
  const operatorId = uuidv7();
  const operator = await tokens.issue({ kind: 'person', id: operatorId, permissions: [] });
  const reg = await call(staff, 'RegisterInstitution', {
    input: {
      name: '武汉市江岸区职业培训学校',
      creditCode: creditCode(),
      regionCode: '420102',
      address: '江岸区解放大道1000号',
      latitude: 30.6,
      longitude: 114.3,
      mainOperatorPersonId: operatorId,
    },
  });
  expect(reg.registerInstitution!.errors).toEqual([]);
  const institutionId = (reg.registerInstitution!.institution as { id: string }).id;
  const sub = await call(operator, 'SubmitClassPlan', {
    input: {
      institutionId,
      name: '电工（四级）培训班',
      occupation: '电工',
      trainingType: '岗位技能提升培训',
      level: '四级',
      headcount: 30,
      startDate: '2026-12-01',
      endDate: '2026-12-20',
      courses: [{ name: '低压电器', hours: 24 }],
      sessions: [
        { startsAt: '2026-12-01T09:00:00+08:00', endsAt: '2026-12-01T12:00:00+08:00', courseIndex: 0 },
      ],
      rosterPersonIds: [uuidv7(), uuidv7()],
    },
  });
  expect(sub.submitClassPlan!.errors).toEqual([]);
  const classId = (sub.submitClassPlan!.trainingClass as { id: string }).id;

  // The client starts the trace: its traceparent is honoured by the gateway's HTTP instrumentation.
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  const approved = await call(
    staff,
    'ApproveClassPlan',
    { id: classId },
    { traceparent: `00-${traceId}-${clientSpanId}-01` },
  );
  expect(approved.approveClassPlan!.errors).toEqual([]);

  const deadline = Date.now() + 60_000;
  const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
  const consumed = () => inTrace().find((s) => s.service === 'vouchers' && / process$/.test(s.name));
  while (!consumed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  await new Promise((r) => setTimeout(r, 1_000)); // the last batches (the consumer's SQL) arrive
  const spans = inTrace();
  const summary = spans.map((s) => `${s.service}: ${s.name}`).sort();
  expect(consumed()).toBeDefined();

  // Every process took part …
  expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'training', 'vouchers']));
  // … along the whole path (OTLP span kinds: 2 server, 3 client, 4 producer, 5 consumer).
  const has = (service: string, kind: number, name?: RegExp) =>
    spans.some((s) => s.service === service && s.kind === kind && (!name || name.test(s.name)));
  expect(has('gateway', 2)).toBe(true);
  expect(summary).toEqual(expect.arrayContaining(['gateway: gateway.request', 'gateway: gateway.fetch']));
  expect(has('gateway', 3)).toBe(true);
  expect(has('training', 2)).toBe(true);
  expect(has('training', 4, /training\.class\.v1 publish$/)).toBe(true);
  expect(has('vouchers', 5, /training\.class\.v1 process$/)).toBe(true);
  // One tree: every span's parent is in the trace, except the root, whose parent is the client.
  const ids = new Set(spans.map((s) => s.spanId));
  const orphans = spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
  expect(orphans.map((s) => s.parentSpanId)).toEqual([clientSpanId]);
  // The consumer hangs under the publish, which hangs under training's handling of the request.
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: string[] = [];
  for (let s: Span | undefined = consumed(); s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined)
    chain.push(`${s.service}: ${s.name}`);
  expect(chain[0]).toMatch(/^vouchers: .*process$/);
  expect(chain[1]).toMatch(/^training: .*publish$/);
  expect(chain.at(-1)).toMatch(/^gateway: /);
  expect(chain).toEqual(expect.arrayContaining(['gateway: gateway.request', 'gateway: gateway.fetch']));
  expect(chain.some((c) => c.startsWith('training: ') && !/publish$/.test(c))).toBe(true);
  process.stdout.write(
    `\nTrace ${traceId} (${spans.length} spans), consumer → root:\n  ${chain.join('\n  ')}\n`,
  );
});
