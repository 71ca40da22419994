/**
 * The pieces around the chart, checked against each other and the repository: skaffold.yaml (parsed; no
 * skaffold binary here), the kind cluster, the Dockerfile and .dockerignore, and the dev infrastructure
 * the dev values point at (topics, Secrets, databases, NetworkPolicy peers).
 */
import { allTopicSpecs } from '@vtv/events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sqlName, skaffoldImageKey } from '../../scripts/lib/deploy-registration';
import {
  PLATFORM_SUBGRAPHS,
  ROOT,
  SERVICES,
  SUBGRAPHS,
  find,
  fullname,
  ofKind,
  readYamlDocuments,
  render,
  selects,
  workspaceOf,
  type K8sObject,
  type LabelSelector,
} from './render';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is checked field by field. */
type Doc = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the subgraphs these tests hold the delivery to', () => {
  it("are schema/subgraphs.json's services/ entries: the platform's own first, then any scaffolded", () => {
    expect(SUBGRAPHS.slice(0, PLATFORM_SUBGRAPHS.length)).toEqual([...PLATFORM_SUBGRAPHS]);
    expect(new Set(SUBGRAPHS).size).toBe(SUBGRAPHS.length);
    expect(SUBGRAPHS).not.toContain('gateway');
  });

  it('are every services/ workspace with a schema, and only those', () => {
    const workspaces = readdirSync(join(ROOT, 'services')).filter((name) =>
      existsSync(join(ROOT, 'services', name, 'src', 'schema.graphql')),
    );
    expect([...SUBGRAPHS].sort()).toEqual(workspaces.sort());
  });
});

describe('skaffold.yaml', () => {
  const [infra, platform] = readYamlDocuments('skaffold.yaml') as Doc[];

  it('has an infra config and a platform config that requires it', () => {
    expect(infra!.apiVersion).toBe('skaffold/v4beta11');
    expect(platform!.apiVersion).toBe('skaffold/v4beta11');
    expect([infra!.metadata.name, platform!.metadata.name]).toEqual(['infra', 'platform']);
    expect(platform!.requires).toEqual([{ configs: ['infra'] }]);
  });

  it('builds one artifact per service from the root Dockerfile, picked by WORKSPACE', () => {
    const artifacts = platform!.build.artifacts as Doc[];
    expect(artifacts.map((a) => a.image)).toEqual([...SERVICES]);
    for (const a of artifacts) {
      expect(a.context).toBe('.');
      expect(a.docker.dockerfile).toBe('Dockerfile');
      expect(a.docker.buildArgs).toEqual({ WORKSPACE: workspaceOf(a.image) });
      expect(existsSync(join(ROOT, a.docker.buildArgs.WORKSPACE, 'src', 'main.ts'))).toBe(true);
    }
  });

  it('deploys the platform chart with dev values and every image it built', () => {
    const [release] = platform!.deploy.helm.releases as Doc[];
    expect(existsSync(join(ROOT, release!.chartPath, 'Chart.yaml'))).toBe(true);
    for (const f of release!.valuesFiles) expect(existsSync(join(ROOT, f))).toBe(true);
    const aliases = (readYamlDocuments(`${release!.chartPath}/Chart.yaml`)[0] as Doc).dependencies.map(
      (d: Doc) => d.alias,
    );
    expect(aliases).toEqual([...SERVICES]);
    const expected: Record<string, string> = {};
    for (const s of SERVICES) {
      // Skaffold's template keys spell - as _ (a scaffolded demo-reports: IMAGE_REPO_demo_reports).
      expected[`${s}.image.repository`] = `{{.IMAGE_REPO_${skaffoldImageKey(s)}}}`;
      expected[`${s}.image.tag`] = `{{.IMAGE_TAG_${skaffoldImageKey(s)}}}`;
    }
    expect(release!.setValueTemplates).toEqual(expected);
  });

  it('deploys the dev overlay as infrastructure', () => {
    for (const p of infra!.manifests.kustomize.paths)
      expect(existsSync(join(ROOT, p, 'kustomization.yaml'))).toBe(true);
  });

  it('has dev and ci profiles in both configs, whose patches point at existing fields', () => {
    for (const config of [infra!, platform!]) {
      expect(config.profiles.map((p: Doc) => p.name)).toEqual(['dev', 'ci']);
      for (const profile of config.profiles)
        for (const patch of profile.patches ?? []) {
          const parts = (patch.path as string).split('/').slice(1);
          const parent = parts.slice(0, -1).reduce((node: Doc | undefined, key) => node?.[key], config);
          expect([patch.path, parent !== undefined]).toEqual([patch.path, true]);
          if (patch.op !== 'add') expect([patch.path, parts.at(-1)! in parent!]).toEqual([patch.path, true]);
        }
    }
  });

  it('forwards ports of Services that exist', () => {
    const dev = render('dev');
    for (const pf of platform!.portForward) {
      expect(pf.namespace).toBe('vtv');
      expect(find(dev, 'Service', pf.resourceName).spec.ports[0].port).toBe(pf.port);
    }
    const jaeger = (readYamlDocuments('k8s/infra/jaeger.yaml') as K8sObject[]).find(
      (o) => o.kind === 'Service',
    )!;
    expect(jaeger.spec.ports.map((p: Doc) => p.port)).toContain(infra!.portForward[0].port);
  }, 30_000);
});

