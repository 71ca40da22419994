/**
 * Generates the event catalogue from the one registry (packages/events/src/topics.ts + catalogue.ts) and
 * the contracts (proto/, compiled by buf with their comments):
 *
 *   docs/events.md       topics, keys, partitions, retention, producers, consumers, event types, fields,
 *                        example payloads, the wire format
 *   docs/asyncapi.yaml   the same as an AsyncAPI 3.0 document (Kafka bindings, CloudEvents headers,
 *                        payload schemas derived from the protobuf descriptors)
 *   docs/events.binpb    the contracts as a FileDescriptorSet (protoc --descriptor_set_in, Python/Go/Java
 *                        descriptor pools)
 *
 *   npm run events:docs              write them
 *   npm run events:docs -- --check   fail when a committed file differs from what would be generated
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { catalogue, exampleFor, type CatalogueTopic } from '@vtv/events/src/catalogue';
import { SERVICES, type TopicSpec } from '@vtv/events';
import {
  ROOT,
  buildDescriptorSet,
  comment,
  contractPackage,
  contractRegistry,
  enumValueComment,
  topicParts,
} from './contracts';
import { toYaml, type Json } from './yaml';

const HEADER_ROWS: [string, string, string][] = [
  ['ce_specversion', 'always', '`1.0`'],
  ['ce_id', 'always', 'UUIDv7, unique per event. Consumers deduplicate on it (delivery is at least once).'],
  [
    'ce_type',
    'always',
    'The protobuf message full name, e.g. `vtv.training.v1.ClassPlanApproved`: decode the value with it.',
  ],
  ['ce_source', 'always', '`/vtv/<producing service>`, e.g. `/vtv/training`.'],
  ['ce_subject', 'always', 'The aggregate id the event is about (an opaque id; equals the Kafka key).'],
  [
    'ce_time',
    'always',
    'When the fact happened, ISO-8601 UTC with milliseconds, e.g. `2025-03-03T01:10:00.000Z`.',
  ],
  [
    'content-type',
    'always',
    '`application/protobuf`: the value is the binary protobuf encoding of `ce_type`.',
  ],
  ['traceparent', 'optional', 'W3C trace context of the request that caused the event (OpenTelemetry).'],
  ['tracestate', 'optional', 'W3C trace state, when the trace has one.'],
  [
    'x-error',
    'dead letters',
    'Why the consumer gave up (message of the last error, at most 1000 characters).',
  ],
  ['x-original-topic', 'dead letters', 'The topic the event was first published to (without namespace).'],
  ['x-consumer', 'dead letters', 'The consumer group that gave up on it.'],
];

const DAY_MS = 24 * 60 * 60 * 1000;
const days = (ms: number) => (ms % DAY_MS === 0 ? `${ms / DAY_MS} d` : `${ms} ms`);
const short = (typeName: string) => typeName.slice(typeName.lastIndexOf('.') + 1);
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
const cell = (s: string) => oneLine(s).replace(/\|/g, '\\|');
const anchor = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

function channelId(topic: string): string {
  return topic
    .split(/[.-]/)
    .map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1)))
    .join('');
}

// ------------------------------------------------------------------ checks

interface Model {
  topics: CatalogueTopic[];
  contracts: FileRegistry;
  /** Registry message → the buf-compiled descriptor (with comments). */
  desc(schema: DescMessage): DescMessage;
  /** vtv.* messages defined in proto/ that no topic lists (and no listed message uses). */
  unpublished: DescMessage[];
}

