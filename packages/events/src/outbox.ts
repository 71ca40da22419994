import { Client } from 'pg';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Span } from '@opentelemetry/api';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { EventBus } from './bus';
import type { EventRecord } from './record';
import { FaultPoint, faultPoint } from '@vtv/kit';

/** An event as its outbox row (the columns the relay reads back); the CloudEvents source rides in headers. */
export function outboxRow(r: EventRecord): {
  id: string;
  topic: string;
  key: string;
  type: string;
  subject: string | null;
  payload: Buffer;
  headers: OutboxRow['headers'];
} {
  return {
    id: r.id,
    topic: r.topic,
    key: r.key,
    type: r.type,
    subject: r.subject,
    payload: Buffer.from(r.data),
    headers: { time: r.time, traceparent: r.traceparent, tracestate: r.tracestate, source: r.source },
  };
}

/** Writes events in the caller's transaction: they exist exactly when the state change does. */
export async function enqueue(manager: EntityManager, records: EventRecord[]): Promise<void> {
  if (records.length === 0) return;
  const values: unknown[] = [];
  const rows = records.map((r, i) => {
    const o = outboxRow(r);
    values.push(o.id, o.topic, o.key, o.type, o.subject, o.payload, JSON.stringify(o.headers));
    const b = i * 7;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}::jsonb)`;
  });
  await manager.query(
    `INSERT INTO outbox (id, topic, key, type, subject, payload, headers) VALUES ${rows.join(', ')}`,
    values,
  );
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  subject: string | null;
  payload: Buffer;
  headers: { time: string; source: string; traceparent?: string; tracestate?: string };
}

function toRecord(row: OutboxRow): EventRecord {
  return {
    id: row.id,
    type: row.type,
    source: row.headers.source,
    subject: row.subject ?? row.key,
    time: row.headers.time,
    topic: row.topic,
    key: row.key,
    data: row.payload,
    ...(row.headers.traceparent ? { traceparent: row.headers.traceparent } : {}),
    ...(row.headers.tracestate ? { tracestate: row.headers.tracestate } : {}),
  };
}

const tracer = trace.getTracer('@vtv/events');

/**
 * A producer span for one event, child of the request that wrote it (its traceparent from the outbox
 * row), and the record re-stamped with that span's context: the consumer's span then hangs under the
 * publish, and the trace reads request → outbox → Kafka → consumer. Events written without a trace
 * (no traceparent) are published without a span rather than starting a trace of their own.
 */
function publishSpan(record: EventRecord): { record: EventRecord; span?: Span } {
  if (!record.traceparent) return { record };
  const parent = propagation.extract(ROOT_CONTEXT, {
    traceparent: record.traceparent,
    ...(record.tracestate ? { tracestate: record.tracestate } : {}),
  });
  const span = tracer.startSpan(
    `${record.topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': record.topic,
        'messaging.message.id': record.id,
        'cloudevents.event_type': record.type,
      },
    },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  return {
    span,
    record: {
      ...record,
      ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
      ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
    },
  };
}

export interface RelayOptions {
  ds: DataSource;
  /** Connection string for the LISTEN connection (the pool's connections are not kept for it). */
  databaseUrl: string;
  bus: EventBus;
  logger: Logger;
  batchSize?: number;
  /** Fallback poll in case a notification is missed (e.g. while the LISTEN connection reconnects). */
  pollMs?: number;
  maxBackoffMs?: number;
  /** Test hook for fault injection: called between publish and marking rows as published. */
  afterPublish?: (records: EventRecord[]) => Promise<void>;
}

/**
 * Publishes outbox rows. Woken by NOTIFY on commit; claims rows with FOR UPDATE SKIP LOCKED so several
 * replicas share the work without double-sending a batch; marks them only after the broker acked.
 * A crash between ack and marking re-sends the batch: consumers dedupe on ce_id. When the broker is
 * down it backs off exponentially (with jitter) instead of spinning.
 */
export class OutboxRelay {
  private listener?: Client;
  private running = false;
  private wake?: () => void;
  /** A notification that arrived while no sleep was pending; the next sleep returns at once. */
  private notified = false;
  private abortBackoff?: () => void;
  private loop?: Promise<void>;
  private failures = 0;

  constructor(private readonly o: RelayOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.o.databaseUrl, application_name: 'outbox-relay' });
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    client.on('error', (err) => {
      this.o.logger.warn({ err }, 'outbox listener lost; polling until it reconnects');
      this.listener = undefined;
      setTimeout(() => this.running && void this.listen().catch(() => undefined), 1_000).unref();
    });
    try {
      await client.connect();
      await client.query('LISTEN outbox');
      this.listener = client;
    } catch (err) {
      this.o.logger.warn({ err }, 'outbox listener could not connect; polling');
      await client.end().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.notified) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const pollMs = this.o.pollMs ?? 1_000;
    const maxBackoff = this.o.maxBackoffMs ?? 30_000;
    while (this.running) {
      try {
        this.notified = false;
        const sent = await this.publishBatch();
        this.failures = 0;
        if (sent > 0) continue;
        await this.sleep(pollMs);
      } catch (err) {
        this.failures += 1;
        const backoff = Math.min(maxBackoff, 100 * 2 ** Math.min(this.failures, 12));
        const delay = backoff / 2 + Math.random() * (backoff / 2);
        this.o.logger.warn(
          { err, failures: this.failures, retryInMs: Math.round(delay) },
          'outbox publish failed',
        );
        // Notifications must not cut a backoff short, or a broker outage becomes a hot loop; stop() may.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.abortBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.abortBackoff = undefined;
      }
    }
  }

  /** Publishes one batch; returns how many rows it sent. Exposed for tests and the drain on shutdown. */
  async publishBatch(): Promise<number> {
    let failed: string[] = [];
    try {
      return await this.o.ds.transaction(async (manager) => {
        const rows: OutboxRow[] = await manager.query(
          `SELECT id, topic, key, type, subject, payload, headers FROM outbox
           WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [this.o.batchSize ?? 200],
        );
        if (rows.length === 0) return 0;
        const ids = rows.map((r) => r.id);
        const sends = rows.map((row) => publishSpan(toRecord(row)));
        const records = sends.map((s) => s.record);
        await faultPoint(FaultPoint.RELAY_BEFORE_PUBLISH);
        try {
          await this.o.bus.publish(records);
        } catch (err) {
          failed = ids;
          for (const { span } of sends) {
            span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            span?.end();
          }
          throw err;
        }
        for (const { span } of sends) span?.end();
        await faultPoint(FaultPoint.RELAY_AFTER_PUBLISH);
        await this.o.afterPublish?.(records);
        await manager.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [ids]);
        return rows.length;
      });
    } catch (err) {
      // Counted outside the batch's transaction, which the failure rolled back.
      if (failed.length) {
        await this.o.ds
          .query('UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY($1::uuid[])', [failed])
          .catch(() => undefined);
      }
      throw err;
    }
  }

  /** Unpublished rows and the age of the oldest: the outbox lag operators watch. */
  async lag(): Promise<{ pending: number; oldestAgeMs: number }> {
    const [row]: { pending: string; oldest: Date | null }[] = await this.o.ds.query(
      'SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
    );
    return {
      pending: Number(row?.pending ?? 0),
      oldestAgeMs: row?.oldest ? Date.now() - row.oldest.getTime() : 0,
    };
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.abortBackoff?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }
}