describe('kind cluster', () => {
  it('has workers in two zones so topology spread and PDBs mean something', () => {
    const [cluster] = readYamlDocuments('k8s/kind/cluster.yaml') as Doc[];
    expect(cluster!.kind).toBe('Cluster');
    expect(cluster!.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    const workers = cluster!.nodes.filter((n: Doc) => n.role === 'worker');
    expect(new Set(workers.map((w: Doc) => w.labels['topology.kubernetes.io/zone'])).size).toBe(2);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');

  it('builds on the Node version the repository pins', () => {
    const lock = JSON.parse(read('package-lock.json'));
    expect(dockerfile).toContain(`ARG NODE_VERSION=${lock.packages['node_modules/node'].version}`);
    expect(dockerfile.match(/^FROM node:\$\{NODE_VERSION\}-[a-z]+-slim AS \w+$/gm)).toHaveLength(2);
  });

  it('copies the manifest of every deployable workspace before installing', () => {
    // examples/* are templates for new subgraphs, not part of the platform's images.
    const workspaces = (JSON.parse(read('package.json')).workspaces as string[]).filter(
      (w) => !w.startsWith('examples/'),
    );
    const dirs = workspaces.flatMap((w) => {
      if (!w.endsWith('/*')) return [w];
      const parent = w.slice(0, -2);
      return readdirSync(join(ROOT, parent))
        .filter((name) => existsSync(join(ROOT, parent, name, 'package.json')))
        .map((name) => `${parent}/${name}`);
    });
    for (const d of dirs) expect(dockerfile).toContain(`COPY ${d}/package.json ${d}/`);
  });

  it('runs as the non-root user the chart expects, with the migration entry reachable', () => {
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    expect(user).not.toBeNull();
    const deployment = find(render('dev'), 'Deployment', fullname('vouchers'));
    expect(Number(user![1])).toBe(deployment.spec.template.spec.securityContext.runAsUser);
    expect(Number(user![1])).toBeGreaterThan(10000);
    expect(dockerfile).toMatch(/^CMD \["service\/src\/main\.ts"\]$/m);
    for (const s of SUBGRAPHS) expect(existsSync(join(ROOT, 'services', s, 'src', 'migrate.ts'))).toBe(true);
  }, 30_000);

  it('.dockerignore is an allow-list that keeps tests, dependencies and local state out', () => {
    const rules = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    for (const r of ['**/node_modules', '**/test', '**/*.spec.ts']) expect(rules).toContain(r);
    const reincluded = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
    expect(reincluded.sort()).toEqual(
      [
        'package.json',
        'package-lock.json',
        '.npmrc',
        'tsconfig.json',
        'proto',
        'schema',
        'packages',
        'services',
        'gateway',
      ].sort(),
    );
  });
});

describe('dev infrastructure matches what the dev values point at', () => {
  const infra = ['postgresql', 'redis', 'kafka', 'kafka-topics', 'otel-collector', 'jaeger'].flatMap(
    (f) => readYamlDocuments(`k8s/infra/${f}.yaml`) as K8sObject[],
  );
  const secrets = readYamlDocuments('k8s/overlays/dev/secrets.yaml') as K8sObject[];
  let dev: K8sObject[];
  beforeAll(() => {
    dev = render('dev');
  }, 30_000);

  it('creates exactly the topics of the registry, with their partitions, retention and clean-up policy', () => {
    const cm = infra.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kafka-topics')!;
    const expected = allTopicSpecs()
      .map((t) => `${t.name} ${t.partitions} ${t.retentionMs} ${t.cleanupPolicy}`)
      .join('\n');
    expect(cm.data['topics.txt'].trim()).toBe(expected);
  });

  it('has every Secret key the dev release requires', () => {
    const available = new Set(
      secrets.flatMap((s) => Object.keys(s.stringData).map((k) => `${s.metadata.name}/${k}`)),
    );
    for (const d of ofKind(dev, 'Deployment'))
      for (const e of d.spec.template.spec.containers[0].env) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional) expect(available).toContain(`${ref.name}/${ref.key}`);
      }
  });

  it('gives each subgraph its own database and role, created by the PostgreSQL init script', () => {
    const init = infra.find((o) => o.metadata.name === 'postgresql-init')!.data['10-databases.sql'] as string;
    for (const s of SUBGRAPHS) {
      const secret = secrets.find((x) => x.metadata.name === `${fullname(s)}-database`)!;
      const url = new URL(secret.stringData.url);
      // PostgreSQL names spell - as _ (a scaffolded demo-reports: role and database demo_reports).
      const db = sqlName(s);
      expect([url.username, url.pathname, url.hostname]).toEqual([
        db,
        `/${db}`,
        'postgresql.vtv-infra.svc.cluster.local',
      ]);
      expect(init).toContain(`CREATE ROLE ${db} LOGIN PASSWORD '${decodeURIComponent(url.password)}';`);
      expect(init).toContain(`CREATE DATABASE ${db} OWNER ${db};`);
    }
  });

  it('points Kafka, Redis and the collector at Services that exist, and policies at their pods', () => {
    const services = new Map(infra.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]));
    const workloads = infra.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    const vouchers = find(dev, 'Deployment', fullname('vouchers')).spec.template.spec.containers[0];
    const value = (n: string) => vouchers.env.find((e: Doc) => e.name === n)?.value as string;
    const secretValue = (name: string) =>
      secrets.find((s) => s.metadata.name === name)!.stringData.url as string;
    const targets = [
      { kind: 'kafka', host: value('KAFKA_BROKERS'), port: 9092 },
      { kind: 'redis', host: new URL(secretValue('vtv-redis')).host, port: 6379 },
      { kind: 'otel-collector', host: new URL(value('OTEL_EXPORTER_OTLP_ENDPOINT')).host, port: 4318 },
      { kind: 'postgresql', host: new URL(secretValue('vtv-vouchers-database')).host, port: 5432 },
    ];
    const policy = find(dev, 'NetworkPolicy', fullname('vouchers'));
    for (const t of targets) {
      const [host, port] = t.host.split(':');
      expect(host).toBe(`${t.kind}.vtv-infra.svc.cluster.local`);
      expect(Number(port)).toBe(t.port);
      expect(services.get(t.kind)!.spec.ports.map((p: Doc) => p.port)).toContain(t.port);
      // The egress rule for that port selects the pods behind the Service, in vtv-infra.
      const rule = policy.spec.egress.find((r: Doc) => r.ports.some((p: Doc) => p.port === t.port));
      const service = services.get(t.kind)!;
      const pods = workloads.filter((w) =>
        selects({ matchLabels: service.spec.selector }, w.spec.template.metadata.labels),
      );
      expect(pods).toHaveLength(1);
      const peer = rule.to[0] as { namespaceSelector: LabelSelector; podSelector: LabelSelector };
      expect(selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': 'vtv-infra' })).toBe(true);
      expect(selects(peer.podSelector, pods[0]!.spec.template.metadata.labels)).toBe(true);
    }
  });
});