function buildModel(set: Uint8Array): Model {
  const contracts = contractRegistry(set);
  const topics = catalogue();
  const problems: string[] = [];
  const desc = (schema: DescMessage): DescMessage => {
    const d = contracts.getMessage(schema.typeName);
    if (!d) throw new Error(`${schema.typeName} is in topics.ts but not in proto/ (run 'npm run proto')`);
    return d;
  };
  for (const t of topics.filter((t) => !t.deadLetter)) {
    const parts = topicParts(t.name);
    if (!parts) {
      problems.push(`topic ${t.name}: name must be <service>.<aggregate>.v<N>`);
      continue;
    }
    for (const e of t.events) {
      const pkg = contractPackage(e.typeName);
      if (!pkg || pkg.service !== parts.service || pkg.version !== parts.version)
        problems.push(
          `topic ${t.name}: ${e.typeName} must be defined in proto/vtv/${parts.service}/v${parts.version} ` +
            `(package vtv.${parts.service}.v${parts.version})`,
        );
      desc(e);
    }
  }
  if (problems.length) throw new Error(`event contract conventions broken:\n  ${problems.join('\n  ')}`);
  const used = new Set<string>();
  const use = (m: DescMessage) => {
    if (used.has(m.typeName)) return;
    used.add(m.typeName);
    for (const f of m.fields) if (f.message) use(f.message);
  };
  topics.flatMap((t) => t.events).forEach((e) => use(desc(e)));
  const unpublished: DescMessage[] = [];
  for (const file of contracts.files)
    for (const m of file.messages)
      if (contractPackage(m.typeName) && !used.has(m.typeName)) unpublished.push(m);
  return { topics, contracts, desc, unpublished };
}

// ------------------------------------------------------------------ types

function scalarName(s: ScalarType): string {
  return ScalarType[s]!.toLowerCase();
}

const LONG = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

function protoType(f: DescField): string {
  const base = f.message ? f.message.typeName : f.enum ? f.enum.typeName : scalarName(f.scalar!);
  if (f.fieldKind === 'list') return `repeated ${base}`;
  if (f.fieldKind === 'map') return `map<${scalarName(f.mapKey)}, ${base}>`;
  return base;
}

/** How the field reads in protobuf's canonical JSON (what tail prints and the AsyncAPI payloads describe). */
function jsonType(f: DescField): string {
  const one = f.message
    ? f.message.typeName === 'google.protobuf.Timestamp'
      ? 'string (RFC 3339)'
      : 'object'
    : f.enum
      ? 'string (enum name)'
      : LONG.has(f.scalar!)
        ? 'string (64-bit integer)'
        : f.scalar === ScalarType.BOOL
          ? 'boolean'
          : f.scalar === ScalarType.STRING
            ? 'string'
            : f.scalar === ScalarType.BYTES
              ? 'string (base64)'
              : f.scalar === ScalarType.FLOAT || f.scalar === ScalarType.DOUBLE
                ? 'number'
                : 'integer';
  if (f.fieldKind === 'list') return `array of ${one}`;
  if (f.fieldKind === 'map') return `object of ${one}`;
  return one;
}

function schemaOfScalar(s: ScalarType): Record<string, Json> {
  if (LONG.has(s)) return { type: 'string', pattern: '^-?[0-9]+$', format: scalarName(s) };
  switch (s) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return { type: 'number', format: scalarName(s) };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', format: 'uint32', minimum: 0, maximum: 4294967295 };
    default:
      return { type: 'integer', format: 'int32', minimum: -2147483648, maximum: 2147483647 };
  }
}

function schemaRef(typeName: string): Record<string, Json> {
  return { $ref: `#/components/schemas/${typeName}` };
}

function fieldSchema(f: DescField): Record<string, Json> {
  const one: Record<string, Json> = f.message
    ? f.message.typeName === 'google.protobuf.Timestamp'
      ? { type: 'string', format: 'date-time' }
      : schemaRef(f.message.typeName)
    : f.enum
      ? schemaRef(f.enum.typeName)
      : schemaOfScalar(f.scalar!);
  const wrapped: Record<string, Json> =
    f.fieldKind === 'list'
      ? { type: 'array', items: one }
      : f.fieldKind === 'map'
        ? { type: 'object', additionalProperties: one }
        : { ...one };
  const doc = comment(f);
  // $ref siblings are ignored by JSON Schema draft 7: wrap referenced types when there is more to say.
  const body = '$ref' in wrapped ? { allOf: [wrapped] } : wrapped;
  return {
    ...(doc ? { description: oneLine(doc) } : {}),
    ...body,
    'x-protobuf-field': `${protoType(f)} ${f.name} = ${f.number}`,
  };
}

