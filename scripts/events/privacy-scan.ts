/**
 * Privacy scan of the events a test run produced (packages/events/src/privacy.ts says what is looked for).
 *
 * Test files work in private Kafka namespaces and throwaway databases that they delete when they finish,
 * so a scan at the end of the run would find almost nothing. Hence two parts:
 *
 *   privacy-scan.ts tap --report <file> [--ready <file>]
 *       Runs beside jest. Every 200 ms it lists the broker's topics; each new namespace (the prefix before
 *       the first dot, or a topic without one) gets a consumer that reads its topics from the beginning and
 *       scans every record: key, headers and payload. On SIGTERM it drains what is still there and writes
 *       the report: records scanned per topic, findings, and — measured, not guessed — records it could
 *       not read because their topic was deleted before it got to them.
 *   privacy-scan.ts scan [--tap-report <file>] [--no-kafka] [--no-outbox]
 *       At the end: every topic still on the broker, read from the beginning, and every `outbox` table in
 *       every database on the server (DATABASE_URL) — what survived the run, e.g. a stack kept for
 *       debugging — plus the tap's report. Exits 1 on any finding (or when the tap missed records).
 *
 * Scanned: every record that reached the broker while the tap ran (whatever process produced it: jest
 * workers, service processes of the end-to-end stacks), and every outbox row that still exists at the end.
 * Not scanned: events only on the in-process MemoryBus (embedded mode) that never reached a database.
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { schemaFor } from '@vtv/events';
import { scanEvent, type Finding } from '@vtv/events/src/privacy';
import { infraEnv, withDatabase } from '@vtv/testing';
import { brokers, headerStrings, kafkaClient, readTopics } from './kafka';

interface Report {
  records: number;
  byTopic: Record<string, number>;
  findings: (Finding & { topic: string; offset?: string; type: string })[];
  /** Records that were on the broker but deleted before the tap read them. */
  missed: Record<string, number>;
  source: string;
}

function emptyReport(source: string): Report {
  return { records: 0, byTopic: {}, findings: [], missed: {}, source };
}

function scanInto(
  report: Report,
  topic: string,
  r: { key: string; value: Uint8Array; headers: Record<string, string>; offset?: string },
) {
  report.records += 1;
  report.byTopic[topic] = (report.byTopic[topic] ?? 0) + 1;
  const type = r.headers.ce_type ?? '';
  for (const f of scanEvent({ type, key: r.key, data: r.value, headers: r.headers }, schemaFor))
    report.findings.push({ ...f, topic, type, ...(r.offset ? { offset: r.offset } : {}) });
}

const namespaceOf = (topic: string) => (topic.includes('.') ? topic.slice(0, topic.indexOf('.')) : topic);
const visible = (topic: string) => !topic.startsWith('__');

// ------------------------------------------------------------------ tap

/** Waits for `p` at most `ms`; never rejects (cleanup must not stop the tap). */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
  ]);
}

interface Tap {
  consumer: Consumer;
  topics: string[];
  groupId: string;
  /** Next offset to read per topic/partition, and the last end offset seen on the broker. */
  read: Map<string, number>;
  end: Map<string, number>;
}

