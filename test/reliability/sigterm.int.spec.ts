/**
 * TESTING.md, Faults: SIGTERM under load, with real child processes (tsx services/<name>/src/main.ts) on
 * real PostgreSQL and Kafka. What packages/runtime promises on SIGTERM: readiness off, HTTP drained
 * (in-flight requests answered, the listener closed), consumers stopped (offsets committed, the group
 * left), relay stopped, pools closed, exit 0.
 *
 * - training, under concurrent registerInstitution mutations over keep-alive connections, with the
 *   database behind a TcpProxy adding latency so requests are really in flight at SIGTERM: every request
 *   is either answered with success or fails at the connection level (refused/reset, retryable) and then
 *   left no trace; everything answered committed; nothing answered with a 5xx or a stack trace; fresh
 *   connections during the drain are refused; exit 0 within the drain budget; after a restart the relay
 *   publishes every committed change's event exactly once.
 * - settlement, consuming a backlog of events: SIGTERM mid-backlog, exit 0, the consumer group has no
 *   member left afterwards (it left instead of timing out) and committed only what it applied; after a
 *   restart every event is applied exactly once.
 */
import { Agent } from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { KafkaBus, OperatorMembershipChangedSchema, TOPICS, buildEvent, type EventRecord } from '@vtv/events';
import { createLogger, uuidv7 } from '@vtv/kit';
import {
  TcpProxy,
  createKafkaNamespace,
  createTestDatabase,
  type KafkaNamespace,
  type ManagedProcess,
  type TestDatabase,
} from '@vtv/testing';
import {
  eventually,
  exitWithin,
  probeTopic,
  registerInstitution,
  sql,
  startChildService,
  type RegisterOutcome,
} from './support/child-service';

jest.setTimeout(240_000);

const SECRET = 'sigterm-test-secret-0123456789abcdef-0123';
/** SHUTDOWN_GRACE_MS: each shutdown step's bound; the whole drain has 8 steps. */
const GRACE_MS = 10_000;
/** "Did not hang": far above a healthy drain (about a second here), far below 8 × GRACE_MS. */
const EXIT_BOUND_MS = 45_000;
const quiet = createLogger('sigterm-test', 'silent');

/** One namespace per test: settlement consumes the topic training publishes to. */
const namespaces: KafkaNamespace[] = [];
const databases: TestDatabase[] = [];
const children: ManagedProcess[] = [];
const proxies: TcpProxy[] = [];

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all(topicProbes.map((p) => p.stop().catch(() => undefined)));
  // One call per namespace: a second deletion would find topics the first is still removing and retry.
  for (const ns of namespaces) await ns.cleanup(['probe']).catch(() => undefined);
  await Promise.all(databases.map((d) => d.drop()));
});

async function database(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  databases.push(db);
  return db;
}

async function namespace(prefix: string): Promise<KafkaNamespace> {
  const ns = await createKafkaNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

/** A service as a child process on this test's database and namespace; resolves once it listens. */
async function start(
  service: string,
  databaseUrl: string,
  kafka: KafkaNamespace,
): Promise<{ proc: ManagedProcess; url: string }> {
  const started = await startChildService(service, {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: kafka.brokers,
    EVENTS_NAMESPACE: kafka.namespace,
    INTERNAL_AUTH_SECRET: SECRET,
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
  });
  children.push(started.proc);
  return started;
}

const topicProbes: { stop: () => Promise<void> }[] = [];

/** Connection-level failures a client may retry: nothing reached the service, or nothing came back. */
const RETRYABLE_CONNECTION = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'SOCKET_HANG_UP']);

type Outcome = RegisterOutcome;
const register = (url: string, agent: Agent | false) => registerInstitution(url, agent, SECRET);

/** Every outcome must be a success, a connection-level failure, or a 503; never a 5xx or a stack trace. */
function unacceptable(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => {
    if (o.body && /\bat .+\(.+:\d+:\d+\)|stacktrace/i.test(o.body)) return true;
    if (typeof o.result === 'string') return !RETRYABLE_CONNECTION.has(o.result);
    if (o.result === 503) return false;
    return !o.ok;
  });
}

