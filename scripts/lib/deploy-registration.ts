/**
 * Registers a subgraph for delivery exactly as the platform's own are (see careers):
 *
 * - charts/vtv-platform: a vtv-service dependency aliased by its name; its values (values.yaml, the dev
 *   and production files, values.schema.json); the gateway's routes (SUBGRAPH_URLS and its egress) and
 *   identity's key clients (IDENTITY_JWKS_URL and the way to identity's port);
 * - skaffold.yaml: the image artifact (root Dockerfile, WORKSPACE) and its image repository and tag values;
 * - Dockerfile: its package manifest, copied before the dependency install;
 * - k8s dev infrastructure: its PostgreSQL role, database and grants, and the Secret with its URL.
 *
 * Each step reads its file, refuses a name that is already there and adds its new text to `changes`;
 * nothing is written here. A subgraph without events needs no Kafka topics (k8s/infra/kafka-topics.yaml
 * follows packages/events/src/topics.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { YAMLMap } from 'yaml';
import {
  type FileChanges,
  YamlFile,
  hasKey,
  insertItem,
  insertPair,
  itemValues,
  jsonText,
  mapAt,
  sameAs,
  seqAt,
  valueNode,
} from './yaml-edit';

export interface DeployTarget {
  /** The one name: alias, image, Deployment (vtv-<name>), consumer group. */
  name: string;
  /** Its workspace folder, e.g. services/<name>. */
  workspace: string;
}

/** The dev release (skaffold.yaml), whose Secrets k8s/overlays/dev creates. */
const RELEASE = 'vtv';
/** The platform subgraph each new one is modelled on, and the gateway, which stays last everywhere. */
const MODEL = 'careers';
const GATEWAY = 'gateway';

type Step = (root: string, t: DeployTarget, changes: FileChanges) => void;

function readYaml(root: string, path: string): YamlFile {
  return new YamlFile(path, readFileSync(join(root, path), 'utf8'));
}

function refuse(t: DeployTarget, path: string, where: string): never {
  throw new Error(`"${t.name}" is already registered in ${path} (${where})`);
}

/** PostgreSQL names: one role and one database per subgraph, hyphens as underscores (no quoting). */
export const sqlName = (name: string) => name.replaceAll('-', '_');

/** Skaffold's template key for an image: `-`, `/` and `.` become `_`. */
export const skaffoldImageKey = (image: string) => image.replace(/[-/.]/g, '_');

const chart: Step = (root, t, changes) => {
  const path = 'charts/vtv-platform/Chart.yaml';
  const file = readYaml(root, path);
  const doc = file.doc();
  const deps = seqAt(doc, ['dependencies']);
  const model = (itemValues(deps) as { name: string; version: string; alias?: string }[]).find(
    (d) => d.alias === MODEL,
  );
  if (!model) throw new Error(`${path}: no ${MODEL} dependency to model the new one on`);
  if (itemValues(deps).some((d) => (d as { alias?: string }).alias === t.name)) refuse(t, path, 'alias');
  insertItem(
    doc,
    deps,
    { name: model.name, version: model.version, alias: t.name },
    {
      before: (d) => (d as { alias?: string }).alias === GATEWAY,
    },
  );
  changes.set(join(root, path), file.toString());
};

const values: Step = (root, t, changes) => {
  const path = 'charts/vtv-platform/values.yaml';
  const file = readYaml(root, path);
  const doc = file.doc();
  const top = mapAt(doc, []);
  if (hasKey(top, t.name)) refuse(t, path, 'top-level key');
  const lists: [string, (string | number)[]][] = [
    ["identity's key clients", ['global', 'identityJwksClients']],
    ["the gateway's subgraphs", [GATEWAY, 'gateway', 'subgraphs']],
  ];
  for (const [what, at] of lists) {
    const list = seqAt(doc, at);
    if (itemValues(list).includes(t.name)) refuse(t, path, what);
    insertItem(doc, list, t.name);
  }
  insertPair(
    doc,
    top,
    t.name,
    { role: 'subgraph', replicaCount: 2 },
    { before: GATEWAY, spaceBefore: true, comment: `Scaffolded by npm run new-subgraph (${t.workspace}).` },
  );
  changes.set(join(root, path), file.toString());
};

