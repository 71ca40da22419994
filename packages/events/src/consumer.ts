import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { fromBinary } from '@bufbuild/protobuf';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { EventBus, Subscription } from './bus';
import type { EventRecord } from './record';

export interface HandlerContext {
  manager: EntityManager;
  event: EventRecord;
}

export interface TypedHandler<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  handle(message: MessageShape<Desc>, ctx: HandlerContext): Promise<void>;
}

/** Pairs a schema with its handler, keeping the message type. */
export function on<Desc extends DescMessage>(
  schema: Desc,
  handle: (message: MessageShape<Desc>, ctx: HandlerContext) => Promise<void>,
): TypedHandler {
  return { schema, handle: handle as TypedHandler['handle'] };
}

export interface ConsumerOptions {
  ds: DataSource;
  bus: EventBus;
  logger: Logger;
  /** Consumer group = the consuming service's name. */
  group: string;
  topics: string[];
  handlers: TypedHandler[];
  deadLetterTopic: string;
  maxAttempts?: number;
  baseBackoffMs?: number;
}

const tracer = trace.getTracer('@vtv/events');

/**
 * Runs one service's event handlers. Each event is handled in one transaction that first records its
 * ce_id in the inbox: a redelivered event finds its row and is skipped, so every effect applies once.
 * Failures retry with exponential backoff; after the last attempt the event goes to the dead-letter
 * topic with the error, and the consumer moves on instead of blocking its partition.
 */
export class ConsumerRunner {
  private subscription?: Subscription;
  private readonly byType: Map<string, TypedHandler>;
  private stopping = false;

  constructor(private readonly o: ConsumerOptions) {
    this.byType = new Map(o.handlers.map((h) => [h.schema.typeName, h]));
  }

  async start(): Promise<Subscription> {
    this.subscription = await this.o.bus.subscribe({
      group: this.o.group,
      topics: this.o.topics,
      handler: (event) => this.handle(event),
    });
    return this.subscription;
  }

  isHealthy(): boolean {
    return this.subscription?.isHealthy() ?? false;
  }

  private async handle(event: EventRecord): Promise<void> {
    const handler = this.byType.get(event.type);
    if (!handler) return; // Not an event this service cares about.
    const parent = propagation.extract(context.active(), {
      traceparent: event.traceparent,
      tracestate: event.tracestate,
    });
    await tracer.startActiveSpan(
      `${event.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': event.topic,
          'messaging.consumer.group.name': this.o.group,
          'messaging.message.id': event.id,
          'cloudevents.event_type': event.type,
        },
      },
      parent,
      async (span) => {
        try {
          await this.handleWithRetries(event, handler);
        } finally {
          span.end();
        }
      },
    );
  }

  private async handleWithRetries(event: EventRecord, handler: TypedHandler): Promise<void> {
    const maxAttempts = this.o.maxAttempts ?? 5;
    const base = this.o.baseBackoffMs ?? 200;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.applyOnce(event, handler);
        return;
      } catch (err) {
        const log = { err, eventId: event.id, type: event.type, attempt };
        if (attempt >= maxAttempts || this.stopping) {
          if (this.stopping) throw err; // Leave it uncommitted; the next owner of the partition retries.
          this.o.logger.error(log, 'event handling failed; sending to dead letters');
          trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          await this.deadLetter(event, err as Error);
          return;
        }
        this.o.logger.warn(log, 'event handling failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, base * 2 ** (attempt - 1)));
      }
    }
  }

  private async applyOnce(event: EventRecord, handler: TypedHandler): Promise<void> {
    await this.o.ds.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO inbox (consumer, event_id, topic, event_type) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [this.o.group, event.id, event.topic, event.type],
      );
      if (inserted.length === 0) return; // Already applied: a redelivery.
      const message = fromBinary(handler.schema, event.data);
      await handler.handle(message, { manager, event });
    });
  }

  private async deadLetter(event: EventRecord, err: Error): Promise<void> {
    const record: EventRecord = {
      ...event,
      topic: this.o.deadLetterTopic,
      deadLetter: { error: err.message, originalTopic: event.topic, consumer: this.o.group },
    };
    try {
      await this.o.bus.publish([record]);
    } catch (publishErr) {
      // Without the dead letter we must not skip the event: fail so the bus redelivers it.
      this.o.logger.error({ err: publishErr, eventId: event.id }, 'could not dead-letter event');
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.stop();
  }
}
