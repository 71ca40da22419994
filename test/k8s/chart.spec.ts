/**
 * The platform chart against the code it deploys: values.schema.json and the chart's guards refuse bad
 * values; the environment it sets is the one each service's config reads (and all that production
 * requires); autoscaling follows the topic registry; migrations run as hook Jobs with the service image.
 */
import { allTopicSpecs } from '@vtv/events';
import { ConfigError, loadConfig } from '@vtv/kit';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { careersConfig } from '../../services/careers/src/config';
import { gatewayConfig, subgraphUrlOverrides } from '../../gateway/src/config';
import {
  CHART,
  ENVIRONMENTS,
  KUBE_VERSION,
  ROOT,
  SERVICES,
  SUBGRAPHS,
  find,
  fullname,
  helm,
  ofKind,
  readYamlDocuments,
  render,
  template,
  workspaceOf,
  type Environment,
  type K8sObject,
} from './render';

/**
 * Each service's config schema: `<name in camel case>Config` from <workspace>/src/config.ts, the
 * convention of the platform's services and of the scaffold's template (e.g. hubei-reporting's
 * hubeiReportingConfig), so a scaffolded subgraph's environment is checked like the others'.
 */
const CONFIGS = new Map<string, z.ZodType>();
beforeAll(async () => {
  for (const service of SERVICES) {
    const path = join(ROOT, workspaceOf(service), 'src', 'config.ts');
    const exported = `${service.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Config`;
    const config = ((await import(path)) as Record<string, z.ZodType | undefined>)[exported];
    if (!config) throw new Error(`${path} exports no ${exported}`);
    CONFIGS.set(service, config);
  }
});
const configOf = (service: string) => CONFIGS.get(service)!;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: unknown };
}

const renders = new Map<Environment, K8sObject[]>();
beforeAll(() => {
  for (const env of ENVIRONMENTS) renders.set(env, render(env));
}, 60_000);
const objects = (env: Environment) => renders.get(env)!;
const container = (env: Environment, service: string) =>
  find(objects(env), 'Deployment', fullname(service)).spec.template.spec.containers[0];

/** The variable names a zod config object reads (unwrapping refinements and transforms). */
function configKeys(schema: z.ZodType): string[] {
  let s = schema as unknown as { shape?: Record<string, unknown>; def?: { in?: unknown; schema?: unknown } };
  for (let i = 0; i < 5 && !s.shape; i++) s = (s.def?.in ?? s.def?.schema) as typeof s;
  if (!s.shape) throw new Error('config schema has no object shape');
  return Object.keys(s.shape);
}

