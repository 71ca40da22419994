import { Kafka, logLevel } from 'kafkajs';
import { createLogger, type Logger } from '@vtv/kit';
import { infraEnv, uniqueName } from '@vtv/testing';
import { KafkaBus, MemoryBus, type EventBus, type EventRecord, type TopicSpec } from '../src';

export const logger: Logger = createLogger('test', 'warn');

/**
 * For suites that inject failures on purpose (the relay and runner log every one of them): silent
 * unless TEST_LOG_LEVEL asks for more.
 */
export const quietLogger: Logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A test topic: three partitions, short retention. */
export function testTopic(name: string, partitions = 3): TopicSpec {
  return {
    name,
    description: `test topic ${name}`,
    key: 'aggregate id',
    partitions,
    retentionMs: 60 * 60 * 1000,
    cleanupPolicy: 'delete',
    producer: 'test',
    consumers: [],
    events: [],
  };
}

/** A bus under test plus what it takes to leave the real broker as we found it. */
export interface BusHarness {
  bus: EventBus;
  /** Records every group subscribed, so cleanup can delete them on Kafka. */
  group(prefix: string): string;
  cleanup(): Promise<void>;
}

export async function memoryHarness(): Promise<BusHarness> {
  const bus = new MemoryBus();
  return { bus, group: (p) => uniqueName(p), cleanup: () => bus.close() };
}

/** A KafkaBus in its own namespace with `topics` created; cleanup deletes its topics and groups. */
export async function kafkaHarness(topics: TopicSpec[]): Promise<BusHarness> {
  const brokers = infraEnv().KAFKA_BROKERS.split(',');
  const namespace = uniqueName('bus');
  const bus = new KafkaBus({ brokers, clientId: namespace, logger, namespace });
  const created = await bus.ensureTopics(topics);
  expect(created.sort()).toEqual(topics.map((t) => `${namespace}.${t.name}`).sort());
  // Idempotent: a second call finds them all.
  expect(await bus.ensureTopics(topics)).toEqual([]);
  const groups: string[] = [];
  return {
    bus,
    group: (p) => {
      const g = uniqueName(p);
      groups.push(`${namespace}.${g}`);
      return g;
    },
    cleanup: async () => {
      await bus.close();
      const admin = new Kafka({
        clientId: `${namespace}-cleanup`,
        brokers,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
        await admin.deleteTopics({ topics: created, timeout: 10_000 });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Collects what a subscription receives. */
export function collector() {
  const received: EventRecord[] = [];
  return {
    received,
    handler: async (e: EventRecord) => {
      received.push(e);
    },
    ids: () => received.map((e) => e.id),
    has: (ids: string[]) => ids.every((id) => received.some((e) => e.id === id)),
  };
}
