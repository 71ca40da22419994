/**
 * The integrator's path end to end: scaffold a subgraph into a temporary copy of the repository,
 * run its generated test-worthy service, compose it with the platform's subgraphs and query its field
 * through the unchanged gateway; then deliver it: the copy's Helm chart renders its workloads like the
 * platform's own, skaffold builds and deploys its image, and the copy passes scripts/k8s-validate.sh.
 */
import request from 'supertest';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TokenIssuer, TokenVerifier, createLogger, generateSigningKey, loadConfig, uuidv7 } from '@vtv/kit';
import { startService, type AnyServiceDefinition, type RunningService } from '@vtv/runtime';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import { compose } from '../../scripts/lib/schema-check';
import { scaffold } from '../../scripts/new-subgraph';
import { createGateway, type Gateway } from '../../gateway/src/app';
import { gatewayConfig } from '../../gateway/src/config';
import { KUBE_VERSION, find, helm, parseManifests, type K8sObject } from '../k8s/render';

const repo = join(__dirname, '..', '..');
const secret = 'scaffold-test-secret-0123456789abcdef';
let root: string;
let db: TestDatabase;
let service: RunningService | undefined;
let gateway: Gateway | undefined;
let result: ReturnType<typeof scaffold>;

// What the scaffold reads and edits, and what validates the delivery (the chart's link to vtv-service
// stays a relative link, so the copy's chart renders the copy's service chart).
const COPIED = [
  'schema',
  'services',
  'README.md',
  'charts',
  'k8s',
  'skaffold.yaml',
  'Dockerfile',
  '.prettierrc.json',
  'scripts/k8s-validate.sh',
  'scripts/k8s-tools.sh',
  // The platform's own chart and delivery tests, run against the copy (they derive the subgraphs from
  // schema/subgraphs.json through scripts/lib/subgraphs.ts), and what they read besides the above.
  'test/k8s',
  'scripts/lib',
  'gateway/src',
  'gateway/package.json',
  ...readdirSync(join(repo, 'packages')).map((p) => `packages/${p}/package.json`),
  'package.json',
  'package-lock.json',
  '.dockerignore',
];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'vtv-scaffold-'));
  for (const path of COPIED)
    cpSync(join(repo, path), join(root, path), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (p) => !p.includes('node_modules'),
    });
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  result = scaffold({ name: 'hubei-reporting', dir: 'services', root });
});

