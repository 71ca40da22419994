import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import {
  ANONYMOUS,
  CALLER_HEADER,
  IDEMPOTENCY_HEADER,
  REQUEST_ID_HEADER,
  signCaller,
  type Caller,
} from '@vtv/kit';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import nodeFetch from 'node-fetch';
import type { GatewayMetrics } from './metrics';

/** What the gateway keeps per request; the data sources read it to sign and label subgraph fetches. */
export interface GatewayContext {
  caller: Caller;
  requestId: string;
  idempotencyKey?: string;
  /** Client headers on the propagation allow-list, forwarded to every subgraph. */
  propagated: Record<string, string>;
  /** Bounded metric label: a registered operation's name or `unregistered`. */
  operationLabel: string;
  /** The client operation's type; only reads of a `query` are shared between identical requests. */
  operationType?: string;
  /** Filled by the observation plugin, read by the access log. */
  observation: { errorCodes: string[] };
}

/** A subgraph could not be reached (refused, timed out, 5xx): shown to clients as UNAVAILABLE. */
export class SubgraphUnavailable extends Error {
  constructor(
    readonly subgraph: string,
    override readonly cause: unknown,
  ) {
    super(`subgraph ${subgraph} unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'SubgraphUnavailable';
  }
}

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type Response = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

export interface DataSourceOptions {
  name: string;
  url: string;
  secret: string;
  metrics: GatewayMetrics;
  timeoutMs: number;
  maxSockets: number;
  /** Share one fetch among identical reads in flight (see SUBGRAPH_DEDUPLICATE_QUERIES). */
  deduplicate?: boolean;
}

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

/**
 * One subgraph: a keep-alive connection pool, a timeout per fetch, the verified caller signed into a
 * short-lived header the subgraph trusts, only allow-listed client headers forwarded, RED metrics.
 * node-fetch over node:http (rather than the built-in fetch) so OpenTelemetry's http instrumentation
 * propagates the trace context to the subgraph.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  readonly agent: HttpAgent;
  private readonly secret: string;
  private readonly metrics: GatewayMetrics;
  private readonly deduplicate: boolean;
  private readonly inflight = new Map<string, Promise<Response>>();

  constructor(o: DataSourceOptions) {
    const agent = o.url.startsWith('https:')
      ? new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets, keepAliveMsecs: 1_000 })
      : new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets, keepAliveMsecs: 1_000 });
    const fetcher = ((url: string, init?: Parameters<Fetcher>[1]) =>
      nodeFetch(url, {
        ...(init as object),
        agent,
        signal: AbortSignal.timeout(o.timeoutMs),
      } as Parameters<typeof nodeFetch>[1])) as unknown as Fetcher;
    super({ url: o.url, fetcher });
    this.name = o.name;
    this.agent = agent;
    this.secret = o.secret;
    this.metrics = o.metrics;
    this.deduplicate = o.deduplicate ?? false;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const ctx = context as Partial<GatewayContext>;
    const headers = request.http?.headers;
    if (!headers) return;
    for (const [name, value] of Object.entries(ctx.propagated ?? {})) headers.set(name, value);
    headers.set(CALLER_HEADER, signCaller(ctx.caller ?? ANONYMOUS, this.secret));
    if (ctx.requestId) headers.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.idempotencyKey) headers.set(IDEMPOTENCY_HEADER, ctx.idempotencyKey);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Response> {
    const started = performance.now();
    const operation = (options.context as Partial<GatewayContext>).operationLabel ?? 'internal';
    let outcome = 'ok';
    try {
      const response = await this.shared(options);
      if (response.errors?.length) outcome = 'error';
      return response;
    } catch (err) {
      outcome = 'failed';
      const status = (err as { extensions?: { response?: { status?: number } } }).extensions?.response
        ?.status;
      // 4xx means the gateway asked wrongly (a bug): masked as internal. Anything else: unavailable.
      if (status !== undefined && status >= 400 && status < 500) throw err;
      throw new SubgraphUnavailable(this.name, err);
    } finally {
      const labels = { subgraph: this.name, operation, outcome };
      this.metrics.subgraphRequests.inc(labels);
      this.metrics.subgraphDuration.observe(labels, (performance.now() - started) / 1000);
    }
  }

  /**
   * In-flight deduplication (what Apollo Router calls query deduplication): while a read is on its way
   * to the subgraph, an identical one — same query, variables, caller and forwarded headers — waits for
   * the same response instead of sending its own. Only inside client queries: a mutation's follow-up
   * reads must see its own writes. Each waiter gets its own copy, since the executor merges into it.
   */
  private async shared(options: ProcessOptions): Promise<Response> {
    const key = this.deduplicate ? dedupeKey(options) : undefined;
    if (!key) return super.process(options);
    let shared = this.inflight.get(key);
    if (shared) {
      this.metrics.subgraphDeduplicated.inc({ subgraph: this.name });
    } else {
      shared = super.process(options).finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    const { http, ...body } = await shared;
    return { ...structuredClone(body), ...(http ? { http } : {}) } as Response;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Everything a subgraph's answer can depend on; undefined when the request must not be shared. */
function dedupeKey(options: ProcessOptions): string | undefined {
  if (options.kind !== GraphQLDataSourceRequestKind.INCOMING_OPERATION) return undefined;
  const { request } = options;
  const context = options.context as Partial<GatewayContext>;
  if (context.operationType !== 'query' || !request.query || !/^\s*(query\b|\{)/.test(request.query))
    return undefined;
  const c = context.caller ?? ANONYMOUS;
  return JSON.stringify([
    request.query,
    request.operationName ?? null,
    request.variables ?? null,
    [c.kind, c.id ?? null, c.regionCode ?? null, c.permissions],
    context.propagated ?? {},
  ]);
}
