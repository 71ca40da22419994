/**
 * Reading topics for the tools: a throwaway consumer group that reads the given topics (from the start or
 * from now), optionally stopping at the end offsets seen when it started, and leaves no group behind.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders, type KafkaMessage } from 'kafkajs';
import { infraEnv } from '@vtv/testing';

// kafkajs 2.2.4 on Node 24 sets a negative timer in its retry path (harmless, but noisy on stderr).
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') console.error(`${w.name}: ${w.message}`);
});

export function brokers(explicit?: string): string[] {
  const list = explicit ?? process.env.KAFKA_BROKERS ?? infraEnv().KAFKA_BROKERS;
  return list
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

export function kafkaClient(brokerList: string[], clientId = 'vtv-events-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers: brokerList,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 15_000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
}

export function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value.toString();
  }
  return out;
}

export interface RawRecord {
  /** Full topic name as on the broker (with namespace). */
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface ReadOptions {
  kafka: Kafka;
  admin: Admin;
  /** Full topic names (with namespace). */
  topics: string[];
  fromBeginning: boolean;
  /** Stop at the end offsets seen at start (like kcat -e); otherwise follow until stopped. */
  untilEnd: boolean;
  /** Return false to stop reading. */
  onRecord(r: RawRecord): boolean | void | Promise<boolean | void>;
  /** Consumer group to use (position kept); default: a throwaway group, deleted afterwards. */
  groupId?: string;
  signal?: AbortSignal;
}

function toRaw(topic: string, partition: number, m: KafkaMessage): RawRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key?.toString() ?? '',
    value: m.value ?? Buffer.alloc(0),
    headers: headerStrings(m.headers),
  };
}

/** Reads records; resolves when the end is reached (untilEnd), onRecord returns false, or signal aborts. */
export async function readTopics(o: ReadOptions): Promise<void> {
  const throwaway = !o.groupId;
  const groupId = o.groupId ?? `vtv-events-cli-${randomBytes(6).toString('hex')}`;
  // End offsets now, per partition; partitions already at their end (or empty) count as done.
  const remaining = new Map<string, number>();
  if (o.untilEnd) {
    for (const topic of o.topics) {
      const offsets = await o.admin.fetchTopicOffsets(topic);
      for (const p of offsets)
        if (Number(p.high) > Number(p.low)) remaining.set(`${topic}/${p.partition}`, Number(p.high));
    }
    if (o.groupId) {
      // A kept position may already be at the end.
      const committed = await o.admin.fetchOffsets({ groupId, topics: o.topics });
      for (const t of committed)
        for (const p of t.partitions) {
          const k = `${t.topic}/${p.partition}`;
          if (Number(p.offset) >= 0 && Number(p.offset) >= (remaining.get(k) ?? 0)) remaining.delete(k);
        }
    }
    if (remaining.size === 0) return;
  }
  const consumer = o.kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  o.signal?.addEventListener('abort', () => finish());
  let stopped = false;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (stopped) return;
        const r = toRaw(topic, partition, message);
        const k = `${topic}/${partition}`;
        const end = remaining.get(k);
        if (o.untilEnd && end === undefined) return; // past the end seen at start, or an empty partition
        if ((await o.onRecord(r)) === false) {
          stopped = true;
          finish();
          return;
        }
        // A kept position moves past a record only once it has been handled.
        if (!throwaway)
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        if (o.untilEnd && end !== undefined && Number(message.offset) + 1 >= end) {
          remaining.delete(k);
          if (remaining.size === 0) {
            stopped = true;
            finish();
          }
        }
      },
    });
    await finished;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    if (throwaway) await o.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

/** Prefix for namespaced names ("<ns>." or ""). */
export function prefix(namespace: string | undefined): string {
  return namespace ? `${namespace}.` : '';
}