function messageSchema(m: DescMessage): Record<string, Json> {
  const doc = comment(m);
  return {
    type: 'object',
    ...(doc ? { description: oneLine(doc) } : {}),
    'x-protobuf-message': m.typeName,
    properties: Object.fromEntries(m.fields.map((f) => [f.jsonName, fieldSchema(f)])),
  };
}

function enumSchema(e: DescEnum): Record<string, Json> {
  const doc = comment(e);
  return {
    type: 'string',
    ...(doc ? { description: oneLine(doc) } : {}),
    'x-protobuf-enum': e.typeName,
    enum: e.values.map((v) => v.name),
  };
}

/** Every message and enum reachable from the published events, in a stable order. */
function reachable(events: DescMessage[]): { messages: DescMessage[]; enums: DescEnum[] } {
  const messages = new Map<string, DescMessage>();
  const enums = new Map<string, DescEnum>();
  const visit = (m: DescMessage) => {
    if (messages.has(m.typeName) || m.typeName === 'google.protobuf.Timestamp') return;
    messages.set(m.typeName, m);
    for (const f of m.fields) {
      if (f.message) visit(f.message);
      if (f.enum) enums.set(f.enum.typeName, f.enum);
    }
  };
  events.forEach(visit);
  const byName = <T extends { typeName: string }>(a: T, b: T) => (a.typeName < b.typeName ? -1 : 1);
  return { messages: [...messages.values()].sort(byName), enums: [...enums.values()].sort(byName) };
}

// ------------------------------------------------------------------ examples

function exampleHeaders(t: TopicSpec, type: string, subject: string): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    ce_type: type,
    ce_source: `/vtv/${t.producer}`,
    ce_subject: subject,
    ce_time: '2025-03-03T01:10:00.000Z',
    'content-type': 'application/protobuf',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  };
}

// ------------------------------------------------------------------ markdown

