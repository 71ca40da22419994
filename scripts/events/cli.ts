/**
 * Tools for reading and operating the event topics (docs/analysts.md):
 *
 *   npm run events -- tail <topic> [--type T] [--subject S] [--from-beginning] [--exit] [--max N] [--namespace ns]
 *   npm run events -- replay <topic>... --group <service> [--database-url URL] [--truncate t1,t2] [--yes] [--namespace ns]
 *   npm run events -- deadletters <service> [--redrive] [--id ce_id] [--namespace ns]
 *   npm run events -- lag [--group g] [--all-groups] [--prometheus] [--serve port] [--namespace ns]
 *   npm run events -- topics
 *
 * Brokers: --brokers, else KAFKA_BROKERS, else .infra.env. Namespace: --namespace, else EVENTS_NAMESPACE.
 * Output: JSON lines on stdout (one per record), notes on stderr.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { fromBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import type { Admin } from 'kafkajs';
import { Client } from 'pg';
import {
  KafkaBus,
  allTopicSpecs,
  deadLetterTopic,
  fromHeaders,
  schemaFor,
  type EventRecord,
} from '@vtv/events';
import { consumerLag, lagMetricsText, registryGroups } from '@vtv/events/src/lag';
import { createLogger } from '@vtv/kit';
import { brokers, kafkaClient, prefix, readTopics, type RawRecord } from './kafka';

const USAGE = `usage: npm run events -- <command> [options]
  tail <topic> [--type T] [--subject S] [--from-beginning] [--exit] [--max N]
      Decode a topic to JSON lines. --type matches ce_type (full or short name), --subject ce_subject.
      Follows new events until stopped, unless --exit (stop at the current end) or --max N.
  replay <topic>... --group <service> [--database-url URL] [--truncate table,...] [--yes]
      Rebuild a projection: with the service stopped, clear its inbox rows for the topics (and truncate the
      projection tables) in one transaction, then reset the group's offsets to the earliest retained event.
      Without --yes it only prints the plan.
  deadletters <service> [--redrive] [--id ce_id]
      List the service's dead letters (JSON lines). --redrive re-publishes the ones not yet re-driven to
      their original topics (same ce_id, key and value); --id re-drives one dead letter by ce_id.
  lag [--group g] [--all-groups] [--prometheus] [--serve port]
      Consumer lag per group/topic/partition; --prometheus prints the exposition text; --serve exposes
      it on http://0.0.0.0:<port>/metrics.
  topics
      The registry's topics.
common: [--namespace ns] [--brokers host:port,...]`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { positionals, values: opts } = parseArgs({
  allowPositionals: true,
  options: {
    type: { type: 'string' },
    subject: { type: 'string' },
    'from-beginning': { type: 'boolean', default: false },
    exit: { type: 'boolean', short: 'e', default: false },
    max: { type: 'string' },
    namespace: { type: 'string' },
    brokers: { type: 'string' },
    group: { type: 'string' },
    'all-groups': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    truncate: { type: 'string' },
    yes: { type: 'boolean', default: false },
    redrive: { type: 'boolean', default: false },
    id: { type: 'string' },
    prometheus: { type: 'boolean', default: false },
    serve: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const namespace = opts.namespace ?? process.env.EVENTS_NAMESPACE ?? '';
const ns = prefix(namespace);
const specs = allTopicSpecs();
const knownTopic = (t: string) => specs.some((s) => s.name === t);

/** One record as a JSON line: the CloudEvents attributes, the decoded payload, where it was read. */
function recordLine(r: RawRecord, record: EventRecord | null): Record<string, JsonValue> {
  const base: Record<string, JsonValue> = {
    topic: r.topic.slice(ns.length),
    partition: r.partition,
    offset: r.offset,
    key: r.key,
  };
  if (!record)
    return { ...base, error: 'not a CloudEvent (no ce_* headers)', value: r.value.toString('base64') };
  const schema = schemaFor(record.type);
  let data: JsonValue = null;
  let error: string | undefined;
  if (schema) {
    try {
      data = toJson(schema, fromBinary(schema, r.value));
    } catch (err) {
      error = `cannot decode as ${record.type}: ${(err as Error).message}`;
    }
  } else error = `unknown type ${record.type} (newer contracts? update this checkout)`;
  return {
    ...base,
    id: record.id,
    type: record.type,
    source: record.source,
    subject: record.subject,
    time: record.time,
    ...(record.traceparent ? { traceparent: record.traceparent } : {}),
    ...(record.deadLetter
      ? {
          deadLetter: {
            error: record.deadLetter.error,
            originalTopic: record.deadLetter.originalTopic,
            consumer: record.deadLetter.consumer,
          },
        }
      : {}),
    ...(error ? { error, value: r.value.toString('base64') } : { data }),
  };
}