/** Development: the same values as the model subgraph (values-dev.yaml: one replica, small, the dev database). */
const valuesDev: Step = (root, t, changes) => {
  const path = 'charts/vtv-platform/values-dev.yaml';
  const file = readYaml(root, path);
  const doc = file.doc();
  const top = mapAt(doc, []);
  if (hasKey(top, t.name)) refuse(t, path, 'top-level key');
  insertPair(doc, top, t.name, sameAs(valueNode(top, MODEL)), { after: MODEL, before: GATEWAY });
  changes.set(join(root, path), file.toString());
};

/**
 * Production: the model's topology spread, a small pool with its connection budget, and its own database
 * range: the next /28 after the highest one in use, a documentation placeholder like the others.
 */
const valuesProduction: Step = (root, t, changes) => {
  const path = 'charts/vtv-platform/values-production.yaml';
  const file = readYaml(root, path);
  const doc = file.doc();
  const top = mapAt(doc, []);
  if (hasKey(top, t.name)) refuse(t, path, 'top-level key');
  const cidrs = Object.values(doc.toJS() as Record<string, { database?: { networkPeers?: unknown[] } }>)
    .flatMap((v) => v?.database?.networkPeers ?? [])
    .map((p) => (p as { ipBlock?: { cidr?: string } }).ipBlock?.cidr)
    .map((c) => /^(\d+\.\d+\.\d+)\.(\d+)\/28$/.exec(c ?? ''))
    .filter((m): m is RegExpExecArray => !!m);
  const last = cidrs.sort((a, b) => Number(a[2]) - Number(b[2])).at(-1);
  if (!last || Number(last[2]) + 16 > 240)
    throw new Error(`${path}: no free /28 after the subgraphs' database ranges for a placeholder`);
  const value = doc.createNode({
    topologySpread: null,
    database: {
      poolSize: 5,
      // (2 replicas + 1 surging) × (poolSize + 1) + 2 for the migration Job = 20, with room for a third.
      connectionBudget: 30,
      networkPeers: [{ ipBlock: { cidr: `${last[1]}.${Number(last[2]) + 16}/28` } }],
    },
  }) as YAMLMap;
  value.set('topologySpread', sameAs(valueNode(mapAt(doc, [MODEL]), 'topologySpread')));
  insertPair(doc, top, t.name, value, {
    before: GATEWAY,
    spaceBefore: true,
    comment: `Scaffolded by npm run new-subgraph; its database range is a placeholder like the others.`,
  });
  changes.set(join(root, path), file.toString());
};

const valuesSchema: Step = (root, t, changes) => {
  const path = 'charts/vtv-platform/values.schema.json';
  const schema = JSON.parse(readFileSync(join(root, path), 'utf8')) as {
    required: string[];
    properties: Record<string, unknown>;
  };
  if (schema.properties[t.name] || schema.required.includes(t.name)) refuse(t, path, 'properties');
  const entry = {
    type: 'object',
    description: `Scaffolded subgraph (${t.workspace}). Every key is checked by charts/vtv-service/values.schema.json.`,
    properties: { role: { const: 'subgraph' } },
  };
  const before = (list: string[]) => (list.includes(GATEWAY) ? list.indexOf(GATEWAY) : list.length);
  const keys = Object.keys(schema.properties);
  keys.splice(before(keys), 0, t.name);
  schema.required.splice(before(schema.required), 0, t.name);
  schema.properties = Object.fromEntries(keys.map((k) => [k, schema.properties[k] ?? entry]));
  changes.set(join(root, path), jsonText(schema));
};

const skaffold: Step = (root, t, changes) => {
  const path = 'skaffold.yaml';
  const file = readYaml(root, path);
  const doc = file.doc((top) => (top.metadata as { name?: string } | undefined)?.name === 'platform');
  const artifacts = seqAt(doc, ['build', 'artifacts']);
  if (itemValues(artifacts).some((a) => (a as { image: string }).image === t.name))
    refuse(t, path, 'build.artifacts');
  insertItem(
    doc,
    artifacts,
    {
      image: t.name,
      context: '.',
      docker: { dockerfile: 'Dockerfile', buildArgs: { WORKSPACE: t.workspace } },
    },
    { before: (a) => (a as { image: string }).image === GATEWAY },
  );
  const templates = mapAt(doc, ['deploy', 'helm', 'releases', 0, 'setValueTemplates']);
  const key = skaffoldImageKey(t.name);
  for (const [field, variable] of [
    ['repository', 'IMAGE_REPO'],
    ['tag', 'IMAGE_TAG'],
  ] as const) {
    if (hasKey(templates, `${t.name}.image.${field}`)) refuse(t, path, 'setValueTemplates');
    insertPair(doc, templates, `${t.name}.image.${field}`, `{{.${variable}_${key}}}`, {
      before: `${GATEWAY}.image.repository`,
    });
  }
  changes.set(join(root, path), file.toString());
};

