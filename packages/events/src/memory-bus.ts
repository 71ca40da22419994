import type { EventBus, SubscribeOptions, Subscription } from './bus';
import type { EventRecord } from './record';

interface Group {
  handler: SubscribeOptions['handler'];
  topics: Set<string>;
  /** Next offset per topic. */
  cursor: Map<string, number>;
  /** The group's single delivery loop, if running; it never rejects. */
  loop?: Promise<void>;
  /** Set when events arrive while the loop runs, so it goes round once more. */
  more: boolean;
  retryTimer?: NodeJS.Timeout;
  stopped: boolean;
}

/** Like Kafka redelivering after a consumer failure: the failed event is offered again after a pause. */
const REDELIVERY_DELAY_MS = 500;

/**
 * In-process bus for the embedded mode: an append-only log per topic and a cursor per group, so it
 * keeps Kafka's semantics that matter here (per-topic order, at-least-once, groups independent, an
 * event the handler failed on is redelivered, never skipped).
 */
export class MemoryBus implements EventBus {
  readonly kind = 'memory';
  private readonly logs = new Map<string, EventRecord[]>();
  private readonly groups = new Map<string, Group>();
  private closed = false;

  async publish(records: EventRecord[]): Promise<void> {
    if (this.closed) throw new Error('bus closed');
    for (const r of records) {
      const log = this.logs.get(r.topic) ?? [];
      log.push({ ...r, data: Uint8Array.from(r.data) });
      this.logs.set(r.topic, log);
    }
    for (const group of this.groups.values())
      if (records.some((r) => group.topics.has(r.topic))) this.schedule(group);
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    if (this.groups.has(opts.group))
      throw new Error(`group ${opts.group} already subscribed in this process`);
    const group: Group = {
      handler: opts.handler,
      topics: new Set(opts.topics),
      cursor: new Map(),
      more: false,
      stopped: false,
    };
    for (const t of opts.topics)
      group.cursor.set(t, opts.fromBeginning === false ? (this.logs.get(t)?.length ?? 0) : 0);
    this.groups.set(opts.group, group);
    this.schedule(group);
    return {
      ready: async () => undefined,
      isHealthy: () => !group.stopped,
      stop: async () => {
        await this.stopGroup(group);
        this.groups.delete(opts.group);
      },
    };
  }

  private schedule(group: Group): void {
    if (group.stopped) return;
    if (group.loop) {
      group.more = true;
      return;
    }
    group.loop = this.run(group);
  }

  private async run(group: Group): Promise<void> {
    try {
      do {
        group.more = false;
        await this.deliver(group);
      } while (group.more && !group.stopped);
    } catch {
      // The consumer runner already retried and could not park the event; offer it again later.
      if (!group.stopped) group.retryTimer = setTimeout(() => this.schedule(group), REDELIVERY_DELAY_MS);
    } finally {
      group.loop = undefined;
    }
  }

  private async deliver(group: Group): Promise<void> {
    await Promise.resolve();
    for (const topic of group.topics) {
      const log = this.logs.get(topic) ?? [];
      let offset = group.cursor.get(topic) ?? 0;
      while (!group.stopped && offset < log.length) {
        // The cursor moves only after the handler succeeded.
        await group.handler(log[offset]!);
        offset += 1;
        group.cursor.set(topic, offset);
      }
    }
  }

  private async stopGroup(group: Group): Promise<void> {
    group.stopped = true;
    clearTimeout(group.retryTimer);
    await group.loop;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('bus closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups.values()].map((g) => this.stopGroup(g)));
    this.groups.clear();
  }
}