function toRecord(r: RawRecord): EventRecord | null {
  return fromHeaders(r.topic.slice(ns.length), r.key, r.value, r.headers);
}

function out(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function typeMatches(type: string, wanted: string): boolean {
  return type === wanted || type.endsWith(`.${wanted}`);
}

async function withKafka<T>(work: (k: ReturnType<typeof kafkaClient>, admin: Admin) => Promise<T>) {
  const kafka = kafkaClient(brokers(opts.brokers));
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(kafka, admin);
  } finally {
    await admin.disconnect();
  }
}

async function tail(topic: string | undefined): Promise<void> {
  if (!topic) fail('tail needs a topic, e.g. npm run events -- tail training.class.v1 --from-beginning');
  if (!knownTopic(topic)) console.error(`note: ${topic} is not in the topic registry`);
  const max = opts.max ? Number(opts.max) : Infinity;
  if (!(max > 0)) fail('--max must be a positive number');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  let printed = 0;
  await withKafka((kafka, admin) =>
    readTopics({
      kafka,
      admin,
      topics: [ns + topic],
      fromBeginning: opts['from-beginning'],
      untilEnd: opts.exit,
      signal: controller.signal,
      onRecord: (r) => {
        const record = toRecord(r);
        if (opts.type && !(record && typeMatches(record.type, opts.type))) return;
        if (opts.subject && record?.subject !== opts.subject) return;
        out(recordLine(r, record));
        printed += 1;
        return printed < max;
      },
    }),
  );
}

async function replay(topics: string[]): Promise<void> {
  const group = opts.group;
  if (!group || topics.length === 0) fail('replay needs topics and --group <consumer group>');
  for (const t of topics) if (!knownTopic(t)) fail(`${t} is not in the topic registry`);
  const tables = (opts.truncate ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of tables)
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(t)) fail(`not a table name: ${t}`);
  const inboxSql = `DELETE FROM inbox WHERE consumer = '${group}' AND topic IN (${topics.map((t) => `'${t}'`).join(', ')})`;
  await withKafka(async (_kafka, admin) => {
    const { groups } = await admin.describeGroups([ns + group]);
    const state = groups[0];
    const members = state?.members.length ?? 0;
    console.error(
      `group ${ns + group}: state ${state?.state ?? 'unknown'}, ${members} member(s); topics ${topics.map((t) => ns + t).join(', ')}`,
    );
    const plan = [
      `1. stop every replica of the service "${group}" (a group with members cannot be reset)`,
      `2. in the ${group} database, in one transaction:`,
      ...tables.map((t) => `     TRUNCATE ${t};`),
      `     ${inboxSql};`,
      `3. reset group ${ns + group} to the earliest retained offset on ${topics.join(', ')}`,
      `4. start the service: it re-reads the topics and rebuilds the tables; its inbox dedupes any repeats`,
    ];
    if (!opts.yes) {
      console.error(`plan (nothing done; add --yes to run steps 2-3):\n${plan.join('\n')}`);
      return;
    }
    if (members > 0)
      fail(`group ${ns + group} has ${members} active member(s): stop the service first (step 1)`);
    if (opts['database-url']) {
      const db = new Client({ connectionString: opts['database-url'] });
      await db.connect();
      try {
        await db.query('BEGIN');
        for (const t of tables) await db.query(`TRUNCATE ${t}`);
        const res = await db.query('DELETE FROM inbox WHERE consumer = $1 AND topic = ANY($2::text[])', [
          group,
          topics,
        ]);
        await db.query('COMMIT');
        console.error(`inbox: removed ${res.rowCount} row(s); truncated ${tables.join(', ') || 'nothing'}`);
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await db.end();
      }
    } else {
      console.error(`no --database-url: run step 2 yourself before starting the service:\n  ${inboxSql};`);
    }
    for (const t of topics) await admin.resetOffsets({ groupId: ns + group, topic: ns + t, earliest: true });
    const after = await admin.fetchOffsets({ groupId: ns + group, topics: topics.map((t) => ns + t) });
    out({ group, reset: after.map((t) => ({ topic: t.topic.slice(ns.length), partitions: t.partitions })) });
  });
}

