/**
 * Consumer lag per group, topic and partition, from the broker's view: the group's committed offset
 * against the partition's end (high watermark). Exposed as Prometheus text in the naming of the common
 * Kafka exporters (kafka_consumergroup_lag …), so existing dashboards and alerts apply; served by
 * `npm run events -- lag --serve <port>` or from a service's own /metrics via `lagMetricsText`.
 */
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  /** Group id without the namespace. */
  group: string;
  /** Topic name without the namespace. */
  topic: string;
  partition: number;
  /** Committed offset; null when the group has committed nothing on this partition yet. */
  committed: number | null;
  /** Offset of the next record to be written (the high watermark). */
  end: number;
  /** Oldest offset still retained. */
  start: number;
  /** Records the group still has to read: end − committed, or end − start when nothing is committed. */
  lag: number;
}

export interface LagOptions {
  admin: Admin;
  /** Namespace prefix ("<ns>") of topics and groups, as EVENTS_NAMESPACE; empty for production. */
  namespace?: string;
  /**
   * Group → topics it reads (without namespace), e.g. from the topic registry's consumers. Without it,
   * every group of the namespace found on the broker is measured on the topics it has committed on.
   */
  groups?: Record<string, string[]>;
}

/** Group → topics it consumes, from the registry (topics.ts `consumers`). */
export function registryGroups(specs: { name: string; consumers: string[] }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of specs) for (const c of s.consumers) (out[c] ??= []).push(s.name);
  return out;
}

export async function consumerLag(o: LagOptions): Promise<PartitionLag[]> {
  const ns = o.namespace ? `${o.namespace}.` : '';
  let groups = o.groups;
  if (!groups) {
    const listed = await o.admin.listGroups();
    groups = {};
    for (const g of listed.groups) if (g.groupId.startsWith(ns)) groups[g.groupId.slice(ns.length)] = [];
  }
  const existing = new Set(await o.admin.listTopics());
  const ends = new Map<string, Map<number, { start: number; end: number }>>();
  const topicEnds = async (topic: string) => {
    let m = ends.get(topic);
    if (!m) {
      const offsets = await o.admin.fetchTopicOffsets(ns + topic);
      m = new Map(offsets.map((p) => [p.partition, { start: Number(p.low), end: Number(p.high) }]));
      ends.set(topic, m);
    }
    return m;
  };
  const rows: PartitionLag[] = [];
  for (const [group, wanted] of Object.entries(groups).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const topics = wanted.filter((t) => existing.has(ns + t));
    const committed = await o.admin.fetchOffsets({
      groupId: ns + group,
      ...(topics.length ? { topics: topics.map((t) => ns + t) } : {}),
    });
    for (const t of committed) {
      const topic = t.topic.slice(ns.length);
      if (!existing.has(t.topic)) continue;
      const bounds = await topicEnds(topic);
      for (const p of t.partitions) {
        const b = bounds.get(p.partition) ?? { start: 0, end: 0 };
        const c = Number(p.offset);
        const has = c >= 0;
        rows.push({
          group,
          topic,
          partition: p.partition,
          committed: has ? c : null,
          end: b.end,
          start: b.start,
          lag: Math.max(0, b.end - (has ? Math.max(c, b.start) : b.start)),
        });
      }
    }
  }
  return rows.sort(
    (a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition,
  );
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition (version 0.0.4) of the lag rows. */
export function lagMetricsText(rows: PartitionLag[]): string {
  const lines: string[] = [];
  const family = (name: string, help: string, samples: [Record<string, string | number>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${esc(String(v))}"`)
        .join(',');
      lines.push(`${name}{${l}} ${value}`);
    }
  };
  family(
    'kafka_consumergroup_lag',
    'Records a consumer group has not yet committed, per partition.',
    rows.map((r) => [{ consumergroup: r.group, topic: r.topic, partition: r.partition }, r.lag]),
  );
  const sums = new Map<string, number>();
  for (const r of rows)
    sums.set(`${r.group}\u0000${r.topic}`, (sums.get(`${r.group}\u0000${r.topic}`) ?? 0) + r.lag);
  family(
    'kafka_consumergroup_lag_sum',
    'Records a consumer group has not yet committed, summed over the partitions of a topic.',
    [...sums].map(([k, v]) => {
      const [group, topic] = k.split('\u0000');
      return [{ consumergroup: group!, topic: topic! }, v];
    }),
  );
  family(
    'kafka_consumergroup_current_offset',
    'Committed offset of a consumer group (-1 when it has committed nothing).',
    rows.map((r) => [{ consumergroup: r.group, topic: r.topic, partition: r.partition }, r.committed ?? -1]),
  );
  const seen = new Set<string>();
  family(
    'kafka_topic_partition_current_offset',
    'End offset (high watermark) of a partition.',
    rows
      .filter((r) => !seen.has(`${r.topic}/${r.partition}`) && seen.add(`${r.topic}/${r.partition}`))
      .map((r) => [{ topic: r.topic, partition: r.partition }, r.end]),
  );
  return `${lines.join('\n')}\n`;
}
