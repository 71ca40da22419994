import type { EventBus, SubscribeOptions, Subscription } from './bus';
import type { EventRecord } from './record';

interface Group {
  handler: SubscribeOptions['handler'];
  topics: Set<string>;
  /** Next offset per topic. */
  cursor: Map<string, number>;
  draining?: Promise<void>;
  stopped: boolean;
}

/**
 * In-process bus for the embedded mode: an append-only log per topic and a cursor per group, so it
 * keeps Kafka's semantics that matter here (per-topic order, at-least-once, groups independent,
 * handler failures retried by the consumer runner, never lost).
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
      if (records.some((r) => group.topics.has(r.topic))) this.drain(group);
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    if (this.groups.has(opts.group))
      throw new Error(`group ${opts.group} already subscribed in this process`);
    const group: Group = {
      handler: opts.handler,
      topics: new Set(opts.topics),
      cursor: new Map(),
      stopped: false,
    };
    for (const t of opts.topics)
      group.cursor.set(t, opts.fromBeginning === false ? (this.logs.get(t)?.length ?? 0) : 0);
    this.groups.set(opts.group, group);
    this.drain(group);
    return {
      ready: async () => undefined,
      isHealthy: () => !group.stopped,
      stop: async () => {
        group.stopped = true;
        await group.draining;
        this.groups.delete(opts.group);
      },
    };
  }

  private drain(group: Group): void {
    if (group.draining) {
      group.draining = group.draining.then(() => this.deliver(group));
      return;
    }
    group.draining = this.deliver(group).finally(() => {
      group.draining = undefined;
    });
  }

  private async deliver(group: Group): Promise<void> {
    await Promise.resolve();
    for (const topic of group.topics) {
      const log = this.logs.get(topic) ?? [];
      let offset = group.cursor.get(topic) ?? 0;
      while (!group.stopped && offset < log.length) {
        // A failing handler keeps the cursor where it is: the runner retries or dead-letters it.
        await group.handler(log[offset]!);
        offset += 1;
        group.cursor.set(topic, offset);
      }
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('bus closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups.values()].map((g) => ((g.stopped = true), g.draining)));
    this.groups.clear();
  }
}