async function deadletters(service: string | undefined): Promise<void> {
  if (!service) fail('deadletters needs a service, e.g. npm run events -- deadletters vouchers');
  const topic = ns + deadLetterTopic(service);
  const redriving = opts.redrive || !!opts.id;
  const bus = redriving
    ? new KafkaBus({
        brokers: brokers(opts.brokers),
        clientId: 'vtv-events-redrive',
        logger: createLogger('events-cli', 'error', process.stderr),
        namespace,
      })
    : undefined;
  let seen = 0;
  let redriven = 0;
  try {
    await withKafka((kafka, admin) =>
      readTopics({
        kafka,
        admin,
        topics: [topic],
        fromBeginning: true,
        untilEnd: true,
        // --redrive keeps its position so each dead letter is re-driven once; listing and --id do not.
        ...(opts.redrive && !opts.id ? { groupId: `${ns}events-redrive.${service}` } : {}),
        onRecord: async (r) => {
          const record = toRecord(r);
          if (opts.id && record?.id !== opts.id) return;
          seen += 1;
          const line = recordLine(r, record);
          if (bus && record?.deadLetter) {
            const { deadLetter, ...original } = record;
            await bus.publish([{ ...original, topic: deadLetter.originalTopic }]);
            redriven += 1;
            out({ ...line, redrivenTo: deadLetter.originalTopic });
          } else out(line);
        },
      }),
    );
  } finally {
    await bus?.close();
  }
  console.error(
    redriving
      ? `${redriven} dead letter(s) re-driven from ${topic}${opts.id && redriven === 0 ? ` (no ${opts.id} found)` : ''}`
      : `${seen} dead letter(s) in ${topic}`,
  );
}

async function lag(): Promise<void> {
  const groups = opts['all-groups']
    ? undefined
    : Object.fromEntries(
        Object.entries(registryGroups(specs)).filter(([g]) => !opts.group || g === opts.group),
      );
  const collect = () =>
    withKafka((_k, admin) => consumerLag({ admin, namespace, ...(groups ? { groups } : {}) }));
  if (opts.serve) {
    const port = Number(opts.serve);
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      collect()
        .then((rows) =>
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lagMetricsText(rows)),
        )
        .catch((err: Error) => res.writeHead(503).end(`lag unavailable: ${err.message}\n`));
    });
    server.listen(port, () => console.error(`consumer lag on http://0.0.0.0:${port}/metrics`));
    return;
  }
  const rows = await collect();
  if (opts.prometheus) process.stdout.write(lagMetricsText(rows));
  else for (const r of rows) out(r);
}

async function main(): Promise<void> {
  const [command, ...args] = positionals;
  if (opts.help || !command) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'tail':
      return tail(args[0]);
    case 'replay':
      return replay(args);
    case 'deadletters':
      return deadletters(args[0]);
    case 'lag':
      return lag();
    case 'topics':
      for (const s of specs)
        out({
          topic: s.name,
          key: s.key,
          partitions: s.partitions,
          producer: s.producer,
          consumers: s.consumers,
          events: s.events.map((e) => e.typeName),
        });
      return;
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
