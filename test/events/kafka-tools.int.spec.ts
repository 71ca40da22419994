/**
 * The analysts' and operators' tools against the real broker, on topics written the platform's way
 * (enqueue in a transaction → outbox relay → KafkaBus): Debian's kcat reads them with headers, the tail
 * command decodes them, dead letters are listed and re-driven, a projection is rebuilt by replay, consumer
 * lag is measured, and the privacy tap sees an event in a namespace that is deleted right after.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import {
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  ConsumerRunner,
  KafkaBus,
  OutboxRelay,
  TOPICS,
  buildEvent,
  deadLetterTopic,
  enqueue,
  on,
  type EventRecord,
} from '@vtv/events';
import { consumerLag, lagMetricsText } from '@vtv/events/src/lag';
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
  type KafkaNamespace,
  type TestDatabase,
} from '@vtv/testing';

jest.setTimeout(180_000);

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const logger = createLogger('events-tools-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const CLASS_TOPIC = TOPICS.trainingClass.name;

let ns: KafkaNamespace;
let db: TestDatabase;
let ds: DataSource;
let bus: KafkaBus;
let admin: ReturnType<Kafka['admin']>;
const classA = uuidv7();
const classB = uuidv7();
const classC = uuidv7();
const written: EventRecord[] = [];

async function cli(...args: string[]): Promise<{ lines: Record<string, unknown>[]; stderr: string }> {
  const { stdout, stderr } = await run(TSX, ['scripts/events/cli.ts', ...args, '--namespace', ns.namespace], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: ns.brokers },
    maxBuffer: 16 * 1024 * 1024,
  });
  return {
    lines: stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr,
  };
}

function approved(classId: string, name: string): EventRecord {
  return buildEvent({
    schema: ClassPlanApprovedSchema,
    topic: CLASS_TOPIC,
    subject: classId,
    source: '/vtv/training',
    data: { classId, institutionId: uuidv7(), regionCode: '420100', name, headcount: 30 },
  });
}

beforeAll(async () => {
  ns = await createKafkaNamespace('evtools');
  db = await createTestDatabase('evtools');
  ds = createDataSource({ url: db.url, entities: [], migrations: [KitTables1732200000000], poolSize: 4 });
  await ds.initialize();
  await runMigrations(ds);
  await ds.query('CREATE TABLE approved_classes (class_id text PRIMARY KEY, name text NOT NULL)');
  bus = new KafkaBus({
    brokers: ns.brokers.split(','),
    clientId: 'events-tools-test',
    logger,
    namespace: ns.namespace,
  });
  admin = new Kafka({
    clientId: 'events-tools-test',
    brokers: ns.brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  // Written the platform's way: in the state change's transaction, published by the relay.
  written.push(
    approved(classA, '数控车工（初级）春季班'),
    approved(classB, '焊工（中级）春季班'),
    buildEvent({
      schema: ClassPlanRejectedSchema,
      topic: CLASS_TOPIC,
      subject: classC,
      source: '/vtv/training',
      data: { classId: classC, institutionId: uuidv7(), regionCode: '420100', reason: '课时不足' },
    }),
  );
  await ds.transaction((m) => enqueue(m, written));
  const relay = new OutboxRelay({ ds, databaseUrl: db.url, bus, logger });
  expect(await relay.publishBatch()).toBe(3);
});

afterAll(async () => {
  await admin?.disconnect();
  await bus?.close();
  await ds?.destroy();
  await db?.drop();
  await ns?.cleanup();
});

describe('reading a topic', () => {
  it("Debian's kcat reads the topic with the CloudEvents headers (-J)", async () => {
    const { stdout } = await run(
      'kcat',
      ['-C', '-b', ns.brokers, '-t', `${ns.namespace}.${CLASS_TOPIC}`, '-J', '-e', '-q', '-o', 'beginning'],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const msgs = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { key: string; headers: string[]; topic: string });
    expect(msgs).toHaveLength(3);
    const byKey = new Map(msgs.map((m) => [m.key, m]));
    for (const e of written) {
      const m = byKey.get(e.subject)!;
      // kcat -J prints headers as a flat [name, value, name, value, …] array.
      const h = Object.fromEntries(
        Array.from({ length: m.headers.length / 2 }, (_, i) => [m.headers[2 * i]!, m.headers[2 * i + 1]!]),
      );
      expect(h).toMatchObject({
        ce_specversion: '1.0',
        ce_id: e.id,
        ce_type: e.type,
        ce_source: '/vtv/training',
        ce_subject: e.subject,
        ce_time: e.time,
        'content-type': 'application/protobuf',
      });
    }
  });

  it('kcat hands out the exact value bytes, which buf decodes with the descriptor set in docs/', async () => {
    // "%k %S|%s": key, value length, value; parsed by length because a binary value may hold any byte.
    const { stdout } = await run(
      'kcat',
      [
        '-C',
        '-b',
        ns.brokers,
        '-t',
        `${ns.namespace}.${CLASS_TOPIC}`,
        '-e',
        '-q',
        '-o',
        'beginning',
        '-f',
        '%k %S|%s',
      ],
      { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
    );
    const values = new Map<string, Buffer>();
    for (let pos = 0; pos < stdout.length;) {
      const space = stdout.indexOf(0x20, pos);
      const bar = stdout.indexOf(0x7c, space);
      const len = Number(stdout.subarray(space + 1, bar).toString());
      values.set(stdout.subarray(pos, space).toString(), stdout.subarray(bar + 1, bar + 1 + len));
      pos = bar + 1 + len;
    }
    const [row] = (await ds.query('SELECT payload FROM outbox WHERE subject = $1', [classA])) as {
      payload: Buffer;
    }[];
    expect(values.get(classA)?.equals(row!.payload)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'kcat-value-'));
    try {
      const bin = join(dir, 'value.binpb');
      writeFileSync(bin, values.get(classA)!);
      const { stdout: json } = await run(
        join(ROOT, 'node_modules', '.bin', 'buf'),
        [
          'convert',
          'docs/events.binpb',
          '--type',
          'vtv.training.v1.ClassPlanApproved',
          '--from',
          bin,
          '--to',
          '-#format=json',
        ],
        { cwd: ROOT },
      );
      expect(JSON.parse(json)).toMatchObject({ classId: classA, regionCode: '420100', headcount: 30 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tail decodes the topic to JSON lines', async () => {
    const { lines } = await cli('tail', CLASS_TOPIC, '--from-beginning', '--exit');
    expect(lines).toHaveLength(3);
    const a = lines.find((l) => l.subject === classA)!;
    expect(a).toMatchObject({
      topic: CLASS_TOPIC,
      key: classA,
      type: 'vtv.training.v1.ClassPlanApproved',
      source: '/vtv/training',
      id: written[0]!.id,
      data: { classId: classA, regionCode: '420100', name: '数控车工（初级）春季班', headcount: 30 },
    });
  });

  it('tail filters by type and subject, and stops after --max', async () => {
    const byType = await cli(
      'tail',
      CLASS_TOPIC,
      '--from-beginning',
      '--exit',
      '--type',
      'ClassPlanRejected',
    );
    expect(byType.lines.map((l) => l.subject)).toEqual([classC]);
    const bySubject = await cli('tail', CLASS_TOPIC, '--from-beginning', '--exit', '--subject', classB);
    expect(bySubject.lines.map((l) => l.subject)).toEqual([classB]);
    const one = await cli('tail', CLASS_TOPIC, '--from-beginning', '--max', '1');
    expect(one.lines).toHaveLength(1);
  });
});

describe('consumers: lag, dead letters, replay', () => {
  const seen: string[] = [];
  let failFor: string | undefined = classB;
  const runner = () =>
    new ConsumerRunner({
      ds,
      bus,
      logger,
      group: 'vouchers',
      topics: [CLASS_TOPIC],
      deadLetterTopic: deadLetterTopic('vouchers'),
      maxAttempts: 1,
      handlers: [
        on(ClassPlanApprovedSchema, async (m, { manager, event }) => {
          if (m.classId === failFor) throw new Error('projection refused the class (injected)');
          seen.push(event.id);
          await manager.query('INSERT INTO approved_classes (class_id, name) VALUES ($1, $2)', [
            m.classId,
            m.name,
          ]);
        }),
      ],
    });
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const rows = async () =>
    (
      (await ds.query('SELECT class_id FROM approved_classes ORDER BY class_id')) as { class_id: string }[]
    ).map((r) => r.class_id);
  const lagOf = async () =>
    consumerLag({ admin, namespace: ns.namespace, groups: { vouchers: [CLASS_TOPIC] } }).then((r) =>
      r.reduce((a, p) => a + p.lag, 0),
    );

  it('measures lag before and after the group consumed, in Prometheus text', async () => {
    expect(await lagOf()).toBe(3); // nothing committed yet: everything retained is lag
    const r = runner();
    await (await r.start()).ready();
    await waitFor('class A projected, class B dead-lettered', async () => (await rows()).includes(classA));
    await waitFor('lag 0', async () => (await lagOf()) === 0);
    await r.stop();
    const text = lagMetricsText(
      await consumerLag({ admin, namespace: ns.namespace, groups: { vouchers: [CLASS_TOPIC] } }),
    );
    expect(text).toContain('# TYPE kafka_consumergroup_lag gauge');
    expect(text).toContain(`kafka_consumergroup_lag_sum{consumergroup="vouchers",topic="${CLASS_TOPIC}"} 0`);
    const { stdout } = await run(
      TSX,
      ['scripts/events/cli.ts', 'lag', '--prometheus', '--group', 'vouchers', '--namespace', ns.namespace],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: ns.brokers },
      },
    );
    expect(stdout).toContain(
      `kafka_consumergroup_lag_sum{consumergroup="vouchers",topic="${CLASS_TOPIC}"} 0`,
    );
  });

  it('lists dead letters and re-drives each once to its original topic', async () => {
    const listed = await cli('deadletters', 'vouchers');
    expect(listed.lines).toHaveLength(1);
    expect(listed.lines[0]).toMatchObject({
      subject: classB,
      type: 'vtv.training.v1.ClassPlanApproved',
      deadLetter: {
        error: 'projection refused the class (injected)',
        originalTopic: CLASS_TOPIC,
        consumer: 'vouchers',
      },
      data: { classId: classB },
    });
    failFor = undefined; // the bug is fixed
    const redriven = await cli('deadletters', 'vouchers', '--redrive');
    expect(redriven.lines.map((l) => l.redrivenTo)).toEqual([CLASS_TOPIC]);
    expect((await cli('deadletters', 'vouchers', '--redrive')).lines).toEqual([]); // already re-driven
    const r = runner();
    await (await r.start()).ready();
    await waitFor('class B projected after the re-drive', async () => (await rows()).includes(classB));
    await waitFor('lag 0', async () => (await lagOf()) === 0);
    await r.stop();
    // The re-driven copy kept its ce_id: other groups that had handled it dedupe it in their inbox.
    const { lines } = await cli('tail', CLASS_TOPIC, '--from-beginning', '--exit', '--subject', classB);
    expect(lines.map((l) => l.id)).toEqual([written[1]!.id, written[1]!.id]);
  });

  it('replay rebuilds the projection: inbox cleared with the tables, offsets reset, events applied again', async () => {
    expect(await rows()).toEqual([classA, classB].sort());
    const applied = seen.length;
    const plan = await cli('replay', CLASS_TOPIC, '--group', 'vouchers');
    expect(plan.stderr).toMatch(/nothing done/);
    expect(plan.stderr).toContain("DELETE FROM inbox WHERE consumer = 'vouchers'");
    const { lines } = await cli(
      'replay',
      CLASS_TOPIC,
      '--group',
      'vouchers',
      '--database-url',
      db.url,
      '--truncate',
      'approved_classes',
      '--yes',
    );
    expect(lines[0]).toMatchObject({ group: 'vouchers' });
    expect(await rows()).toEqual([]);
    expect(await ds.query("SELECT 1 FROM inbox WHERE consumer = 'vouchers'")).toEqual([]);
    expect(await lagOf()).toBe(4); // 3 written + 1 re-driven copy
    const r = runner();
    await (await r.start()).ready();
    await waitFor('projection rebuilt', async () => (await rows()).length === 2 && (await lagOf()) === 0);
    await r.stop();
    expect(await rows()).toEqual([classA, classB].sort());
    // Each event applied once more; the re-driven duplicate of B was deduplicated by the inbox.
    expect(seen.length - applied).toBe(2);
  });

  it('replay refuses while the service is still consuming', async () => {
    const r = runner();
    await (await r.start()).ready();
    try {
      await expect(cli('replay', CLASS_TOPIC, '--group', 'vouchers', '--yes')).rejects.toMatchObject({
        stderr: expect.stringMatching(/active member/),
      });
    } finally {
      await r.stop();
    }
  });
});

describe('privacy tap', () => {
  it('scans an event in a namespace that is deleted right after, and reports the finding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'privacy-tap-'));
    const report = join(dir, 'report.json');
    const ready = join(dir, 'ready');
    const tap = spawn(TSX, ['scripts/events/privacy-scan.ts', 'tap', '--report', report, '--ready', ready], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: ns.brokers },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => tap.on('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(ready)) {
        if (Date.now() > deadline) throw new Error('tap did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      // A canary namespace: the run-wide scan reports what it finds there as expected, not as a failure.
      const leak = await createKafkaNamespace('privacycanary');
      const leakBus = new KafkaBus({
        brokers: leak.brokers.split(','),
        clientId: 'leak',
        logger,
        namespace: leak.namespace,
      });
      try {
        await leakBus.publish([
          buildEvent({
            schema: ClassPlanRejectedSchema,
            topic: CLASS_TOPIC,
            subject: classC,
            source: '/vtv/training',
            data: { classId: classC, reason: '请联系 13812345678 补交材料' },
          }),
        ]);
        // Long enough for the tap to notice the namespace and join its consumer group on a loaded
        // 2-core CI machine (1.5 s was not, once, with the whole suite running beside it).
        await new Promise((r) => setTimeout(r, 5_000));
      } finally {
        await leakBus.close();
        await leak.cleanup();
      }
      await new Promise((r) => setTimeout(r, 500));
      process.kill(Number(readFileSync(ready, 'utf8')), 'SIGTERM');
      expect(await exited).toBe(0);
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        findings: { kind: string; topic: string }[];
        missed: Record<string, number>;
      };
      expect(r.findings).toContainEqual(
        expect.objectContaining({ kind: 'mobile', topic: `${leak.namespace}.${CLASS_TOPIC}` }),
      );
      expect(Object.keys(r.missed).filter((k) => k.startsWith(leak.namespace))).toEqual([]);
    } finally {
      if (tap.exitCode === null) tap.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