describe('values.schema.json and the chart guards refuse bad values', () => {
  it.each([
    [['vouchers.replicaCount=two'], "at '/replicaCount': got string, want integer"],
    [['global.environment=staging'], "at '/global/environment'"],
    [['voucher.replicaCount=2'], "additional properties 'voucher' not allowed"],
    [['training.replicas=3'], "additional properties 'replicas' not allowed"],
    [['gateway.role=subgraph'], "at '/gateway/role'"],
    [['vouchers.image.digest=latest'], "at '/image/digest'"],
    [['global.kafka.brokers=kafka'], "at '/global/kafka/brokers'"],
    [['identity.secrets.env[0].name=token_signing_keys'], "at '/secrets/env/0/name'"],
  ])('schema: %j', (set, message) => {
    const r = template('production', set);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(message);
  });

  it('helm lint --strict fails on a broken value too', () => {
    const r = spawnSync(
      helm(),
      [
        'lint',
        '--strict',
        '--kube-version',
        KUBE_VERSION,
        CHART,
        '-f',
        join(CHART, 'values-dev.yaml'),
      ].concat(['--set', 'gateway.replicaCount=-1']),
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("at '/replicaCount'");
  });

  it.each([
    [['vouchers.kafkaScaling.maxReplicas=13'], 'exceeds 12, the most partitions of any topic it consumes'],
    [['vouchers.autoscaling.enabled=true'], 'a KEDA ScaledObject owns its own HPA'],
    [['gateway.shutdown.terminationGracePeriodSeconds=20'], 'is shorter than preStop'],
    [['vouchers.database.poolSize=50'], 'exceed database.connectionBudget'],
    [['gateway.kafkaScaling.enabled=true', 'gateway.autoscaling.enabled=false'], 'it consumes no events'],
    [['gateway.gateway.workers=2'], 'gateway.workers=2 needs resources.limits.cpu of at least 2 cores'],
    [
      ['gateway.gateway.workers=3', 'gateway.resources.limits.cpu=2500m'],
      'gateway.workers=3 needs resources.limits.cpu of at least 3 cores',
    ],
  ])('guard: %j', (set, message) => {
    const r = template('production', set);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain(message);
  });

  it('gateway cluster mode: GATEWAY_WORKERS from gateway.workers, given a core per worker', () => {
    const workers = (set: string[]) =>
      (
        find(render('production', set), 'Deployment', fullname('gateway')).spec.template.spec.containers[0]
          .env as EnvVar[]
      ).find((e) => e.name === 'GATEWAY_WORKERS')?.value;
    expect(workers([])).toBe('1');
    expect(workers(['gateway.gateway.workers=2', 'gateway.resources.limits.cpu=2'])).toBe('2');
    expect(workers(['gateway.gateway.workers=2', 'gateway.resources.limits.cpu=2000m'])).toBe('2');
  });

  it('the values files themselves render', () => {
    for (const env of ENVIRONMENTS) expect(template(env).ok).toBe(true);
  });
});

describe.each(ENVIRONMENTS)('environment of each process (%s)', (env) => {
  it.each(SERVICES)('%s: every variable the chart sets is one its config reads', (service) => {
    const known = new Set(configKeys(configOf(service)));
    const unknown = (container(env, service).env as EnvVar[])
      .map((e) => e.name)
      .filter((n) => !known.has(n) && !/^(OTEL_|K8S_)/.test(n));
    expect(unknown).toEqual([]);
  });

  it.each(SERVICES)('%s: nothing its config requires is missing', (service) => {
    const vars = container(env, service).env as EnvVar[];
    // Variables the pod is sure to have: plain values, and Secret keys that are not optional.
    const set = new Map<string, string>();
    for (const v of vars) {
      if (v.value !== undefined) set.set(v.name, v.value);
      else if (v.valueFrom?.secretKeyRef && !v.valueFrom.secretKeyRef.optional)
        set.set(
          v.name,
          v.name.endsWith('DATABASE_URL') ? 'postgres://u:p@db.invalid:5432/db' : 'x'.repeat(48),
        );
    }
    set.set('REDIS_URL', 'redis://redis.invalid:6379');
    let problems: string[] = [];
    try {
      loadConfig(configOf(service), Object.fromEntries(set));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
    }
    // Placeholder secrets may fail their format checks; what must not happen is a required variable the
    // chart does not provide at all.
    const missing = problems.filter((p) => !set.has(p.split(':')[0]!) && /required/.test(p));
    expect(missing).toEqual([]);
  });

  it('one name everywhere: container, OTEL_SERVICE_NAME, image, Service', () => {
    for (const service of SERVICES) {
      const c = container(env, service);
      expect(c.name).toBe(service);
      expect((c.env as EnvVar[]).find((e) => e.name === 'OTEL_SERVICE_NAME')?.value).toBe(service);
      expect(c.image).toMatch(new RegExp(`(^|/)${service}:[^/]+$`));
    }
  });

  it('the gateway routes to the Services of the release, and subgraphs fetch keys from identity', () => {
    const services = new Set(ofKind(objects(env), 'Service').map((s) => s.metadata.name));
    const gw = container(env, 'gateway').env as EnvVar[];
    // One SUBGRAPH_URLS for every subgraph (a scaffolded one too), read by the gateway's own parser.
    const routes = subgraphUrlOverrides(
      loadConfig(gatewayConfig, {
        NODE_ENV: 'test',
        INTERNAL_AUTH_SECRET: 'x'.repeat(32),
        SUBGRAPH_URLS: gw.find((e) => e.name === 'SUBGRAPH_URLS')?.value,
      }),
    );
    expect(Object.keys(routes)).toEqual([...SUBGRAPHS]);
    for (const s of SUBGRAPHS) {
      expect(routes[s]).toBe(`http://${fullname(s)}:4000/graphql`);
      expect(services.has(fullname(s))).toBe(true);
    }
    expect(gw.find((e) => e.name === 'JWKS_URL')?.value).toBe(
      `http://${fullname('identity')}:4000/.well-known/jwks.json`,
    );
    for (const s of SUBGRAPHS.filter((x) => x !== 'identity')) {
      const jwks = (container(env, s).env as EnvVar[]).find((e) => e.name === 'IDENTITY_JWKS_URL')?.value;
      expect(jwks).toBe(`http://${fullname('identity')}:4000/.well-known/jwks.json`);
    }
  });

  it('production requires its keys; other environments let the services derive development ones', () => {
    const refs = (container(env, 'vouchers').env as EnvVar[]).filter(
      (e) => e.valueFrom?.secretKeyRef?.name === `${fullname('vouchers')}-secrets`,
    );
    expect(refs.map((e) => e.name)).toEqual([
      'VOUCHER_QR_SECRET',
      'VOUCHER_CODE_SECRET',
      'VOUCHER_QR_PREVIOUS_SECRET',
    ]);
    expect(refs.map((e) => e.valueFrom!.secretKeyRef!.optional)).toEqual(
      env === 'production' ? [false, false, true] : [true, true, true],
    );
  });
});

describe('careers SMS settings', () => {
  const vars = (env: Environment) => container(env, 'careers').env as EnvVar[];
  const value = (env: Environment, name: string) => vars(env).find((e) => e.name === name)?.value;

  it.each(ENVIRONMENTS)('the chart sets the service’s own defaults for every SMS tunable (%s)', (env) => {
    const defaults = loadConfig(careersConfig, {
      NODE_ENV: 'test',
      INTERNAL_AUTH_SECRET: 'x'.repeat(32),
      DATABASE_URL: 'postgres://u:p@db.invalid:5432/db',
    });
    const tunables = configKeys(careersConfig).filter(
      (k) => k.startsWith('SMS_') && !['SMS_PROVIDER_URL', 'SMS_API_KEY'].includes(k),
    );
    for (const k of tunables) expect([k, value(env, k)]).toEqual([k, String(defaults[k as 'SMS_POLL_MS'])]);
  });

  it('dev: SMS off (no provider), the key optional', () => {
    expect(value('dev', 'SMS_PROVIDER_URL')).toBeUndefined();
    const key = vars('dev').find((e) => e.name === 'SMS_API_KEY')!.valueFrom!.secretKeyRef!;
    expect(key).toEqual({ name: `${fullname('careers')}-secrets`, key: 'SMS_API_KEY', optional: true });
  });

  it('production: the provider, its key required from the Secret, and egress to it on its port only', () => {
    const url = new URL(value('production', 'SMS_PROVIDER_URL')!);
    const key = vars('production').find((e) => e.name === 'SMS_API_KEY')!.valueFrom!.secretKeyRef!;
    expect(key).toEqual({ name: `${fullname('careers')}-secrets`, key: 'SMS_API_KEY', optional: false });
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const policy = find(objects('production'), 'NetworkPolicy', fullname('careers'));
    const rules = policy.spec.egress.filter((r: { ports: { port: number }[] }) =>
      r.ports.some((p) => p.port === port),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0].to).toEqual([{ ipBlock: { cidr: expect.stringMatching(/^[\d.]+\/\d+$/) } }]);
    expect(rules[0].ports).toEqual([{ port, protocol: 'TCP' }]);
  });
});