function markdown(model: Model): string {
  const { topics } = model;
  const domain = topics.filter((t) => !t.deadLetter);
  const dead = topics.filter((t) => t.deadLetter);
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);
  p(
    '# Event catalogue',
    '',
    '<!-- Generated by `npm run events:docs` from packages/events/src/topics.ts, packages/events/src/catalogue.ts',
    '     and proto/. Do not edit: change those and regenerate (the test command fails when this file is stale). -->',
    '',
    'Every fact the platform publishes on Kafka, for the services that consume them, provincial systems and',
    'analysts. The same catalogue as an AsyncAPI 3.0 document: [asyncapi.yaml](asyncapi.yaml). The contracts as a',
    'protobuf descriptor set: [events.binpb](events.binpb). How to read the topics (kcat, Python, Go, Java, the',
    '`npm run events` tools): [analysts.md](analysts.md).',
    '',
    '## Wire format',
    '',
    'One Kafka record per event, in the CloudEvents 1.0 Kafka protocol binding, *binary* content mode:',
    '',
    '- **value**: the event as binary protobuf (proto3), the message named by `ce_type`, defined in',
    '  `proto/vtv/<producing service>/v<N>/` (package `vtv.<service>.v<N>`);',
    "- **key**: the aggregate id (UTF-8), so one aggregate's events stay in one partition; equal to `ce_subject`;",
    '- **headers** (UTF-8 strings):',
    '',
    '| header | present | meaning |',
    '|---|---|---|',
    ...HEADER_ROWS.map(([h, when, what]) => `| \`${h}\` | ${when} | ${what} |`),
    '',
    'Delivery is at least once: the producer writes events to a transactional outbox in the same database',
    'transaction as the state change and a relay publishes them, so an event can arrive twice (same `ce_id`)',
    "and, across the relay's batches, events of one key can be reordered. Deduplicate on `ce_id`; order by",
    '`ce_time` or the state the event carries when it matters.',
    '',
    '**Privacy.** Events carry no names, ID numbers, phone numbers or voucher codes; people are referenced by',
    'opaque ids (UUIDv7) that only the identity service can resolve. Free-text fields (reasons, class names) are',
    'written by staff. The test command scans every event of its run for such data.',
    '',
    '**Versioning.** Topics are named `<producing service>.<aggregate>.v<N>`, and their events live in package',
    '`vtv.<service>.v<N>`. Within a version, contracts only grow: new fields and new event types, never a',
    'renumbered, retyped or renamed field (`buf breaking`, rules `WIRE_JSON`, runs in the test command). A',
    'consumer must ignore fields and event types it does not know. A breaking change is a new version: new',
    'package, new topic, both published side by side until consumers have moved.',
    '',
    '**Namespaces.** Test runs prefix topic and consumer-group names with `<namespace>.` (`EVENTS_NAMESPACE`) so',
    'they share a broker; production uses the names below unprefixed.',
    '',
    '## Topics',
    '',
    '| topic | key | partitions | retention | producer | consumers | event types |',
    '|---|---|---|---|---|---|---|',
    ...domain.map(
      (t) =>
        `| [\`${t.name}\`](#${anchor(t.name)}) | ${t.key} | ${t.partitions} | ${days(t.retentionMs)}, ${t.cleanupPolicy} | ` +
        `${t.producer} | ${t.consumers.join(', ') || '—'} | ${t.events.map((e) => short(e.typeName)).join(', ')} |`,
    ),
    '',
  );
  for (const t of domain) {
    p(
      `### ${t.name}`,
      '',
      t.description,
      '',
      `- key: ${t.key}`,
      `- partitions: ${t.partitions}`,
      `- retention: ${days(t.retentionMs)} (\`retention.ms=${t.retentionMs}\`), \`cleanup.policy=${t.cleanupPolicy}\``,
      `- producer: ${SERVICES.includes(t.producer as never) ? `the ${t.producer} service` : t.producer}`,
      `- consumers: ${t.consumers.length ? t.consumers.map((c) => `${c} (group \`${c}\`)`).join(', ') : 'none inside the platform'}`,
      '',
    );
    for (const e of t.events) {
      const d = model.desc(e);
      const ex = exampleFor(e);
      p(
        `#### ${d.typeName}`,
        '',
        oneLine(comment(d)) || '(no description in the .proto)',
        '',
        `Defined in \`proto/${d.file.name}.proto\`.`,
        '',
        '| # | field | JSON | type | description |',
        '|---|---|---|---|---|',
        ...d.fields.map(
          (f) =>
            `| ${f.number} | \`${f.name}\` | \`${f.jsonName}\` | ${protoType(f)} → ${jsonType(f)} | ${cell(comment(f))} |`,
        ),
        '',
        `Example${ex.synthesised ? ' (made up from the schema: add a hand-written one to packages/events/src/catalogue.ts)' : ''}: ` +
          `key \`${ex.subject}\`, \`ce_type: ${d.typeName}\`, payload as JSON:`,
        '',
        '```json',
        JSON.stringify(ex.json, null, 2),
        '```',
        '',
      );
    }
  }
  const { enums } = reachable(domain.flatMap((t) => t.events.map(model.desc)));
  if (enums.length) {
    p('## Enums', '', 'In JSON an enum reads as its value name; in binary as its number.', '');
    for (const e of enums) {
      p(
        `### ${e.typeName}`,
        '',
        oneLine(comment(e)) || '',
        '',
        '| number | name | description |',
        '|---|---|---|',
      );
      e.values.forEach((v, i) => p(`| ${v.number} | \`${v.name}\` | ${cell(enumValueComment(e, i))} |`));
      p('');
    }
  }
  p(
    '## Dead-letter topics',
    '',
    'A consumer that cannot handle an event after its retries publishes it, unchanged (same key, value and',
    "CloudEvents headers), to its service's dead-letter topic with `x-error`, `x-original-topic` and",
    '`x-consumer` added, and moves on. Inspect and re-drive them with `npm run events -- deadletters <service>`',
    '(see [analysts.md](analysts.md#dead-letters)).',
    '',
    '| topic | partitions | retention | can hold events of |',
    '|---|---|---|---|',
    ...dead.map(
      (t) =>
        `| \`${t.name}\` | ${t.partitions} | ${days(t.retentionMs)}, ${t.cleanupPolicy} | ${t.carries.map((c) => `\`${c}\``).join(', ') || '— (consumes nothing yet)'} |`,
    ),
    '',
  );
  if (model.unpublished.length) {
    p(
      '## Contracts without a topic',
      '',
      'Defined in proto/ but not listed on any topic in topics.ts (yet):',
      '',
      ...model.unpublished.map((m) => `- \`${m.typeName}\` (\`proto/${m.file.name}.proto\`)`),
      '',
    );
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

