/**
 * Renders the platform chart with the pinned helm (scripts/k8s-tools.sh) and gives the tests typed access
 * to the objects. No cluster: these are the manifests `helm install` would send.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { platformSubgraphs } from '../../scripts/lib/subgraphs';

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'charts', 'vtv-platform');
export const KUBE_VERSION = '1.30.0';
export const RELEASE = 'vtv';
export const NAMESPACE = 'vtv';
/**
 * The subgraphs the chart must deploy: schema/subgraphs.json's services/ entries (scripts/lib/subgraphs.ts),
 * so one scaffolded by `npm run new-subgraph` is held to everything the platform's own are. The list is
 * read from the repository, not from the chart, skaffold or k8s files under test.
 */
export const SUBGRAPHS: readonly string[] = platformSubgraphs(ROOT);
/** The platform's own, which the registry must always start with (test/k8s/delivery.spec.ts). */
export const PLATFORM_SUBGRAPHS = ['identity', 'vouchers', 'training', 'settlement', 'careers'] as const;
/** Every Deployment of the release: the subgraphs, then the gateway. */
export const SERVICES: readonly string[] = [...SUBGRAPHS, 'gateway'];
/** The workspace a service's image is built from (skaffold's WORKSPACE build argument). */
export const workspaceOf = (service: string) => (service === 'gateway' ? 'gateway' : `services/${service}`);
export const ENVIRONMENTS = ['dev', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are checked field by field. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  spec?: any;
  [k: string]: any;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

let helmPath: string | undefined;

/** The helm binary scripts/k8s-tools.sh builds (it only prints the directory here; it never builds). */
export function helm(): string {
  if (helmPath) return helmPath;
  const bin =
    process.env.VTV_TOOLS_BIN ??
    execFileSync('bash', [join(ROOT, 'scripts', 'k8s-tools.sh'), '--print-bin'], { encoding: 'utf8' }).trim();
  const path = join(bin, 'helm');
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run scripts/k8s-tools.sh once (it builds helm, kubectl-validate, …)`,
    );
  }
  helmPath = path;
  return path;
}

export interface RenderResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** helm template of the platform with values-<env>.yaml and extra --set arguments. */
export function template(env: Environment, set: string[] = []): RenderResult {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  args.push('-f', join(CHART, `values-${env}.yaml`));
  for (const s of set) args.push('--set', s);
  const r = spawnSync(helm(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o && typeof o === 'object' && 'kind' in o);
}

const rendered = new Map<string, K8sObject[]>();

/** The parsed render (memoised per environment and --set list; callers must not mutate it). */
export function render(env: Environment, set: string[] = []): K8sObject[] {
  const key = JSON.stringify([env, set]);
  let objects = rendered.get(key);
  if (!objects) {
    const r = template(env, set);
    if (!r.ok) throw new Error(`helm template (${env}) failed:\n${r.stderr}`);
    objects = parseManifests(r.stdout);
    rendered.set(key, objects);
  }
  return objects;
}

export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readFileSync(join(ROOT, path), 'utf8')).map((d) => d.toJS());
}

export const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} in the render`);
  return hit;
}

/** Object names are <release>-<service>. */
export const fullname = (service: string) => `${RELEASE}-${service}`;

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** Kubernetes label-selector semantics: an empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(value!))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** The pod template labels of a Deployment or Job. */
export const podLabels = (workload: K8sObject): Record<string, string> =>
  workload.spec.template.metadata.labels;
