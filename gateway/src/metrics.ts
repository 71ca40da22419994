import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * RED metrics in Prometheus format (served on /metrics): rate, errors and duration per operation and
 * per subgraph. Operation labels are bounded: a registered operation's name, else `unregistered`, so
 * a client cannot blow up the label set by inventing names.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'operation' | 'type' | 'outcome'>;
  readonly duration: Histogram<'operation' | 'type' | 'outcome'>;
  readonly errors: Counter<'operation' | 'code'>;
  readonly rejections: Counter<'reason'>;
  readonly subgraphRequests: Counter<'subgraph' | 'operation' | 'outcome'>;
  readonly subgraphDuration: Histogram<'subgraph' | 'operation' | 'outcome'>;
  readonly subgraphDeduplicated: Counter<'subgraph'>;
  readonly supergraphReloads: Counter<'result'>;
  readonly queued: Gauge;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL requests by operation, type and outcome (ok, error, rejected)',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Server time of GraphQL requests',
      labelNames: ['operation', 'type', 'outcome'],
      buckets,
      registers,
    });
    this.errors = new Counter({
      name: 'graphql_errors_total',
      help: 'GraphQL errors returned, by operation and error code',
      labelNames: ['operation', 'code'],
      registers,
    });
    this.rejections = new Counter({
      name: 'gateway_rejections_total',
      help: 'Requests refused before planning: limits, trusted operations, rate limits, authentication',
      labelNames: ['reason'],
      registers,
    });
    this.subgraphRequests = new Counter({
      name: 'subgraph_requests_total',
      help: 'Fetches to subgraphs by subgraph, operation and outcome (ok, error, failed)',
      labelNames: ['subgraph', 'operation', 'outcome'],
      registers,
    });
    this.subgraphDuration = new Histogram({
      name: 'subgraph_request_duration_seconds',
      help: 'Duration of fetches to subgraphs',
      labelNames: ['subgraph', 'operation', 'outcome'],
      buckets,
      registers,
    });
    this.subgraphDeduplicated = new Counter({
      name: 'subgraph_requests_deduplicated_total',
      help: 'Subgraph reads answered by an identical fetch already in flight instead of their own',
      labelNames: ['subgraph'],
      registers,
    });
    this.queued = new Gauge({
      name: 'gateway_requests_queued',
      help: 'Requests waiting for admission (MAX_CONCURRENT_REQUESTS reached)',
      registers,
    });
    this.supergraphReloads = new Counter({
      name: 'supergraph_reloads_total',
      help: 'Supergraph reloads from file, by result (applied, rejected)',
      labelNames: ['result'],
      registers,
    });
  }
}