// ------------------------------------------------------------------ AsyncAPI

function asyncapi(model: Model): string {
  const { topics } = model;
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  const msgRefs = (t: CatalogueTopic): Record<string, Json> => {
    const types = t.deadLetter
      ? topics.filter((o) => t.carries.includes(o.name)).flatMap((o) => o.events)
      : t.events;
    return Object.fromEntries(
      types.map((e) => [short(e.typeName), { $ref: `#/components/messages/${e.typeName}` }]),
    );
  };
  for (const t of topics) {
    const id = channelId(t.name);
    const msgs = msgRefs(t);
    channels[id] = {
      address: t.name,
      title: t.name,
      description: t.deadLetter
        ? `${t.description} Messages keep the original headers plus x-error, x-original-topic and x-consumer.`
        : `${t.description} Key: ${t.key}.`,
      messages: msgs,
      bindings: {
        kafka: {
          topic: t.name,
          partitions: t.partitions,
          topicConfiguration: {
            'cleanup.policy': [t.cleanupPolicy],
            'retention.ms': t.retentionMs,
          },
          bindingVersion: '0.5.0',
        },
      },
    };
    const messageRefs = Object.keys(msgs).map((m) => ({ $ref: `#/channels/${id}/messages/${m}` }));
    if (messageRefs.length === 0) continue;
    operations[`${t.producer}Send${id[0]!.toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: t.deadLetter
        ? `The ${t.producer} consumers park events they gave up on.`
        : `${t.producer} publishes through its transactional outbox.`,
      messages: messageRefs,
    };
    for (const c of t.consumers) {
      operations[`${c}Receive${id[0]!.toUpperCase()}${id.slice(1)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        summary: `${c} consumes in consumer group "${c}", deduplicating on ce_id in its inbox.`,
        messages: messageRefs,
        bindings: { kafka: { groupId: { type: 'string', enum: [c] }, bindingVersion: '0.5.0' } },
      };
    }
  }
  const domain = topics.filter((t) => !t.deadLetter);
  for (const t of domain) {
    for (const e of t.events) {
      const d = model.desc(e);
      const ex = exampleFor(e);
      const doc = oneLine(comment(d));
      messages[d.typeName] = {
        name: short(d.typeName),
        title: d.typeName,
        ...(doc ? { summary: doc } : {}),
        description:
          `Published by ${t.producer} on ${t.name}. Value: binary protobuf \`${d.typeName}\` ` +
          `(proto/${d.file.name}.proto); the payload schema below is its canonical JSON form.`,
        contentType: 'application/protobuf',
        headers: {
          allOf: [
            { $ref: '#/components/schemas/CloudEventsHeaders' },
            {
              type: 'object',
              properties: {
                ce_type: { type: 'string', const: d.typeName },
                ce_source: { type: 'string', const: `/vtv/${t.producer}` },
              },
            },
          ],
        },
        payload: schemaRef(d.typeName),
        correlationId: { $ref: '#/components/correlationIds/ceId' },
        bindings: {
          kafka: {
            key: { type: 'string', description: `${t.key} (UUIDv7), equal to ce_subject` },
            bindingVersion: '0.5.0',
          },
        },
        examples: [
          {
            name: ex.synthesised ? 'synthesised' : 'example',
            headers: exampleHeaders(t, d.typeName, ex.subject),
            payload: ex.json as Json,
          },
        ],
      };
    }
  }
  const { messages: types, enums } = reachable(domain.flatMap((t) => t.events.map(model.desc)));
  const schemas: Record<string, Json> = {
    CloudEventsHeaders: {
      type: 'object',
      description: 'CloudEvents 1.0 Kafka binding (binary mode) plus W3C trace context, all UTF-8 strings.',
      required: ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time', 'content-type'],
      properties: Object.fromEntries(
        HEADER_ROWS.map(([h, , what]) => [
          h,
          {
            type: 'string',
            description: what.replace(/`/g, ''),
            ...(h === 'ce_specversion' ? { const: '1.0' } : {}),
            ...(h === 'content-type' ? { const: 'application/protobuf' } : {}),
            ...(h === 'ce_time' ? { format: 'date-time' } : {}),
            ...(h === 'ce_id' ? { format: 'uuid' } : {}),
          },
        ]),
      ),
    },
  };
  for (const m of types) schemas[m.typeName] = messageSchema(m);
  for (const e of enums) schemas[e.typeName] = enumSchema(e);
  const doc: Json = {
    asyncapi: '3.0.0',
    info: {
      title: 'Vocational training voucher platform events',
      version: '1.0.0',
      description:
        "Facts published on Kafka by the platform's subgraphs (identity, vouchers, training, settlement, careers). " +
        'Values are binary protobuf (content-type application/protobuf) with CloudEvents headers; the payload ' +
        'schemas describe the canonical protobuf JSON form of each message, derived from proto/. Topic versions ' +
        '(.vN) only grow within a version. Test runs prefix topics and groups with "<namespace>."; production does not.\n\n' +
        'Generated by `npm run events:docs`; see docs/events.md and docs/analysts.md.',
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/protobuf',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The dev/test broker started by scripts/infra.sh (Kafka 3.9, KRaft, PLAINTEXT).',
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      correlationIds: {
        ceId: {
          description: 'The CloudEvents id: unique per event, the deduplication key.',
          location: '$message.header#/ce_id',
        },
      },
    },
  };
  return `# Generated by \`npm run events:docs\` from packages/events/src/topics.ts, catalogue.ts and proto/. Do not edit.\n${toYaml(doc)}`;
}

// ------------------------------------------------------------------ main

/** Formats like the repository's Prettier does, so the generated files pass `prettier --check`. */
async function pretty(path: string, text: string): Promise<string> {
  const prettier = await import('prettier');
  const full = join(ROOT, path);
  return prettier.format(text, { ...(await prettier.resolveConfig(full)), filepath: full });
}

export async function generate(): Promise<Record<string, Buffer>> {
  const set = buildDescriptorSet();
  const model = buildModel(set);
  return {
    'docs/events.md': Buffer.from(markdown(model)),
    'docs/asyncapi.yaml': Buffer.from(await pretty('docs/asyncapi.yaml', asyncapi(model))),
    'docs/events.binpb': set,
  };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = await generate();
  const stale: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    const full = join(ROOT, path);
    const current = existsSync(full) ? readFileSync(full) : undefined;
    if (current?.equals(content)) continue;
    if (check) stale.push(path);
    else {
      writeFileSync(full, content);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length) {
    console.error(
      `Event catalogue is stale: ${stale.join(', ')}. Run 'npm run events:docs' and commit the result.`,
    );
    process.exit(1);
  }
  if (check)
    console.log('event catalogue is current (docs/events.md, docs/asyncapi.yaml, docs/events.binpb)');
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
