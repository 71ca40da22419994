/**
 * Reads the rendered platform (dev and production values) the way the cluster would enforce it:
 * NetworkPolicies are additive allow-lists over a namespace-wide default deny, so for each service the
 * union of every policy that selects its pods is what may reach it, and what it may reach.
 * Then every Deployment is held to the hardening the issue asks for.
 */
import {
  ENVIRONMENTS,
  SERVICES,
  SUBGRAPHS,
  find,
  fullname,
  ofKind,
  podLabels,
  render,
  selects,
  type Environment,
  type K8sObject,
  type LabelSelector,
} from './render';

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port: number | string; protocol?: string }[];
}

const renders = new Map<Environment, K8sObject[]>();
beforeAll(() => {
  for (const env of ENVIRONMENTS) renders.set(env, render(env));
}, 60_000);
const objects = (env: Environment) => renders.get(env)!;

/** The policies that apply to a workload's pods. */
function policiesFor(env: Environment, workload: K8sObject): K8sObject[] {
  return ofKind(objects(env), 'NetworkPolicy').filter((p) =>
    selects(p.spec.podSelector, podLabels(workload)),
  );
}

/**
 * Who a rule's peers are: services of this release (by the labels of their pods in this namespace),
 * or a description of anything outside (another namespace, an address block, everyone).
 */
function peersOf(env: Environment, peers: Peer[] | undefined): { services: Set<string>; outside: string[] } {
  const services = new Set<string>();
  const outside: string[] = [];
  if (!peers || peers.length === 0) return { services, outside: ['anyone'] };
  for (const peer of peers) {
    if (peer.ipBlock) outside.push(`ipBlock ${peer.ipBlock.cidr}`);
    else if (peer.namespaceSelector) outside.push(`namespace ${JSON.stringify(peer.namespaceSelector)}`);
    else
      for (const d of ofKind(objects(env), 'Deployment'))
        if (selects(peer.podSelector, podLabels(d)))
          services.add(d.metadata.labels['app.kubernetes.io/name']);
  }
  return { services, outside };
}

function ingressSources(env: Environment, service: string) {
  const deployment = find(objects(env), 'Deployment', fullname(service));
  const rules: Rule[] = policiesFor(env, deployment).flatMap((p) => p.spec.ingress ?? []);
  const services = new Set<string>();
  const outside: string[] = [];
  const ports = new Set<string>();
  for (const rule of rules) {
    const p = peersOf(env, rule.from);
    p.services.forEach((s) => services.add(s));
    outside.push(...p.outside);
    for (const port of rule.ports ?? [{ port: 'any' }]) ports.add(String(port.port));
  }
  return { services, outside, ports, rules };
}

function egressRules(env: Environment, service: string): Rule[] {
  const deployment = find(objects(env), 'Deployment', fullname(service));
  return policiesFor(env, deployment).flatMap((p) => p.spec.egress ?? []);
}

/** Every subgraph but identity verifies tokens with identity's public keys (IDENTITY_JWKS_URL, chart.spec.ts). */
const identityJwksClients = SUBGRAPHS.filter((s) => s !== 'identity');

