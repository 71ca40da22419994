import type { EventRecord } from './record';

export type EventHandler = (event: EventRecord) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: the consuming service's name. */
  group: string;
  topics: string[];
  handler: EventHandler;
  /** A new group starts at the earliest retained event (default) rather than the latest. */
  fromBeginning?: boolean;
}

export interface Subscription {
  /** Resolves once the subscription receives events (group joined, partitions assigned). */
  ready(): Promise<void>;
  /** True while the subscription is attached; readiness reports it. */
  isHealthy(): boolean;
  /** Finishes the event in hand, commits and leaves the group. */
  stop(): Promise<void>;
}

/**
 * The transport for events. Two implementations pass one contract suite: Kafka (production, tests)
 * and in-process (the embedded `npm start`). Delivery is at least once and ordered per key; consumers
 * dedupe through their inbox.
 */
export interface EventBus {
  readonly kind: 'kafka' | 'memory';
  publish(records: EventRecord[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  /** Throws when the transport does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
