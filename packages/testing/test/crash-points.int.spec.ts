/**
 * TESTING.md, Faults: the relay process is killed (SIGKILL) before publishing and after publishing but
 * before marking. Afterwards every committed change has exactly one effect downstream.
 */
import { join } from 'node:path';
import { ClassPlanApprovedSchema, ConsumerRunner, KafkaBus, TOPICS, on } from '@vtv/events';
import {
  KitTables1732200000000,
  createDataSource,
  createLogger,
  runMigrations,
  uuidv7,
  type DataSource,
} from '@vtv/kit';
import {
  createKafkaNamespace,
  createTestDatabase,
  spawnTs,
  type KafkaNamespace,
  type TestDatabase,
} from '../src';

const fixture = join(__dirname, 'fixtures', 'relay-once.ts');
let db: TestDatabase;
let kafka: KafkaNamespace;
let ds: DataSource;

beforeAll(async () => {
  [db, kafka] = await Promise.all([createTestDatabase('crash'), createKafkaNamespace('crash')]);
  ds = createDataSource({ url: db.url, entities: [], migrations: [KitTables1732200000000] });
  await ds.initialize();
  await runMigrations(ds);
  await ds.query('CREATE TABLE effects (class_id uuid PRIMARY KEY, applied integer NOT NULL)');
});

afterAll(async () => {
  await ds?.destroy();
  await Promise.all([db?.drop(), kafka?.cleanup()]);
});

const env = (extra: Record<string, string>) => ({
  DATABASE_URL: db.url,
  KAFKA_BROKERS: kafka.brokers,
  EVENTS_NAMESPACE: kafka.namespace,
  ...extra,
});

async function consumeAll(expectIds: string[]): Promise<void> {
  const logger = createLogger('test', 'silent');
  const bus = new KafkaBus({
    brokers: kafka.brokers.split(','),
    clientId: 'test',
    logger,
    namespace: kafka.namespace,
  });
  const runner = new ConsumerRunner({
    ds,
    bus,
    logger,
    group: `effects-${uuidv7()}`,
    topics: [TOPICS.trainingClass.name],
    deadLetterTopic: 'unused',
    handlers: [
      on(ClassPlanApprovedSchema, async (e, { manager }) => {
        await manager.query(
          'INSERT INTO effects (class_id, applied) VALUES ($1, 1) ON CONFLICT (class_id) DO UPDATE SET applied = effects.applied + 1',
          [e.classId],
        );
      }),
    ],
  });
  const sub = await runner.start();
  await sub.ready();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows: { n: number }[] = await ds.query(
      'SELECT count(*)::int AS n FROM effects WHERE class_id = ANY($1::uuid[])',
      [expectIds],
    );
    if (rows[0]!.n === expectIds.length) break;
    if (Date.now() > deadline) throw new Error('effects not applied in time');
    await new Promise((r) => setTimeout(r, 200));
  }
  await runner.stop();
  await bus.close();
}

test('killed after publish, before marking: the batch is re-sent, the effect applies once', async () => {
  const classId = uuidv7();
  const crashed = spawnTs(fixture, env({ WRITE_EVENT: classId, VTV_FAULT_POINTS: 'relay:after-publish' }));
  expect(await crashed.exited).toBe('SIGKILL');
  const [row] = await ds.query('SELECT published_at FROM outbox WHERE subject = $1', [classId]);
  expect(row.published_at).toBeNull(); // published to Kafka, but the mark was lost with the process

  const restarted = spawnTs(fixture, env({}));
  await restarted.waitFor(/relay drained/);
  expect(await restarted.exited).toBe(0);

  await consumeAll([classId]);
  const [effect] = await ds.query('SELECT applied FROM effects WHERE class_id = $1', [classId]);
  expect(effect.applied).toBe(1); // two copies on the topic, one effect
});

test('killed before publish: nothing was sent; after restart the event goes out once', async () => {
  const classId = uuidv7();
  const crashed = spawnTs(fixture, env({ WRITE_EVENT: classId, VTV_FAULT_POINTS: 'relay:before-publish' }));
  expect(await crashed.exited).toBe('SIGKILL');
  const restarted = spawnTs(fixture, env({}));
  await restarted.waitFor(/relay drained/);
  await consumeAll([classId]);
  const [effect] = await ds.query('SELECT applied FROM effects WHERE class_id = $1', [classId]);
  expect(effect.applied).toBe(1);
  const [row] = await ds.query('SELECT published_at FROM outbox WHERE subject = $1', [classId]);
  expect(row.published_at).not.toBeNull();
});