describe.each(ENVIRONMENTS)('network policies (%s)', (env) => {
  it('deny everything in the namespace by default, in and out', () => {
    const denyAll = ofKind(objects(env), 'NetworkPolicy').filter(
      (p) => Object.keys(p.spec.podSelector ?? {}).length === 0,
    );
    expect(denyAll).toHaveLength(1);
    expect(denyAll[0]!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(denyAll[0]!.spec.ingress ?? []).toEqual([]);
    expect(denyAll[0]!.spec.egress ?? []).toEqual([]);
  });

  it('every policy of a service covers both directions', () => {
    for (const service of SERVICES) {
      const deployment = find(objects(env), 'Deployment', fullname(service));
      const own = policiesFor(env, deployment).filter((p) => Object.keys(p.spec.podSelector).length > 0);
      expect(own.map((p) => p.spec.policyTypes)).toEqual([['Ingress', 'Egress']]);
    }
  });

  it.each(SUBGRAPHS.filter((s) => s !== 'identity'))('only the gateway may reach %s, on its port', (s) => {
    const { services, outside, ports } = ingressSources(env, s);
    expect(outside).toEqual([]);
    expect([...services]).toEqual(['gateway']);
    expect([...ports]).toEqual(['4000']);
  });

  it('identity admits the gateway and, for its public keys, the subgraphs that verify tokens', () => {
    const { services, outside, ports } = ingressSources(env, 'identity');
    expect(outside).toEqual([]);
    expect([...services].sort()).toEqual(['gateway', ...identityJwksClients].sort());
    expect([...ports]).toEqual(['4000']);
  });

  it('no subgraph admits its own kind or the migration Jobs (which run with the service image)', () => {
    const jobs = ofKind(objects(env), 'Job');
    for (const s of SUBGRAPHS) {
      const { services, rules } = ingressSources(env, s);
      expect([s, services.has(s)]).toEqual([s, false]);
      const admitted = jobs.filter((job) =>
        rules.some((rule) =>
          (rule.from ?? []).some((peer: Peer) => selects(peer.podSelector, podLabels(job))),
        ),
      );
      expect([s, admitted.map((j) => j.metadata.name)]).toEqual([s, []]);
    }
  });

  it('the gateway is reached on its port only, and in production only from the ingress controller and Prometheus', () => {
    const { services, outside, ports } = ingressSources(env, 'gateway');
    expect([...ports]).toEqual(['4000']);
    expect([...services]).toEqual([]);
    if (env === 'production') {
      expect(outside.sort()).toEqual([
        expect.stringContaining('ingress-nginx'),
        expect.stringContaining('monitoring'),
      ]);
    }
  });

  it.each(SUBGRAPHS)(
    '%s reaches only DNS, its database, Kafka, Redis, the collector (and identity for keys, careers its SMS gateway)',
    (s) => {
      const rules = egressRules(env, s);
      const inNamespace = new Set<string>();
      for (const rule of rules) {
        expect(rule.to?.length).toBeGreaterThan(0); // no allow-all egress
        expect(rule.ports?.length).toBeGreaterThan(0); // and never every port
        peersOf(env, rule.to).services.forEach((x) => inNamespace.add(x));
      }
      // The only pods of the release it may call: identity, for its JWKS.
      expect([...inNamespace]).toEqual(identityJwksClients.includes(s) ? ['identity'] : []);
      const portsOf = (port: number) => rules.filter((r) => r.ports!.some((p) => p.port === port));
      expect(portsOf(53)).toHaveLength(1);
      expect(portsOf(5432)).toHaveLength(1);
      expect(portsOf(9092)).toHaveLength(1);
      expect(portsOf(6379)).toHaveLength(1);
      expect(portsOf(4318)).toHaveLength(1);
      // Nothing else, but careers' SMS gateway where an environment configures one (production).
      const known = new Set([53, 5432, 9092, 6379, 4318, 4000]);
      const other = rules.flatMap((r) => r.ports!.map((p) => Number(p.port))).filter((p) => !known.has(p));
      expect([s, other]).toEqual([s, s === 'careers' && env === 'production' ? [443] : []]);
    },
  );

  it('each subgraph reaches its own database and no other subgraph’s', () => {
    const databasePeers = new Map<string, string>();
    for (const s of SUBGRAPHS) {
      const rule = egressRules(env, s).find((r) => r.ports!.some((p) => p.port === 5432))!;
      databasePeers.set(s, JSON.stringify(rule.to));
    }
    if (env === 'production') {
      // Production: one database server per subgraph, so the peers must all differ.
      expect(new Set(databasePeers.values()).size).toBe(SUBGRAPHS.length);
    } else {
      // Dev: one PostgreSQL server with a database and role per subgraph (k8s/infra/postgresql.yaml).
      expect(new Set(databasePeers.values()).size).toBe(1);
    }
  });

  it('the gateway reaches the subgraphs, DNS, Redis and the collector, nothing else', () => {
    const rules = egressRules(env, 'gateway');
    const inNamespace = new Set<string>();
    for (const rule of rules) {
      expect(rule.to?.length).toBeGreaterThan(0);
      peersOf(env, rule.to).services.forEach((x) => inNamespace.add(x));
    }
    expect([...inNamespace].sort()).toEqual([...SUBGRAPHS].sort());
    const ports = new Set(rules.flatMap((r) => r.ports!.map((p) => p.port)));
    expect([...ports].sort()).toEqual([4000, 4318, 53, 6379].sort());
  });
});

describe.each(ENVIRONMENTS)('every service is hardened (%s)', (env) => {
  it.each(SERVICES)('%s: Deployment, Service, probes, resources, PDB, restricted pod, drain', (service) => {
    const all = objects(env);
    const d = find(all, 'Deployment', fullname(service));
    const pod = d.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.containers).toHaveLength(1);

    // A Service in front, on the shared port.
    const svc = find(all, 'Service', fullname(service));
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 4000, targetPort: 'http', protocol: 'TCP' }]);

    // Probes: liveness never checks dependencies (/healthz); readiness does (/readyz).
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');

    // Requests and limits.
    for (const r of ['cpu', 'memory']) {
      expect(container.resources.requests[r]).toBeDefined();
      expect(container.resources.limits[r]).toBeDefined();
    }

    // A PodDisruptionBudget selecting exactly these pods.
    const pdbs = ofKind(all, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector, podLabels(d)));
    expect(pdbs).toHaveLength(1);
    expect(pdbs[0]!.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);

    // Pod Security Standard "restricted".
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext.capabilities.add).toBeUndefined();
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    // The read-only root filesystem gets a writable /tmp.
    const tmp = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir).toBeDefined();

    // Spread over zones and nodes.
    const keys = pod.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey);
    expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);

    // The grace period covers the preStop pause and the drain the process does itself.
    const vars = Object.fromEntries(
      container.env
        .filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    const graceMs = Number(vars.SHUTDOWN_GRACE_MS);
    const preStop = container.lifecycle.preStop.sleep.seconds;
    expect(graceMs).toBeGreaterThan(0);
    expect(preStop).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStop * 1000 + 2 * graceMs);
  });

  it('migration Jobs run with the same hardening', () => {
    const jobs = ofKind(objects(env), 'Job');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(
      SUBGRAPHS.map((s) => `${fullname(s)}-migrate`).sort(),
    );
    for (const job of jobs) {
      const pod = job.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.containers[0].securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.containers[0].resources.limits.memory).toBeDefined();
      expect(pod.automountServiceAccountToken).toBe(false);
    }
  });
});