async function tap(kafka: Kafka, admin: Admin, reportFile: string, readyFile?: string): Promise<void> {
  const report = emptyReport('tap');
  const taps = new Map<string, Tap>();
  let stopping = false;
  let generation = 0;

  /** Starts a consumer for a namespace without waiting for it to join (a slow join must not stall polling). */
  const start = (ns: string, topics: string[]) => {
    const groupId = `vtv-privacy-tap.${ns}.${process.pid}.${++generation}`;
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
    });
    const t: Tap = { consumer, topics, groupId, read: new Map(), end: new Map() };
    taps.set(ns, t);
    void (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          scanInto(report, topic, {
            key: message.key?.toString() ?? '',
            value: message.value ?? new Uint8Array(),
            headers: headerStrings(message.headers),
            offset: message.offset,
          });
          t.read.set(`${topic}/${partition}`, Number(message.offset) + 1);
        },
      });
    })().catch(() => undefined);
  };

  const closing: Promise<void>[] = [];
  /** Stops a namespace's consumer (in the background); for a deleted namespace, records what it missed. */
  const finish = (ns: string, t: Tap, deleted: boolean) => {
    taps.delete(ns);
    if (deleted)
      for (const [k, end] of t.end) {
        const gap = end - (t.read.get(k) ?? 0);
        if (gap > 0) report.missed[k] = gap;
      }
    closing.push(
      withTimeout(t.consumer.disconnect(), 5_000).then(() =>
        withTimeout(admin.deleteGroups([t.groupId]), 5_000),
      ),
    );
  };

  const poll = async () => {
    const topics = (await admin.listTopics()).filter(visible);
    const byNs = new Map<string, string[]>();
    for (const topic of topics)
      byNs.set(namespaceOf(topic), [...(byNs.get(namespaceOf(topic)) ?? []), topic]);
    for (const [ns, t] of taps) {
      const live = byNs.get(ns) ?? [];
      if (t.topics.some((x) => !live.includes(x))) finish(ns, t, true);
    }
    for (const [ns, list] of byNs) {
      const t = taps.get(ns);
      if (!t) start(ns, list.sort());
      else if (list.some((x) => !t.topics.includes(x))) {
        // New topics in a namespace: re-subscribe to the full set (offsets restart at the beginning,
        // which rescans — harmless).
        finish(ns, t, false);
        start(ns, list.sort());
      }
    }
    // Remember each live topic's end, to measure what a deletion cut off.
    await Promise.all(
      [...taps.values()].flatMap((t) =>
        t.topics.map(async (topic) => {
          const offsets = await admin.fetchTopicOffsets(topic).catch(() => undefined);
          for (const p of offsets ?? []) t.end.set(`${topic}/${p.partition}`, Number(p.high));
        }),
      ),
    );
  };

  await poll();
  if (readyFile) writeFileSync(readyFile, `${process.pid}\n`);
  console.error(`privacy tap: watching ${taps.size} namespace(s)`);
  await new Promise<void>((resolve) => {
    const loop = async () => {
      while (!stopping) {
        await poll().catch((err: Error) => console.error(`privacy tap: ${err.message}`));
        await new Promise((r) => setTimeout(r, 200));
      }
      resolve();
    };
    process.once('SIGTERM', () => (stopping = true));
    process.once('SIGINT', () => (stopping = true));
    void loop();
  });
  // Drain: give live consumers a moment to reach their topics' ends.
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    let behind = false;
    for (const t of taps.values())
      for (const [k, end] of t.end) if ((t.read.get(k) ?? 0) < end) behind = true;
    if (!behind) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const [ns, t] of [...taps]) finish(ns, t, false);
  await Promise.all(closing);
  writeFileSync(reportFile, JSON.stringify(report, null, 2));
  console.error(
    `privacy tap: ${report.records} record(s) scanned on ${Object.keys(report.byTopic).length} topic(s), ` +
      `${report.findings.length} finding(s), ${Object.values(report.missed).reduce((a, b) => a + b, 0)} missed`,
  );
}

// ------------------------------------------------------------------ end-of-run scan

async function scanKafka(kafka: Kafka, admin: Admin): Promise<Report> {
  const report = emptyReport('kafka');
  const topics = (await admin.listTopics()).filter(visible);
  if (topics.length === 0) return report;
  await readTopics({
    kafka,
    admin,
    topics,
    fromBeginning: true,
    untilEnd: true,
    onRecord: (r) => scanInto(report, r.topic, r),
  });
  return report;
}