it('training drains under load: in-flight requests answered, new connections refused, exit 0, every committed change published once', async () => {
  const db = await database('sigterm_training');
  const kafka = await namespace('sigterm_training');
  // Every database round trip takes 2 × 15 ms more: a mutation is in flight for a good fraction of a second.
  const dbProxy = TcpProxy.forUrl(db.url);
  proxies.push(dbProxy);
  await dbProxy.start();
  const { proc, url } = await start('training', dbProxy.rewrite(db.url), kafka);
  dbProxy.setMode({ kind: 'latency', ms: 15 });

  const agent = new Agent({ keepAlive: true, maxSockets: 12 });
  const outcomes: Outcome[] = [];
  const probes: (Outcome & { alive: boolean })[] = [];
  let exitedAt = 0;
  void proc.exited.then(() => (exitedAt = Date.now()));
  let stopLoad = false;
  const workers = Array.from({ length: 12 }, async () => {
    while (!stopLoad) outcomes.push(await register(url, agent));
  });

  // Load until a good number of requests went through, then SIGTERM in the middle of it.
  const deadline = Date.now() + 60_000;
  while (outcomes.filter((o) => o.ok).length < 40 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const sigtermAt = Date.now();
  proc.kill('SIGTERM');
  // Fresh connections (no keep-alive) while it drains: refused, or served if they beat the listener's close.
  const prober = (async () => {
    while (!exitedAt) {
      const o = await register(url, false);
      probes.push({ ...o, alive: !exitedAt });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  const exit = await exitWithin(proc, EXIT_BOUND_MS);
  stopLoad = true;
  await Promise.all([...workers, prober]);
  agent.destroy();
  dbProxy.setMode({ kind: 'pass' });
  expect(exit).toBe(0);
  expect(proc.output()).toMatch(/shutdown complete/);
  expect(proc.output()).not.toMatch(/shutdown step failed/);

  // Requests under way at SIGTERM were answered with success.
  const inFlight = outcomes.filter((o) => o.ok && o.sentAt < sigtermAt && o.doneAt > sigtermAt);
  expect(inFlight.length).toBeGreaterThan(0);
  // Nothing but success, a retryable connection failure or 503, for the load and the probes alike.
  expect(unacceptable(outcomes)).toEqual([]);
  expect(unacceptable(probes)).toEqual([]);
  // While the process was still draining, a fresh connection was refused (the listener closed first).
  expect(probes.filter((p) => p.alive && p.result === 'ECONNREFUSED').length).toBeGreaterThan(0);

  // What was answered with success is committed, what failed left nothing: the drain lost no answer.
  const all = [...outcomes, ...probes];
  const committed = new Set(
    (
      await sql<{ credit_code: string }>(
        db.url,
        'SELECT credit_code FROM institutions WHERE credit_code = ANY($1)',
        [all.map((o) => o.creditCode)],
      )
    ).map((r) => r.credit_code),
  );
  expect(all.filter((o) => o.ok && !committed.has(o.creditCode))).toEqual([]);
  expect(all.filter((o) => !o.ok && committed.has(o.creditCode))).toEqual([]);
  const [institutions] = await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM institutions');
  expect(institutions!.n).toBe(committed.size);

  // Every committed institution has its event in the outbox; after a restart the relay sends each once.
  const rows = await sql<{ id: string; key: string }>(
    db.url,
    `SELECT id, key FROM outbox WHERE type = 'vtv.training.v1.OperatorMembershipChanged'`,
  );
  expect(rows).toHaveLength(committed.size);
  const probe = await probeTopic(kafka.brokers, kafka.namespace, TOPICS.trainingInstitution.name);
  topicProbes.push(probe);
  const { received } = probe;
  const restarted = await start('training', db.url, kafka);
  await eventually('the outbox drained', async () => {
    const [pending] = await sql<{ n: number }>(
      db.url,
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    return pending!.n === 0;
  });
  const ids = new Set(rows.map((r) => r.id));
  await eventually(
    'every event on Kafka',
    async () => received.filter((e) => ids.has(e.id)).length >= ids.size,
  );
  restarted.proc.kill('SIGTERM');
  expect(await exitWithin(restarted.proc, EXIT_BOUND_MS)).toBe(0);
  const copies = received.filter((e) => e.type === 'vtv.training.v1.OperatorMembershipChanged');
  expect(copies.length).toBe(ids.size);
  expect(new Set(copies.map((e) => e.id))).toEqual(ids);
  await topicProbes.pop()!.stop();
});

it('settlement stops consuming on SIGTERM: commits what it applied, leaves the group, applies every event once after restart', async () => {
  const db = await database('sigterm_settlement');
  const kafka = await namespace('sigterm_settlement');
  const bus = new KafkaBus({
    brokers: kafka.brokers.split(','),
    clientId: 'sigterm-producer',
    logger: quiet,
    namespace: kafka.namespace,
  });
  const TOTAL = 3000;
  const events: EventRecord[] = Array.from({ length: TOTAL }, () => {
    const institutionId = uuidv7();
    return buildEvent({
      schema: OperatorMembershipChangedSchema,
      topic: TOPICS.trainingInstitution.name,
      subject: institutionId,
      source: '/vtv/training',
      data: {
        institutionId,
        operatorPersonId: uuidv7(),
        enabled: true,
        main: true,
        changedAt: timestampFromDate(new Date()),
      },
    });
  });
  for (let i = 0; i < TOTAL; i += 500) await bus.publish(events.slice(i, i + 500));
  await bus.close();

  const { proc } = await start('settlement', db.url, kafka);
  const applied = () =>
    sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM inbox WHERE consumer = 'settlement'`).then(
      (r) => r[0]!.n,
    );
  await eventually(
    'settlement to be part-way through the backlog',
    async () => (await applied()) >= 300,
    90_000,
  );
  proc.kill('SIGTERM');
  expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(0);
  const appliedAtExit = await applied();
  expect(appliedAtExit).toBeLessThan(TOTAL); // stopped mid-backlog, or the test proves nothing

  // The group is empty at once: the consumer left it (a killed one would stay a member for 30 s).
  const admin = new Kafka({
    clientId: 'sigterm-admin',
    brokers: kafka.brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const group = `${kafka.namespace}.settlement`;
    const { groups } = await admin.describeGroups([group]);
    expect(groups[0]!.members).toEqual([]);
    // It committed no more than it applied: nothing is skipped on restart.
    const offsets = await admin.fetchOffsets({
      groupId: group,
      topics: [`${kafka.namespace}.${TOPICS.trainingInstitution.name}`],
    });
    const committed = offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThanOrEqual(appliedAtExit);
  } finally {
    await admin.disconnect();
  }

  const restarted = await start('settlement', db.url, kafka);
  await eventually('every event applied', async () => (await applied()) === TOTAL, 120_000).catch((err) => {
    throw new Error(
      `${(err as Error).message}; settlement printed:\n${restarted.proc.output().slice(-4000)}`,
    );
  });
  restarted.proc.kill('SIGTERM');
  expect(await exitWithin(restarted.proc, EXIT_BOUND_MS)).toBe(0);
  const [facts] = await sql<{ operators: number; inbox: number; distinct_ids: number }>(
    db.url,
    `SELECT (SELECT count(*)::int FROM evidence_operators) AS operators,
            (SELECT count(*)::int FROM inbox WHERE consumer = 'settlement') AS inbox,
            (SELECT count(DISTINCT event_id)::int FROM inbox WHERE consumer = 'settlement') AS distinct_ids`,
  );
  expect(facts).toEqual({ operators: TOTAL, inbox: TOTAL, distinct_ids: TOTAL });
});
