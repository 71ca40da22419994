import { fromBinary } from '@bufbuild/protobuf';
import {
  createDataSource,
  KitTables1732200000000,
  runMigrations,
  uuidv7,
  type DataSource,
  type EntityManager,
} from '@vtv/kit';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import {
  buildEvent,
  ClassPlanApprovedSchema,
  ConsumerRunner,
  enqueue,
  on,
  OutboxRelay,
  type EventBus,
  type EventRecord,
  type RelayOptions,
  type SubscribeOptions,
  type Subscription,
} from '../src';
import {
  collector,
  kafkaHarness,
  memoryHarness,
  quietLogger as logger,
  sleep,
  testTopic,
  waitFor,
  type BusHarness,
} from './helpers';

jest.setTimeout(45_000);

const CLASSES = testTopic('test.class.v1');
const DEAD_LETTERS = testTopic('test.deadletter.v1', 1);

function classPlanApproved(classId: string, name = 'CNC 车工 初级班'): EventRecord {
  return buildEvent({
    schema: ClassPlanApprovedSchema,
    topic: CLASSES.name,
    subject: classId,
    source: '/vtv/training',
    data: { classId, institutionId: uuidv7(), regionCode: '410400', name, headcount: 30 },
  });
}

/**
 * Fault injector in front of the real bus: publish fails while `failing` is set. Subscriptions go
 * straight to the real transport.
 */
class FlakyBus implements EventBus {
  failing = true;
  attempts = 0;
  constructor(private readonly inner: EventBus) {}
  get kind() {
    return this.inner.kind;
  }
  async publish(records: EventRecord[]): Promise<void> {
    this.attempts += 1;
    if (this.failing) throw new Error('broker unavailable (injected)');
    await this.inner.publish(records);
  }
  subscribe(opts: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(opts);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  async close(): Promise<void> {}
}

/** Observes what the real bus hands a subscriber (delivered) and what the subscriber finished. */
class ObservedBus implements EventBus {
  readonly delivered: string[] = [];
  readonly finished: string[] = [];
  constructor(private readonly inner: EventBus) {}
  get kind() {
    return this.inner.kind;
  }
  publish(records: EventRecord[]): Promise<void> {
    return this.inner.publish(records);
  }
  subscribe(opts: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe({
      ...opts,
      handler: async (e) => {
        this.delivered.push(e.id);
        await opts.handler(e);
        this.finished.push(e.id);
      },
    });
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  async close(): Promise<void> {}
}

function outboxContract(factory: () => Promise<BusHarness>, _kind: 'memory' | 'kafka') {
  let db: TestDatabase;
  let ds: DataSource;
  let h: BusHarness;
  let relays: OutboxRelay[] = [];
  const stoppables: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('outbox');
    ds = createDataSource({ url: db.url, entities: [], migrations: [KitTables1732200000000], poolSize: 12 });
    await ds.initialize();
    expect(await runMigrations(ds)).toEqual(['KitTables1732200000000']);
    await ds.query(`CREATE TABLE effects (
      consumer text NOT NULL, event_id text NOT NULL, class_id text NOT NULL, name text NOT NULL)`);
    h = await factory();
  });