afterAll(async () => {
  await gateway?.stop();
  await service?.stop();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

test('a scaffolded subgraph composes, starts and answers through the gateway', async () => {
  expect(result.files).toEqual(
    expect.arrayContaining([
      'services/hubei-reporting/src/schema.graphql',
      'services/hubei-reporting/test/service.int.spec.ts',
    ]),
  );
  const registry = JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: { name: string; schema: string; url: string }[];
  };
  expect(registry.subgraphs.map((s) => s.name)).toContain('hubei-reporting');
  expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/\| hubei-reporting \| 4006 \|/);
  expect(() => scaffold({ name: 'hubei-reporting', dir: 'services', root })).toThrow('already registered');
  expect(() => scaffold({ name: 'Bad_Name', dir: 'services', root })).toThrow('not a valid name');

  // Start the generated service as generated.
  const { hubeiReporting } = (await import(
    join(root, 'services', 'hubei-reporting', 'src', 'service.ts')
  )) as { hubeiReporting: AnyServiceDefinition };
  db = await createTestDatabase('scaffold');
  service = await startService(hubeiReporting, {
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      INTERNAL_AUTH_SECRET: secret,
    },
  });

  // Compose the candidate graph with the service's real address; the gateway's code is untouched.
  const { supergraph, errors } = compose(
    registry.subgraphs.map((s) => ({
      name: s.name,
      file: s.schema,
      url: s.name === 'hubei-reporting' ? service!.url : s.url,
      sdl: readFileSync(join(root, s.schema), 'utf8'),
    })),
  );
  expect(errors).toEqual([]);
  const supergraphPath = join(root, 'schema', 'candidate.graphql');
  writeFileSync(supergraphPath, supergraph!);
  const issuer = new TokenIssuer([await generateSigningKey()]);
  gateway = await createGateway({
    config: loadConfig(gatewayConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      SUPERGRAPH_PATH: supergraphPath,
      INTERNAL_AUTH_SECRET: secret,
    }),
    logger: createLogger('gateway', 'warn'),
    verifier: new TokenVerifier({ jwks: issuer.jwks() }),
  });
  const token = await issuer.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420000',
    permissions: ['hubei-reporting:write', 'hubei-reporting:read'],
  });
  const gql = (query: string, variables: Record<string, unknown> = {}) =>
    request(gateway!.app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${token}`)
      .send({ query, variables });

  const created = await gql(
    'mutation { createHubeiReportingItem(title: "月报", regionCode: "420100") { item { id } errors { code } } }',
  ).expect(200);
  expect(created.body.data.createHubeiReportingItem.errors).toEqual([]);
  const id = created.body.data.createHubeiReportingItem.item.id;
  const read = await gql('query($id: ID!) { hubeiReportingItem(id: $id) { title regionCode } }', {
    id,
  }).expect(200);
  expect(read.body.data.hubeiReportingItem).toEqual({ title: '月报', regionCode: '420100' });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is checked field by field. */
type Doc = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('the scaffolded subgraph is registered for delivery', () => {
  const name = 'hubei-reporting';
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const yamlDocs = (path: string) => parseAllDocuments(read(path)).map((d) => d.toJS() as Doc);
  const renders: Record<'dev' | 'production', K8sObject[]> = { dev: [], production: [] };
  const env = (c: Doc) => Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.value ?? e.valueFrom]));

  beforeAll(() => {
    expect(existsSync(join(root, 'services', name, 'src', 'migrate.ts'))).toBe(true);
    for (const e of ['dev', 'production'] as const) {
      const chart = join(root, 'charts', 'vtv-platform');
      const r = spawnSync(
        helm(),
        ['template', 'vtv', chart, '--namespace', 'vtv', '--kube-version', KUBE_VERSION].concat([
          '-f',
          join(chart, `values-${e}.yaml`),
        ]),
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`helm template (${e}) of the copy failed:\n${r.stderr}`);
      renders[e] = parseManifests(r.stdout);
    }
  });

  it.each(['dev', 'production'] as const)(
    'helm template (%s) renders its workloads exactly as careers\u2019, with its own image, database and name',
    (e) => {
      const objects = renders[e];
      const own = (service: string) =>
        objects
          .filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === service)
          .map((o) => `${o.kind} ${o.metadata.name.replace(service, '<name>')}`)
          .sort();
      // careers also scales on Kafka lag in production (KEDA); the scaffold consumes nothing.
      expect(own(name)).toEqual(own('careers').filter((o) => !o.startsWith('ScaledObject')));
      expect(own(name)).toEqual(
        expect.arrayContaining([
          'Deployment vtv-<name>',
          'Service vtv-<name>',
          'Job vtv-<name>-migrate',
          'NetworkPolicy vtv-<name>',
        ]),
      );

      const deployment = find(objects, 'Deployment', `vtv-${name}`);
      const pod = deployment.spec.template.spec;
      const [c] = pod.containers;
      const careers = find(objects, 'Deployment', 'vtv-careers').spec.template.spec;
      expect(c.name).toBe(name);
      expect(c.image).toBe(e === 'dev' ? `${name}:dev` : `registry.example.org/vtv/${name}:0.1.0`);
      const vars = env(c);
      expect(vars.DATABASE_URL).toEqual({ secretKeyRef: { name: `vtv-${name}-database`, key: 'url' } });
      expect(vars.OTEL_SERVICE_NAME).toBe(name);
      expect(vars.IDENTITY_JWKS_URL).toBe('http://vtv-identity:4000/.well-known/jwks.json');
      expect(vars.KAFKA_BROKERS).toBe(env(careers.containers[0]).KAFKA_BROKERS);
      // Same hardening, probes, resources and drain as careers.
      for (const key of ['securityContext', 'terminationGracePeriodSeconds', 'volumes'])
        expect([key, pod[key]]).toEqual([key, careers[key]]);
      for (const key of ['securityContext', 'resources', 'startupProbe', 'readinessProbe', 'lifecycle'])
        expect([key, c[key]]).toEqual([key, careers.containers[0][key]]);

      expect(find(objects, 'Service', `vtv-${name}`).spec.ports).toEqual([
        { name: 'http', port: 4000, targetPort: 'http', protocol: 'TCP' },
      ]);

      const job = find(objects, 'Job', `vtv-${name}-migrate`);
      expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      const [migrate] = job.spec.template.spec.containers;
      expect(migrate.image).toBe(c.image);
      expect(migrate.args).toEqual(['service/src/migrate.ts']);
      expect(env(migrate).DATABASE_URL).toEqual(vars.DATABASE_URL);

      // Only the gateway reaches it; it reaches its own database (a range of its own in production).
      const policy = find(objects, 'NetworkPolicy', `vtv-${name}`);
      expect(policy.spec.ingress).toEqual(find(objects, 'NetworkPolicy', 'vtv-careers').spec.ingress);
      const database = policy.spec.egress.find((r: Doc) => r.ports.some((p: Doc) => p.port === 5432));
      const careersDatabase = find(objects, 'NetworkPolicy', 'vtv-careers').spec.egress.find((r: Doc) =>
        r.ports.some((p: Doc) => p.port === 5432),
      );
      if (e === 'dev') expect(database.to).toEqual(careersDatabase.to);
      else expect(database.to).toEqual([{ ipBlock: { cidr: '192.0.2.96/28' } }]);

      // The gateway routes to it and may reach it; identity lets it fetch the keys.
      const gateway = find(objects, 'Deployment', 'vtv-gateway').spec.template.spec.containers[0];
      expect(env(gateway).SUBGRAPH_URLS).toContain(`${name}=http://vtv-${name}:4000/graphql`);
      const gatewayEgress = find(objects, 'NetworkPolicy', 'vtv-gateway').spec.egress.find((r: Doc) =>
        r.ports.some((p: Doc) => p.port === 4000),
      );
      expect(gatewayEgress.to[0].podSelector.matchExpressions[0].values).toContain(name);
      const identityIngress = find(objects, 'NetworkPolicy', 'vtv-identity').spec.ingress;
      expect(identityIngress[1].from[0].podSelector.matchExpressions[0].values).toContain(name);
    },
  );

  it('skaffold.yaml builds its image from the root Dockerfile and deploys it', () => {
    const platform = yamlDocs('skaffold.yaml').find((d) => d.metadata.name === 'platform')!;
    const artifacts = platform.build.artifacts as Doc[];
    expect(artifacts.map((a) => a.image).slice(-2)).toEqual([name, 'gateway']);
    expect(artifacts.find((a) => a.image === name)).toEqual({
      image: name,
      context: '.',
      docker: { dockerfile: 'Dockerfile', buildArgs: { WORKSPACE: `services/${name}` } },
    });
    // Skaffold's template keys spell - as _.
    expect(platform.deploy.helm.releases[0].setValueTemplates).toMatchObject({
      [`${name}.image.repository`]: '{{.IMAGE_REPO_hubei_reporting}}',
      [`${name}.image.tag`]: '{{.IMAGE_TAG_hubei_reporting}}',
    });
    expect(read('Dockerfile')).toContain(`COPY services/${name}/package.json services/${name}/\n`);
    expect(read('charts/vtv-platform/Chart.yaml')).toContain(`alias: ${name}\n`);
  });

  it('the dev cluster gets its database, role and Secret', () => {
    const secret = yamlDocs('k8s/overlays/dev/secrets.yaml').find(
      (d) => d.metadata.name === `vtv-${name}-database`,
    )!;
    const url = new URL(secret.stringData.url);
    expect([url.username, url.pathname, url.hostname]).toEqual([
      'hubei_reporting',
      '/hubei_reporting',
      'postgresql.vtv-infra.svc.cluster.local',
    ]);
    const init = yamlDocs('k8s/infra/postgresql.yaml')[0]!.data['10-databases.sql'] as string;
    expect(init).toContain(`CREATE ROLE hubei_reporting LOGIN PASSWORD '${url.password}';`);
    expect(init).toContain('CREATE DATABASE hubei_reporting OWNER hubei_reporting;');
    expect(init).toMatch(/^REVOKE CONNECT ON DATABASE .*, hubei_reporting FROM PUBLIC;$/m);
    expect(init).toContain('GRANT CONNECT ON DATABASE hubei_reporting TO hubei_reporting;');
  });

  it('every generated and edited file keeps the house format (Prettier) and the copy passes scripts/k8s-validate.sh', () => {
    const edited = [
      'charts/vtv-platform/Chart.yaml',
      'charts/vtv-platform/values.yaml',
      'charts/vtv-platform/values-dev.yaml',
      'charts/vtv-platform/values-production.yaml',
      'charts/vtv-platform/values.schema.json',
      'skaffold.yaml',
      'k8s/infra/postgresql.yaml',
      'k8s/overlays/dev/secrets.yaml',
      'schema/subgraphs.json',
      // The generated subgraph itself.
      'services/hubei-reporting',
    ];
    const prettier = spawnSync(join(repo, 'node_modules', '.bin', 'prettier'), ['--check', ...edited], {
      cwd: root,
      encoding: 'utf8',
    });
    expect([prettier.status, prettier.stdout + prettier.stderr]).toEqual([0, expect.any(String)]);
    const validate = spawnSync('bash', [join(root, 'scripts', 'k8s-validate.sh')], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    if (validate.status !== 0) console.error(validate.stdout, validate.stderr);
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain('Kubernetes delivery validated');
  });

  it('the copy passes its own chart and delivery tests (test/k8s, unit), which now cover it too', async () => {
    // The repository's unit project, rooted in the copy and limited to test/k8s.
    const { projects } = (await import(join(repo, 'jest.config.js'))) as {
      projects: Record<string, unknown>[];
    };
    const { displayName: _, ...unit } = projects.find((p) => p.displayName === 'unit')!;
    const config = { ...unit, rootDir: root, roots: ['<rootDir>/test/k8s'] };
    const jest = spawnSync(
      join(repo, 'node_modules', '.bin', 'jest'),
      ['--config', JSON.stringify(config), '--ci', '--json', '--maxWorkers=2'],
      { cwd: root, encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const report = JSON.parse(jest.stdout || '{}') as {
      testResults?: {
        assertionResults: { ancestorTitles: string[]; title: string; fullName: string; status: string }[];
      }[];
    };
    const tests = (report.testResults ?? []).flatMap((r) => r.assertionResults);
    const failed = tests.filter((t) => t.status !== 'passed').map((t) => t.fullName);
    if (jest.status !== 0) console.error(jest.stderr);
    expect([jest.status, failed]).toEqual([0, []]);
    expect(report.testResults).toHaveLength(3);
    // The per-service tests cover the scaffolded subgraph exactly as they cover training (a subgraph
    // that consumes no events and has no settings of its own).
    const perService = (service: string) =>
      tests
        .filter(
          (t) =>
            t.title.startsWith(`${service}:`) ||
            t.title.startsWith(`${service} `) ||
            t.title.includes(` ${service},`),
        )
        .map((t) => [...t.ancestorTitles, t.title.replace(service, '<name>')].join(' › '))
        .sort();
    expect(perService(name).length).toBeGreaterThan(10);
    expect(perService(name)).toEqual(perService('training'));
  });

  it('a name registered anywhere is refused and nothing is written', () => {
    const tracked = ['charts/vtv-platform/Chart.yaml', 'schema/subgraphs.json', 'README.md', 'Dockerfile'];
    // Registered in the chart only (say, by hand): the scaffold stops at that file.
    const chart = read('charts/vtv-platform/Chart.yaml').replace(
      '    alias: gateway\n',
      '    alias: gateway\n  - name: vtv-service\n    version: 0.1.0\n    alias: hubei-orphan\n',
    );
    writeFileSync(join(root, 'charts/vtv-platform/Chart.yaml'), chart);
    const before = tracked.map(read);
    expect(() => scaffold({ name: 'hubei-orphan', dir: 'services', root })).toThrow(
      '"hubei-orphan" is already registered in charts/vtv-platform/Chart.yaml',
    );
    expect(tracked.map(read)).toEqual(before);
    expect(existsSync(join(root, 'services', 'hubei-orphan'))).toBe(false);
  });
});
