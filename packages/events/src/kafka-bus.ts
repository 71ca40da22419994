import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import type { EventBus, SubscribeOptions, Subscription } from './bus';
import { fromHeaders, toHeaders, type EventRecord } from './record';
import type { TopicSpec } from './topics';
import './kafkajs-idle-timer';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /**
   * Prefix for topic and group names ("<ns>.<topic>"): lets test runs or tenants share one cluster
   * without seeing each other's events. Empty in normal deployments.
   */
  namespace?: string;
}

function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value.toString();
  }
  return out;
}

/** Kafka through kafkajs: an idempotent producer, one consumer per group, topics from the registry. */
export class KafkaBus implements EventBus {
  readonly kind = 'kafka';
  private readonly kafka: Kafka;
  private producer?: Producer;
  private producerConnecting?: Promise<Producer>;
  private admin?: Admin;
  private readonly consumers = new Set<Consumer>();

  private readonly ns: string;

  constructor(private readonly opts: KafkaBusOptions) {
    this.ns = opts.namespace ? `${opts.namespace}.` : '';
    const log = opts.logger.child({ component: 'kafka' });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 5_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...rest } = entry.log;
        const level =
          entry.level <= logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug';
        log[level]({ namespace: entry.namespace, ...rest }, message);
      },
    });
  }

  private getProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.producerConnecting ??= (async () => {
      // Idempotent: a retried send after a lost ack does not duplicate the record on the broker.
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await p.connect();
      } catch (err) {
        this.producerConnecting = undefined;
        throw err;
      }
      this.producer = p;
      return p;
    })();
    return this.producerConnecting;
  }

  async publish(records: EventRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.getProducer();
    const byTopic = new Map<string, EventRecord[]>();
    for (const r of records) byTopic.set(this.ns + r.topic, [...(byTopic.get(this.ns + r.topic) ?? []), r]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: Buffer.from(r.data), headers: toHeaders(r) })),
      })),
    });
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: this.ns + opts.group,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // Short fetch waits keep shutdown quick; an idle consumer polls twice a second.
      maxWaitTimeInMs: 500,
      rebalanceTimeout: 30_000,
    });
    let healthy = false;
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      healthy = true;
      resolveReady();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      healthy = false;
      this.opts.logger.error(
        { err: e.payload.error, group: opts.group },
        'consumer crashed; kafkajs restarts it',
      );
    });
    consumer.on(consumer.events.STOP, () => (healthy = false));
    await consumer.connect();
    await consumer.subscribe({
      topics: opts.topics.map((t) => this.ns + t),
      fromBeginning: opts.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: true,
      eachMessage: async ({ topic, message }) => {
        const headers = headerStrings(message.headers);
        const record = fromHeaders(
          topic.slice(this.ns.length),
          message.key?.toString() ?? '',
          message.value ?? new Uint8Array(),
          headers,
        );
        if (!record) {
          this.opts.logger.warn(
            { topic, offset: message.offset },
            'skipping message without CloudEvents headers',
          );
          return;
        }
        await opts.handler(record);
      },
    });
    this.consumers.add(consumer);
    return {
      ready: () => ready,
      isHealthy: () => healthy,
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      // Topic creation waits for leaders; a loaded broker needs more patience than the clients' default.
      const admin = this.kafka.admin({ retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 } });
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async ping(): Promise<void> {
    const admin = await this.getAdmin();
    await admin.describeCluster();
  }

  /** Creates missing topics with the registry's partitions and retention; leaves existing ones. */
  async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.map((s) => ({ ...s, name: this.ns + s.name })).filter((s) => !existing.has(s.name));
    if (missing.length === 0) return [];
    await admin.createTopics({
      // Waited for below: kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft
      // broker answers for a moment after creating a topic.
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'retention.ms', value: String(s.retentionMs) },
          { name: 'cleanup.policy', value: s.cleanupPolicy },
        ],
      })),
    });
    await this.waitForLeaders(missing.map((s) => s.name));
    return missing.map((s) => s.name);
  }

  /** Polls metadata until every partition of `topics` has a leader (bounded; throws on timeout). */
  private async waitForLeaders(topics: string[], timeoutMs = 30_000): Promise<void> {
    const admin = await this.getAdmin();
    const deadline = Date.now() + timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics });
        if (
          meta.length === topics.length &&
          meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
        ) {
          return;
        }
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline)
        throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Deletes this namespace's topics and consumer groups (test clean-up). Refuses without a namespace,
   * so it can never remove a deployment's real topics.
   */
  async deleteNamespace(groups: string[] = []): Promise<void> {
    if (!this.ns) throw new Error('deleteNamespace needs a namespace');
    const admin = await this.getAdmin();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(this.ns));
    const ownGroups = groups.map((g) => this.ns + g);
    if (ownGroups.length) await admin.deleteGroups(ownGroups).catch(() => undefined);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.producer = undefined;
    this.producerConnecting = undefined;
    this.admin = undefined;
  }
}