  afterEach(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    relays = [];
  });

  afterAll(async () => {
    // Consumers are stopped together: a Kafka consumer's stop waits out its fetch long-poll.
    await Promise.all(stoppables.splice(0).map((s) => s.stop()));
    await h?.cleanup();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  function relay(opts: Partial<RelayOptions> = {}): OutboxRelay {
    const r = new OutboxRelay({ ds, databaseUrl: db.url, bus: h.bus, logger, pollMs: 200, ...opts });
    relays.push(r);
    return r;
  }

  async function listen(topics: string[], prefix = 'raw') {
    const c = collector();
    const sub = await h.bus.subscribe({ group: h.group(prefix), topics, handler: c.handler });
    stoppables.push(sub);
    await sub.ready();
    return c;
  }

  async function runner(opts: {
    bus?: EventBus;
    group?: string;
    maxAttempts?: number;
    baseBackoffMs?: number;
    handle: (e: EventRecord, m: EntityManager, group: string) => Promise<void>;
  }) {
    const group = opts.group ?? h.group('consumer');
    const r = new ConsumerRunner({
      ds,
      bus: opts.bus ?? h.bus,
      logger,
      group,
      topics: [CLASSES.name],
      deadLetterTopic: DEAD_LETTERS.name,
      maxAttempts: opts.maxAttempts ?? 2,
      baseBackoffMs: opts.baseBackoffMs ?? 10,
      handlers: [
        on(ClassPlanApprovedSchema, (_msg, { manager, event }) => opts.handle(event, manager, group)),
      ],
    });
    const sub = await r.start();
    stoppables.push(r);
    await sub.ready();
    expect(r.isHealthy()).toBe(true);
    return { runner: r, group };
  }

  async function insertEffect(m: EntityManager, group: string, e: EventRecord) {
    const msg = fromBinary(ClassPlanApprovedSchema, e.data);
    await m.query('INSERT INTO effects (consumer, event_id, class_id, name) VALUES ($1, $2, $3, $4)', [
      group,
      e.id,
      msg.classId,
      msg.name,
    ]);
  }

  async function outboxRow(id: string) {
    const rows: { published_at: Date | null; attempts: number }[] = await ds.query(
      'SELECT published_at, attempts FROM outbox WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const [row]: { n: string }[] = await ds.query(sql, params);
    return Number(row!.n);
  }

  it('publishes a committed event exactly once and marks it; a rolled-back one never', async () => {
    const seen = await listen([CLASSES.name]);
    const committed: EventRecord = {
      ...classPlanApproved(uuidv7(), 'committed'),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vtv=outbox',
    };
    const rolledBack = classPlanApproved(uuidv7(), 'rolled back');

    await ds.transaction((m) => enqueue(m, [committed]));
    await expect(
      ds.transaction(async (m) => {
        await enqueue(m, [rolledBack]);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await outboxRow(rolledBack.id)).toBeUndefined();
    expect((await outboxRow(committed.id))?.published_at).toBeNull();

    const r = relay();
    await r.start();
    await waitFor('the committed event', () => seen.has([committed.id]));
    await waitFor('the row to be marked', async () => (await outboxRow(committed.id))?.published_at != null);
    // Several more relay polls: nothing is sent twice, the rolled-back event never.
    await sleep(700);
    expect(seen.ids().filter((id) => id === committed.id)).toHaveLength(1);
    expect(seen.has([rolledBack.id])).toBe(false);
    expect(await r.lag()).toEqual({ pending: 0, oldestAgeMs: 0 });

    const got = seen.received.find((e) => e.id === committed.id)!;
    expect({ ...got, data: Buffer.from(got.data) }).toEqual({
      ...committed,
      data: Buffer.from(committed.data),
    });
  });

  it('two relays share the outbox without sending any event twice', async () => {
    const seen = await listen([CLASSES.name]);
    const a = relay({ batchSize: 5 });
    const b = relay({ batchSize: 5 });
    await Promise.all([a.start(), b.start()]);
    const events = Array.from({ length: 60 }, (_, i) => classPlanApproved(uuidv7(), `shared ${i}`));
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => ds.transaction((m) => enqueue(m, events.slice(i * 5, i * 5 + 5)))),
    );
    await waitFor('all 60 events', () => seen.has(events.map((e) => e.id)));
    await waitFor('the outbox to drain', async () => (await a.lag()).pending === 0);
    await sleep(500);
    const ids = events.map((e) => e.id);
    expect(seen.ids().filter((id) => ids.includes(id))).toHaveLength(60);
  });

  it('is woken by NOTIFY on commit, long before its poll interval', async () => {
    const seen = await listen([CLASSES.name]);
    const r = relay({ pollMs: 60_000 });
    await r.start();
    await sleep(300); // Let the first (empty) batch finish: the relay is now asleep for a minute.
    for (let i = 0; i < 3; i += 1) {
      const e = classPlanApproved(uuidv7(), `notified ${i}`);
      const committedAt = Date.now();
      await ds.transaction((m) => enqueue(m, [e]));
      await waitFor('the notified event', () => seen.has([e.id]), 2_000);
      expect(Date.now() - committedAt).toBeLessThan(2_000);
      await sleep(100);
    }
  });

  it('re-sends a batch after a crash between publish and marking; the inbox applies it once', async () => {
    const observed = new ObservedBus(h.bus);
    const handled: string[] = [];
    const { group } = await runner({
      bus: observed,
      handle: async (e, m, g) => {
        handled.push(e.id);
        await insertEffect(m, g, e);
      },
    });
    const event = classPlanApproved(uuidv7(), 'crash after publish');
    let crashes = 0;
    const r = relay({
      afterPublish: async (records) => {
        if (records.some((x) => x.id === event.id) && crashes === 0) {
          crashes += 1;
          throw new Error('relay crashed before marking (injected)');
        }
      },
    });
    await r.start();
    await ds.transaction((m) => enqueue(m, [event]));

    await waitFor(
      'the consumer to receive and finish both copies',
      () => observed.finished.filter((id) => id === event.id).length === 2,
    );
    await waitFor('the row to be marked', async () => (await outboxRow(event.id))?.published_at != null);
    expect(crashes).toBe(1);
    expect(observed.delivered.filter((id) => id === event.id)).toHaveLength(2);
    expect(handled.filter((id) => id === event.id)).toHaveLength(1);
    expect(
      await count('SELECT count(*) AS n FROM effects WHERE consumer = $1 AND event_id = $2', [
        group,
        event.id,
      ]),
    ).toBe(1);
    expect(
      await count('SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND event_id = $2', [group, event.id]),
    ).toBe(1);
    expect(await r.lag()).toEqual({ pending: 0, oldestAgeMs: 0 });
  });

  it('dead-letters an event whose handler keeps failing and moves on to the next', async () => {
    const deadLetters = await listen([DEAD_LETTERS.name], 'dlq');
    const classId = uuidv7();
    const poison = classPlanApproved(classId, 'poison');
    const next = classPlanApproved(classId, 'healthy');
    const attempts: string[] = [];
    const { group } = await runner({
      handle: async (e, m, g) => {
        if (e.id === poison.id) {
          attempts.push(e.id);
          // The effect is written before the failure: it must roll back with the inbox row.
          await insertEffect(m, g, e);
          throw new Error('class plan 42 has no institution (injected)');
        }
        await insertEffect(m, g, e);
      },
    });
    const r = relay();
    await r.start();
    await ds.transaction((m) => enqueue(m, [poison, next]));

    await waitFor('the dead letter', () => deadLetters.has([poison.id]));
    await waitFor(
      'the next event to be applied',
      async () =>
        (await count('SELECT count(*) AS n FROM effects WHERE consumer = $1 AND event_id = $2', [
          group,
          next.id,
        ])) === 1,
    );
    expect(attempts).toEqual([poison.id, poison.id]);

    const dead = deadLetters.received.find((e) => e.id === poison.id)!;
    expect(dead.topic).toBe(DEAD_LETTERS.name);
    expect(dead.deadLetter).toEqual({
      error: 'class plan 42 has no institution (injected)',
      originalTopic: CLASSES.name,
      consumer: group,
    });
    expect(dead.type).toBe(poison.type);
    expect(dead.key).toBe(classId);
    expect(Buffer.from(dead.data).equals(Buffer.from(poison.data))).toBe(true);

    expect(
      await count('SELECT count(*) AS n FROM effects WHERE consumer = $1 AND event_id = $2', [
        group,
        poison.id,
      ]),
    ).toBe(0);
    expect(
      await count('SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND event_id = ANY($2)', [
        group,
        [poison.id, next.id],
      ]),
    ).toBe(1);
    // Exactly one dead letter for it.
    await sleep(300);
    expect(deadLetters.ids().filter((id) => id === poison.id)).toHaveLength(1);
  });

  // Regression: MemoryBus once left a failed delivery as an unhandled rejection that stop() rethrew.
  it('stop() during retries resolves and leaves the event to the next owner of the group', async () => {
    const event = classPlanApproved(uuidv7(), 'handled after restart');
    const failedAttempts: string[] = [];
    const group = h.group('restarted');
    const first = await runner({
      group,
      maxAttempts: 5,
      baseBackoffMs: 400,
      handle: async (e) => {
        if (e.id !== event.id) return;
        failedAttempts.push(e.id);
        throw new Error('dependency down (injected)');
      },
    });
    const deadLetters = await listen([DEAD_LETTERS.name], 'dlq-restart');
    const r = relay();
    await r.start();
    await ds.transaction((m) => enqueue(m, [event]));
    await waitFor('the first failed attempt', () => failedAttempts.length === 1);

    // Stopping mid-retry: the event is neither applied nor dead-lettered.
    await first.runner.stop();
    expect(failedAttempts.length).toBeLessThanOrEqual(2);
    expect(first.runner.isHealthy()).toBe(false);

    // The next owner of the group gets the event again and applies it once.
    await runner({ group, handle: (e, m, g) => insertEffect(m, g, e) });
    await waitFor(
      'the restarted consumer to apply it',
      async () =>
        (await count('SELECT count(*) AS n FROM effects WHERE consumer = $1 AND event_id = $2', [
          group,
          event.id,
        ])) === 1,
    );
    await sleep(300);
    expect(deadLetters.has([event.id])).toBe(false);
  });

  it('backs off while the broker is down, keeps rows pending, then drains', async () => {
    const seen = await listen([CLASSES.name]);
    const flaky = new FlakyBus(h.bus);
    const r = relay({ bus: flaky, pollMs: 100, maxBackoffMs: 2_000 });
    expect((await r.lag()).pending).toBe(0);

    const events: EventRecord[] = [];
    const add = async (n: number) => {
      const batch = Array.from({ length: n }, () => classPlanApproved(uuidv7(), 'during outage'));
      events.push(...batch);
      await ds.transaction((m) => enqueue(m, batch));
    };
    await add(3);
    await r.start();
    const started = Date.now();
    // More commits during the outage: their NOTIFYs must not cut the backoff short.
    while (Date.now() - started < 1_500) {
      await sleep(100);
      await add(1);
    }
    const attempts = flaky.attempts;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThan(10);
    expect(r.consecutiveFailures).toBeGreaterThanOrEqual(2);

    const lag = await r.lag();
    expect(lag.pending).toBe(events.length);
    expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(1_000);
    expect(
      await count('SELECT count(*) AS n FROM outbox WHERE id = ANY($1) AND published_at IS NULL', [
        events.map((e) => e.id),
      ]),
    ).toBe(events.length);
    expect(seen.has([events[0]!.id])).toBe(false);

    flaky.failing = false;
    await waitFor('the outbox to drain', async () => (await r.lag()).pending === 0, 10_000);
    await waitFor('every event to arrive', () => seen.has(events.map((e) => e.id)));
    expect(r.consecutiveFailures).toBe(0);
    const ids = events.map((e) => e.id);
    expect(seen.ids().filter((id) => ids.includes(id))).toHaveLength(events.length);
  });

  // Regression: the attempt counter was once updated inside the transaction the failure rolled back.
  it('records a failed publish attempt on the outbox row', async () => {
    const flaky = new FlakyBus(h.bus);
    const r = relay({ bus: flaky });
    const e = classPlanApproved(uuidv7(), 'attempt counted');
    await ds.transaction((m) => enqueue(m, [e]));
    try {
      await expect(r.publishBatch()).rejects.toThrow('broker unavailable');
      expect(flaky.attempts).toBe(1);
      expect((await outboxRow(e.id))?.attempts).toBe(1);
    } finally {
      flaky.failing = false;
      expect(await r.publishBatch()).toBe(1);
    }
  });
}

describe.each([
  ['MemoryBus', 'memory' as const, () => memoryHarness()],
  ['KafkaBus', 'kafka' as const, () => kafkaHarness([CLASSES, DEAD_LETTERS])],
])('outbox relay and consumer runner on %s', (_name, kind, factory) => {
  outboxContract(factory, kind);
});
