import { fromBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { uuidv7 } from '@vtv/kit';
import { buildEvent, ClassPlanApprovedSchema, type EventRecord, type Subscription } from '../src';
import {
  collector,
  kafkaHarness,
  memoryHarness,
  sleep,
  testTopic,
  waitFor,
  type BusHarness,
} from './helpers';

jest.setTimeout(30_000);

const CLASSES = testTopic('test.class.v1');
const OTHER = testTopic('test.other.v1');

function classPlanApproved(classId: string, name = 'CNC 车工 初级班', now = new Date()): EventRecord {
  return buildEvent(
    {
      schema: ClassPlanApprovedSchema,
      topic: CLASSES.name,
      subject: classId,
      source: '/vtv/training',
      data: {
        classId,
        institutionId: uuidv7(),
        regionCode: '410400',
        name,
        occupation: '6-18-01-01',
        trainingType: 'employment_skills',
        level: 'junior',
        headcount: 40,
        startDate: '2024-12-02',
        endDate: '2024-12-20',
        rosterPersonIds: [uuidv7(), uuidv7()],
        approvedAt: timestampFromDate(now),
        approvedBy: uuidv7(),
      },
    },
    now,
  );
}

/** The one contract both transports must satisfy. */
function busContract(factory: () => Promise<BusHarness>, kind: 'memory' | 'kafka') {
  let h: BusHarness;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    h = await factory();
  });

  afterAll(async () => {
    // Stopped together: a Kafka consumer's stop waits out its fetch long-poll (up to 5 s each).
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await h?.cleanup();
  });

  async function subscribe(prefix: string, topics: string[], handler: (e: EventRecord) => Promise<void>) {
    const s = await h.bus.subscribe({ group: h.group(prefix), topics, handler });
    subscriptions.push(s);
    await s.ready();
    expect(s.isHealthy()).toBe(true);
    return s;
  }

  it(`is a ${kind} bus and answers ping`, async () => {
    expect(h.bus.kind).toBe(kind);
    await expect(h.bus.ping()).resolves.toBeUndefined();
  });

  it('delivers events published before the group subscribed (fromBeginning by default)', async () => {
    const events = [classPlanApproved(uuidv7()), classPlanApproved(uuidv7()), classPlanApproved(uuidv7())];
    await h.bus.publish(events);
    const c = collector();
    await subscribe('early', [CLASSES.name], c.handler);
    await waitFor('the events published before subscribing', () => c.has(events.map((e) => e.id)));
    expect(c.received.filter((e) => events.some((x) => x.id === e.id))).toHaveLength(3);
  });

  it('keeps every CloudEvents attribute and the payload bytes on the round trip', async () => {
    const approvedAt = new Date('2024-11-21T09:30:15.123Z');
    const classId = uuidv7();
    const plain = classPlanApproved(classId, '电工 中级 开班方案', approvedAt);
    const traced: EventRecord = {
      ...classPlanApproved(uuidv7(), 'traced', approvedAt),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vtv=t61rcWkgMzE',
    };
    const deadLettered: EventRecord = {
      ...classPlanApproved(uuidv7(), 'dead', approvedAt),
      topic: OTHER.name,
      key: 'original-key-1',
      deadLetter: {
        error: 'handler failed: 余额不足 (insufficient balance)',
        originalTopic: CLASSES.name,
        consumer: 'vouchers',
      },
    };
    await h.bus.publish([plain, traced, deadLettered]);
    const c = collector();
    await subscribe('attrs', [CLASSES.name, OTHER.name], c.handler);
    const sent = [plain, traced, deadLettered];
    await waitFor('all three records', () => c.has(sent.map((e) => e.id)));

    for (const original of sent) {
      const got = c.received.find((e) => e.id === original.id)!;
      expect({
        id: got.id,
        type: got.type,
        source: got.source,
        subject: got.subject,
        time: got.time,
        topic: got.topic,
        key: got.key,
        traceparent: got.traceparent,
        tracestate: got.tracestate,
        deadLetter: got.deadLetter,
      }).toEqual({
        id: original.id,
        type: 'vtv.training.v1.ClassPlanApproved',
        source: '/vtv/training',
        subject: original.subject,
        time: '2024-11-21T09:30:15.123Z',
        topic: original.topic,
        key: original.key,
        traceparent: original.traceparent,
        tracestate: original.tracestate,
        deadLetter: original.deadLetter,
      });
      expect(Buffer.from(got.data).equals(Buffer.from(original.data))).toBe(true);
      expect(got.data.byteLength).toBeGreaterThan(0);
    }

    const message = fromBinary(ClassPlanApprovedSchema, c.received.find((e) => e.id === plain.id)!.data);
    expect(message.classId).toBe(classId);
    expect(message.name).toBe('电工 中级 开班方案');
    expect(message.headcount).toBe(40);
    expect(message.rosterPersonIds).toHaveLength(2);
    expect(message.approvedAt?.seconds).toBe(BigInt(Math.floor(approvedAt.getTime() / 1000)));
    expect(plain.subject).toBe(classId);
    expect(plain.key).toBe(classId);
    expect(c.received.find((e) => e.id === plain.id)!.deadLetter).toBeUndefined();
  });

  it('keeps the order of 50 events of one key, interleaved with other keys', async () => {
    const classId = uuidv7();
    const ordered = Array.from({ length: 50 }, (_, i) => classPlanApproved(classId, `step ${i}`));
    const noise = Array.from({ length: 20 }, () => classPlanApproved(uuidv7()));
    // Several publishes, each mixing the key's events with other keys'.
    for (let i = 0; i < 5; i += 1) {
      await h.bus.publish([...ordered.slice(i * 10, i * 10 + 10), ...noise.slice(i * 4, i * 4 + 4)]);
    }
    const c = collector();
    await subscribe('order', [CLASSES.name], c.handler);
    await waitFor('all 50 events of the key', () => c.has(ordered.map((e) => e.id)));
    await waitFor('the other keys', () => c.has(noise.map((e) => e.id)));
    const forKey = c.received.filter((e) => e.key === classId);
    expect(forKey.map((e) => fromBinary(ClassPlanApprovedSchema, e.data).name)).toEqual(
      ordered.map((_, i) => `step ${i}`),
    );
    expect(forKey.map((e) => e.id)).toEqual(ordered.map((e) => e.id));
  });

  it('keeps per-key order when events are published one by one while a slow handler runs', async () => {
    const classId = uuidv7();
    const ordered = Array.from({ length: 50 }, (_, i) => classPlanApproved(classId, `one-by-one ${i}`));
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await subscribe('slow', [CLASSES.name], async (e) => {
      if (e.key !== classId) return;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(2);
      seen.push(e.id);
      inFlight -= 1;
    });
    for (const e of ordered) {
      await h.bus.publish([e]);
      await sleep(1);
    }
    await waitFor('all 50 events', () => ordered.every((e) => seen.includes(e.id)));
    expect(maxInFlight).toBe(1);
    expect(seen).toEqual(ordered.map((e) => e.id));
  });

  it('delivers every event to each of two groups', async () => {
    const events = Array.from({ length: 12 }, (_, i) => ({
      ...classPlanApproved(uuidv7()),
      topic: i % 2 === 0 ? CLASSES.name : OTHER.name,
    }));
    const a = collector();
    const b = collector();
    await subscribe('group-a', [CLASSES.name, OTHER.name], a.handler);
    await subscribe('group-b', [CLASSES.name, OTHER.name], b.handler);
    await h.bus.publish(events.slice(0, 6));
    await h.bus.publish(events.slice(6));
    const ids = events.map((e) => e.id);
    await waitFor('group a to get every event', () => a.has(ids));
    await waitFor('group b to get every event', () => b.has(ids));
    for (const c of [a, b]) {
      const mine = c.received.filter((e) => ids.includes(e.id));
      expect(new Set(mine.map((e) => e.id)).size).toBe(12);
      for (const e of mine) expect(e.topic).toBe(events.find((x) => x.id === e.id)!.topic);
    }
  });

  it('stop() ends delivery to that subscription only', async () => {
    const stopped = collector();
    const control = collector();
    const sub = await subscribe('stopped', [CLASSES.name], stopped.handler);
    await subscribe('control', [CLASSES.name], control.handler);

    const first = classPlanApproved(uuidv7());
    await h.bus.publish([first]);
    await waitFor('the first event', () => stopped.has([first.id]) && control.has([first.id]));

    await sub.stop();
    expect(sub.isHealthy()).toBe(false);

    const second = classPlanApproved(uuidv7());
    await h.bus.publish([second]);
    await waitFor('the control group to get the second event', () => control.has([second.id]));
    await sleep(kind === 'kafka' ? 1_500 : 100);
    expect(stopped.has([second.id])).toBe(false);
  });

  it('stop() lets the event in hand finish before it resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const event = classPlanApproved(uuidv7());
    let started = false;
    let finished = false;
    const sub = await subscribe('inhand', [CLASSES.name], async (e) => {
      if (e.id !== event.id) return;
      started = true;
      await gate;
      finished = true;
    });
    await h.bus.publish([event]);
    await waitFor('the handler to start', () => started);
    let stopResolved = false;
    const stopping = sub.stop().then(() => (stopResolved = true));
    await sleep(200);
    expect(stopResolved).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
  });
}

describe.each([
  ['MemoryBus', 'memory' as const, () => memoryHarness()],
  ['KafkaBus', 'kafka' as const, () => kafkaHarness([CLASSES, OTHER])],
])('EventBus contract: %s', (_name, kind, factory) => {
  busContract(factory, kind);
});

describe('MemoryBus once closed', () => {
  it('refuses to publish and fails ping', async () => {
    const h = await memoryHarness();
    await h.cleanup();
    await expect(h.bus.publish([classPlanApproved(uuidv7())])).rejects.toThrow('bus closed');
    await expect(h.bus.ping()).rejects.toThrow('bus closed');
  });
});
