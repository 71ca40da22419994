import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { context, propagation } from '@opentelemetry/api';
import { uuidv7 } from '@vtv/kit';

/**
 * One event as it travels: a protobuf payload plus CloudEvents attributes (Kafka binary binding:
 * `ce_*` headers) and W3C trace context. The same shape sits in the outbox, on Kafka and in the
 * in-process bus.
 */
export interface EventRecord {
  /** ce_id: UUIDv7, unique per event; consumers dedupe on it. */
  id: string;
  /** ce_type: the protobuf message's full name, e.g. vtv.training.v1.ClassPlanApproved. */
  type: string;
  /** ce_source: /vtv/<producing service>. */
  source: string;
  /** ce_subject: the aggregate id the event is about (opaque, never personal data). */
  subject: string;
  /** ce_time: ISO-8601. */
  time: string;
  topic: string;
  /** Kafka key: the aggregate id, so one aggregate's events stay ordered in one partition. */
  key: string;
  data: Uint8Array;
  traceparent?: string;
  tracestate?: string;
  /** Set only on dead-letter topics: why and where the event failed. */
  deadLetter?: DeadLetterInfo;
}

export interface DeadLetterInfo {
  error: string;
  originalTopic: string;
  consumer: string;
}

export const CONTENT_TYPE = 'application/protobuf';

export interface NewEvent<Desc extends DescMessage> {
  schema: Desc;
  data: MessageInitShape<Desc>;
  topic: string;
  /** Aggregate id: becomes both the key and ce_subject. */
  subject: string;
  source: string;
}

/** Builds a record, capturing the active trace context so the consumer's span joins the same trace. */
export function buildEvent<Desc extends DescMessage>(e: NewEvent<Desc>, now = new Date()): EventRecord {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return {
    id: uuidv7(now.getTime()),
    type: e.schema.typeName,
    source: e.source,
    subject: e.subject,
    time: now.toISOString(),
    topic: e.topic,
    key: e.subject,
    data: toBinary(e.schema, create(e.schema, e.data)),
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

export type KafkaHeaders = Record<string, string>;

export function toHeaders(r: EventRecord): KafkaHeaders {
  const h: KafkaHeaders = {
    ce_specversion: '1.0',
    ce_id: r.id,
    ce_type: r.type,
    ce_source: r.source,
    ce_subject: r.subject,
    ce_time: r.time,
    'content-type': CONTENT_TYPE,
  };
  if (r.traceparent) h.traceparent = r.traceparent;
  if (r.tracestate) h.tracestate = r.tracestate;
  if (r.deadLetter) {
    h['x-error'] = r.deadLetter.error.slice(0, 1000);
    h['x-original-topic'] = r.deadLetter.originalTopic;
    h['x-consumer'] = r.deadLetter.consumer;
  }
  return h;
}

/** Reverse of toHeaders; null when the message is not a CloudEvent of ours (it goes to the dead letters). */
export function fromHeaders(
  topic: string,
  key: string,
  data: Uint8Array,
  h: KafkaHeaders,
): EventRecord | null {
  const { ce_id: id, ce_type: type, ce_source: source, ce_subject: subject, ce_time: time } = h;
  if (!id || !type || !source || !time) return null;
  return {
    id,
    type,
    source,
    subject: subject ?? key,
    time,
    topic,
    key,
    data,
    ...(h.traceparent ? { traceparent: h.traceparent } : {}),
    ...(h.tracestate ? { tracestate: h.tracestate } : {}),
    ...(h['x-original-topic']
      ? {
          deadLetter: {
            error: h['x-error'] ?? '',
            originalTopic: h['x-original-topic'],
            consumer: h['x-consumer'] ?? '',
          },
        }
      : {}),
  };
}