/** The root Dockerfile copies every workspace's package.json before `npm install` (layer cache). */
const dockerfile: Step = (root, t, changes) => {
  const path = 'Dockerfile';
  const text = readFileSync(join(root, path), 'utf8');
  const line = `COPY ${t.workspace}/package.json ${t.workspace}/`;
  if (text.split('\n').includes(line)) refuse(t, path, 'package.json COPY');
  const copies = [...text.matchAll(/^COPY services\/[^/\s]+\/package\.json services\/[^/\s]+\/\n/gm)];
  const after = copies.at(-1);
  if (!after) throw new Error(`${path}: no COPY services/<name>/package.json line to add the new one after`);
  const at = after.index + after[0].length;
  changes.set(join(root, path), `${text.slice(0, at)}${line}\n${text.slice(at)}`);
};

/** k8s/infra/postgresql.yaml: the init script gets its role, database and grants. */
const postgres: Step = (root, t, changes) => {
  const path = 'k8s/infra/postgresql.yaml';
  const file = readYaml(root, path);
  const doc = file.doc((top) => (top.metadata as { name?: string } | undefined)?.name === 'postgresql-init');
  const script = doc.getIn(['data', '10-databases.sql'], true);
  if (!script || typeof (script as { value?: unknown }).value !== 'string')
    throw new Error(`${path}: no 10-databases.sql`);
  const node = script as { value: string };
  const db = sqlName(t.name);
  if (new RegExp(`^CREATE (ROLE|DATABASE) ${db}\\b`, 'm').test(node.value)) refuse(t, path, `role ${db}`);
  const lines = node.value.split('\n');
  const lastIndex = (re: RegExp) => lines.findLastIndex((l) => re.test(l));
  const created = lastIndex(/^CREATE DATABASE \w+ OWNER \w+;$/);
  const revoke = lastIndex(/^REVOKE CONNECT ON DATABASE [\w, ]+ FROM PUBLIC;$/);
  const granted = lastIndex(/^GRANT CONNECT ON DATABASE \w+ TO \w+;$/);
  if (created < 0 || revoke < 0 || granted < 0)
    throw new Error(`${path}: the init script no longer has the CREATE/REVOKE/GRANT lines this step extends`);
  lines.splice(granted + 1, 0, `GRANT CONNECT ON DATABASE ${db} TO ${db};`);
  lines[revoke] = lines[revoke]!.replace(' FROM PUBLIC;', `, ${db} FROM PUBLIC;`);
  lines.splice(
    created + 1,
    0,
    `CREATE ROLE ${db} LOGIN PASSWORD '${db}-dev';`,
    `CREATE DATABASE ${db} OWNER ${db};`,
  );
  node.value = lines.join('\n');
  changes.set(join(root, path), file.toString());
};

/** k8s/overlays/dev/secrets.yaml: <release>-<name>-database, a copy of the model's pointing at its database. */
const devSecret: Step = (root, t, changes) => {
  const path = 'k8s/overlays/dev/secrets.yaml';
  const file = readYaml(root, path);
  const nameOf = (service: string) => `${RELEASE}-${service}-database`;
  if (file.docs.some((d) => d.getIn(['metadata', 'name']) === nameOf(t.name)))
    refuse(t, path, nameOf(t.name));
  const model = file.doc((top) => (top.metadata as { name?: string } | undefined)?.name === nameOf(MODEL));
  const url = new URL(String(model.getIn(['stringData', 'url'])));
  const db = sqlName(t.name);
  url.username = db;
  url.password = `${db}-dev`;
  url.pathname = `/${db}`;
  const copy = model.clone();
  copy.setIn(['metadata', 'name'], nameOf(t.name));
  copy.setIn(['stringData', 'url'], url.toString());
  file.docs.push(copy);
  changes.set(join(root, path), file.toString());
};

const STEPS: Step[] = [
  chart,
  values,
  valuesDev,
  valuesProduction,
  valuesSchema,
  skaffold,
  dockerfile,
  postgres,
  devSecret,
];

/** Plans every delivery edit for a new subgraph into `changes`; throws before anything is written. */
export function registerForDelivery(root: string, t: DeployTarget, changes: FileChanges): void {
  for (const step of STEPS) step(root, t, changes);
}