async function scanOutboxes(databaseUrl: string): Promise<Report> {
  const report = emptyReport('outbox');
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  let names: string[];
  try {
    names = (
      await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
      )
    ).rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
  for (const name of names) {
    const db = new Client({ connectionString: withDatabase(databaseUrl, name) });
    try {
      await db.connect();
    } catch {
      continue; // dropped meanwhile, or not ours to read
    }
    try {
      const { rows: exists } = await db.query("SELECT to_regclass('public.outbox') IS NOT NULL AS ok");
      if (!exists[0]?.ok) continue;
      const { rows } = await db.query<{
        id: string;
        topic: string;
        key: string;
        type: string;
        subject: string | null;
        payload: Buffer;
        headers: Record<string, string>;
      }>('SELECT id, topic, key, type, subject, payload, headers FROM outbox');
      for (const row of rows) {
        const headers: Record<string, string> = {
          ce_id: row.id,
          ce_type: row.type,
          ce_subject: row.subject ?? '',
        };
        for (const [k, v] of Object.entries(row.headers ?? {})) if (typeof v === 'string') headers[k] = v;
        scanInto(report, `${name}:${row.topic}`, { key: row.key, value: row.payload, headers });
      }
    } catch {
      // A database dropped while we read it.
    } finally {
      await db.end().catch(() => undefined);
    }
  }
  return report;
}

/**
 * Namespaces whose events carry personal data on purpose: the tap's own test plants a canary there to prove
 * the tap sees a namespace that lives for a second. Their findings are reported, not failed on.
 */
export const CANARY_PREFIX = 'privacycanary_';
const isCanary = (f: { topic: string }) => f.topic.startsWith(CANARY_PREFIX);

function summary(r: Report): string {
  const missed = Object.values(r.missed).reduce((a, b) => a + b, 0);
  return `${r.source}: ${r.records} event(s) on ${Object.keys(r.byTopic).length} topic(s)/table(s), ${r.findings.length} finding(s)${r.source === 'tap' ? `, ${missed} missed` : ''}`;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      report: { type: 'string' },
      ready: { type: 'string' },
      'tap-report': { type: 'string' },
      'no-kafka': { type: 'boolean', default: false },
      'no-outbox': { type: 'boolean', default: false },
      brokers: { type: 'string' },
    },
  });
  const kafka = kafkaClient(brokers(values.brokers), 'vtv-privacy-scan');
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (positionals[0] === 'tap') {
      if (!values.report) throw new Error('tap needs --report <file>');
      await tap(kafka, admin, values.report, values.ready);
      // Consumers still joining a deleted namespace's group must not hold the process open.
      process.exit(0);
    }
    if (positionals[0] !== 'scan')
      throw new Error('usage: privacy-scan.ts tap --report <file> | scan [--tap-report <file>]');
    const reports: Report[] = [];
    if (values['tap-report']) {
      if (!existsSync(values['tap-report'])) throw new Error(`no tap report at ${values['tap-report']}`);
      reports.push(JSON.parse(readFileSync(values['tap-report'], 'utf8')) as Report);
    }
    if (!values['no-kafka']) reports.push(await scanKafka(kafka, admin));
    if (!values['no-outbox'])
      reports.push(await scanOutboxes(process.env.DATABASE_URL ?? infraEnv().DATABASE_URL));
    let bad = 0;
    for (const r of reports) {
      console.log(summary(r));
      for (const f of r.findings.filter(isCanary))
        console.log(`  canary caught (planted by a test, expected): ${f.kind} in ${f.topic}`);
      for (const f of r.findings.filter((f) => !isCanary(f)))
        console.error(
          `  ${f.kind} in ${f.topic}${f.offset ? `@${f.offset}` : ''} ${f.type} ${f.where}: ${f.excerpt}`,
        );
      for (const [k, n] of Object.entries(r.missed))
        console.error(`  missed ${n} record(s) of ${k} (topic deleted before the tap read them)`);
      bad += r.findings.filter((f) => !isCanary(f)).length + Object.keys(r.missed).length;
    }
    if (bad > 0) {
      console.error('privacy scan FAILED: personal data in events, or events the scan could not see');
      process.exitCode = 1;
    } else
      console.log('privacy scan passed: no ID numbers, mobile numbers, voucher codes or names in events');
  } finally {
    await admin.disconnect();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