describe('autoscaling follows the topic registry', () => {
  const topics = allTopicSpecs();
  const consumed = (service: string) => topics.filter((t) => t.consumers.includes(service));

  it('dev: CPU HPAs for the gateway and vouchers (no KEDA operator on kind)', () => {
    const hpas = ofKind(objects('dev'), 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([
      fullname('gateway'),
      fullname('vouchers'),
    ]);
    expect(ofKind(objects('dev'), 'ScaledObject')).toEqual([]);
  });

  it('production: an HPA for the gateway, KEDA for every consumer, vouchers on CPU and lag', () => {
    const hpas = ofKind(objects('production'), 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name)).toEqual([fullname('gateway')]);
    const scaled = ofKind(objects('production'), 'ScaledObject');
    const consumers = SUBGRAPHS.filter((s) => consumed(s).length > 0);
    expect(scaled.map((o) => o.spec.scaleTargetRef.name).sort()).toEqual(consumers.map(fullname).sort());
    const vouchers = find(objects('production'), 'ScaledObject', fullname('vouchers'));
    expect(vouchers.spec.triggers.some((t: { type: string }) => t.type === 'cpu')).toBe(true);
  });

  it.each(ENVIRONMENTS)('an autoscaled Deployment leaves its replica count to the autoscaler (%s)', (env) => {
    const targets = new Set(
      [...ofKind(objects(env), 'HorizontalPodAutoscaler'), ...ofKind(objects(env), 'ScaledObject')].map(
        (o) => o.spec.scaleTargetRef.name,
      ),
    );
    for (const d of ofKind(objects(env), 'Deployment'))
      expect([d.metadata.name, d.spec.replicas === undefined]).toEqual([
        d.metadata.name,
        targets.has(d.metadata.name),
      ]);
  });

  it.each(SUBGRAPHS.filter((s) => ['vouchers', 'settlement', 'careers'].includes(s)))(
    '%s: one lag trigger per topic it consumes, its own group, capped at the partitions',
    (service) => {
      const so = find(objects('production'), 'ScaledObject', fullname(service));
      const kafka = so.spec.triggers.filter((t: { type: string }) => t.type === 'kafka');
      const expected = consumed(service);
      expect(kafka.map((t: { metadata: { topic: string } }) => t.metadata.topic).sort()).toEqual(
        expected.map((t) => t.name).sort(),
      );
      for (const t of kafka) {
        expect(t.metadata.consumerGroup).toBe(service);
        expect(t.metadata.bootstrapServersFromEnv).toBe('KAFKA_BROKERS');
        expect(t.metadata.allowIdleConsumers).toBe('false');
        // Trigger metadata is a free-form map in the CRD: catch misspelt keys here.
        expect(Object.keys(t.metadata).sort()).toEqual(
          [
            'activationLagThreshold',
            'allowIdleConsumers',
            'bootstrapServersFromEnv',
            'consumerGroup',
            'lagThreshold',
            'offsetResetPolicy',
            'scaleToZeroOnInvalidOffset',
            'topic',
          ].sort(),
        );
      }
      const most = Math.max(...expected.map((t) => t.partitions));
      expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(most);
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    },
  );

  it('the partition counts in the chart values are the registry’s', () => {
    // An hpa/keda cap computed from stale counts would be wrong; the expected YAML is in the message.
    const values = readYamlDocuments('charts/vtv-platform/values.yaml')[0] as Record<
      string,
      { kafkaScaling?: { topics: { name: string; partitions: number }[] } }
    >;
    for (const service of SUBGRAPHS) {
      const expected = consumed(service).map((t) => ({ name: t.name, partitions: t.partitions }));
      const actual = values[service]?.kafkaScaling?.topics ?? [];
      const sort = (l: { name: string }[]) => [...l].sort((a, b) => a.name.localeCompare(b.name));
      expect({ service, topics: sort(actual) }).toEqual({ service, topics: sort(expected) });
    }
  });
});

describe.each(ENVIRONMENTS)('migrations (%s)', (env) => {
  it.each(SUBGRAPHS)(
    '%s: a pre-install/pre-upgrade hook Job with the service image and only DATABASE_URL',
    (s) => {
      const job = find(objects(env), 'Job', `${fullname(s)}-migrate`);
      expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(job.metadata.annotations['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
      const [c] = job.spec.template.spec.containers;
      expect(c.image).toBe(container(env, s).image);
      expect(c.args).toEqual(['service/src/migrate.ts']);
      expect(existsSync(join(ROOT, 'services', s, 'src', 'migrate.ts'))).toBe(true);
      expect((c.env as EnvVar[]).map((e) => e.name).sort()).toEqual([
        'DATABASE_URL',
        'LOG_LEVEL',
        'NODE_ENV',
      ]);
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    },
  );

  it('the gateway has no migration Job', () => {
    expect(ofKind(objects(env), 'Job').some((j) => j.metadata.name.includes('gateway'))).toBe(false);
  });
});

describe('production capacity', () => {
  const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
  const mib = (q: string) => {
    const m = /^(\d+)(Mi|Gi)$/.exec(q);
    if (!m) throw new Error(`unexpected quantity ${q}`);
    return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
  };

  it('the namespace quota (k8s/overlays/production) fits every autoscaler at its maximum plus a surge', () => {
    const all = objects('production');
    const max = new Map<string, number>();
    for (const d of ofKind(all, 'Deployment')) max.set(d.metadata.name, d.spec.replicas ?? 0);
    for (const h of ofKind(all, 'HorizontalPodAutoscaler'))
      max.set(h.spec.scaleTargetRef.name, h.spec.maxReplicas);
    for (const o of ofKind(all, 'ScaledObject')) max.set(o.spec.scaleTargetRef.name, o.spec.maxReplicaCount);
    let pods = 0;
    let requestsCpu = 0;
    let requestsMem = 0;
    let limitsMem = 0;
    for (const d of ofKind(all, 'Deployment')) {
      const n = max.get(d.metadata.name)! + 1; // maxSurge: 1
      const r = d.spec.template.spec.containers[0].resources;
      pods += n;
      requestsCpu += n * cpu(r.requests.cpu);
      requestsMem += n * mib(r.requests.memory);
      limitsMem += n * mib(r.limits.memory);
    }
    for (const j of ofKind(all, 'Job')) {
      const r = j.spec.template.spec.containers[0].resources;
      pods += 1;
      requestsCpu += cpu(r.requests.cpu);
      requestsMem += mib(r.requests.memory);
      limitsMem += mib(r.limits.memory);
    }
    const quota = (readYamlDocuments('k8s/overlays/production/resourcequota.yaml')[0] as K8sObject).spec.hard;
    expect(pods).toBeLessThanOrEqual(Number(quota.pods));
    expect(requestsCpu).toBeLessThanOrEqual(cpu(quota['requests.cpu']));
    expect(requestsMem).toBeLessThanOrEqual(mib(quota['requests.memory']));
    expect(limitsMem).toBeLessThanOrEqual(mib(quota['limits.memory']));
  });
});
