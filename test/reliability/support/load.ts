/**
 * A GraphQL load client for the reliability tests: keep-alive `node:http`, a per-request timeout, and every
 * answer classified the way TESTING.md counts errors:
 *
 * - `ok`: HTTP 200 and the payload's `errors` empty;
 * - `business`: a typed error with a documented code, in the mutation payload (`errors: [UserError!]!`)
 *   or as a top-level GraphQL error whose `extensions.code` is not a server failure;
 * - `failure` (a non-business error): no answer (connection error, timeout), HTTP 5xx, a top-level error
 *   coded INTERNAL_SERVER_ERROR or UNAVAILABLE or without a code, or any body carrying a stack trace.
 *
 * Note: scripts/bench/load.ts has a similar keep-alive poster for the performance benchmark; this one is
 * separate on purpose (the bench is edited on its own schedule). Either could import the other later.
 */
import { Agent, request } from 'node:http';

export type Outcome = 'ok' | 'business' | 'failure';

export interface Sample {
  op: string;
  ms: number;
  outcome: Outcome;
  /** The error code (business) or what went wrong (failure). */
  code?: string;
}

export interface CallResult<T> {
  sample: Sample;
  /** The root field's value when the answer was ok. */
  data?: T;
}

/** Codes that mean the server failed rather than refused: never business errors. */
const SERVER_FAILURE_CODES = new Set(['INTERNAL_SERVER_ERROR', 'UNAVAILABLE']);
const STACK_TRACE = /\bat .+\(.+:\d+:\d+\)|stacktrace/i;

export class GraphqlLoadClient {
  private readonly agent: Agent;
  readonly samples: Sample[] = [];

  constructor(
    private readonly url: string,
    maxSockets: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /**
   * Sends `query` as `op`; `field` is the root field whose value is returned (and whose `errors` list,
   * for a mutation payload, makes the answer a business error). Every call adds one sample.
   */
  async call<T = Record<string, unknown>>(
    op: string,
    field: string,
    query: string,
    variables: Record<string, unknown>,
    token?: string,
  ): Promise<CallResult<T>> {
    const started = performance.now();
    const res = await this.post({ query, variables }, token);
    const ms = performance.now() - started;
    const result = classify<T>(field, res);
    const sample: Sample = { op, ms, outcome: result.outcome, ...(result.code ? { code: result.code } : {}) };
    this.samples.push(sample);
    return { sample, ...(result.data !== undefined ? { data: result.data } : {}) };
  }

  private post(body: unknown, token?: string): Promise<{ status: number | string; body?: string }> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': String(payload.length),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'RESPONSE_ERROR' }));
        },
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message }));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function classify<T>(
  field: string,
  res: { status: number | string; body?: string },
): { outcome: Outcome; code?: string; data?: T } {
  if (typeof res.status === 'string') return { outcome: 'failure', code: res.status };
  if (res.body && STACK_TRACE.test(res.body))
    return { outcome: 'failure', code: `stack trace (${res.status})` };
  if (res.status >= 500) return { outcome: 'failure', code: `HTTP ${res.status}` };
  let parsed: {
    data?: Record<string, unknown> | null;
    errors?: { message?: string; extensions?: { code?: string } }[];
  };
  try {
    parsed = JSON.parse(res.body ?? '') as typeof parsed;
  } catch {
    return { outcome: 'failure', code: `unparsable answer (${res.status})` };
  }
  if (parsed.errors?.length) {
    const code = parsed.errors[0]!.extensions?.code;
    if (!code || SERVER_FAILURE_CODES.has(code)) return { outcome: 'failure', code: code ?? 'no code' };
    return { outcome: 'business', code };
  }
  if (res.status !== 200) return { outcome: 'failure', code: `HTTP ${res.status} without errors` };
  const value = parsed.data?.[field] as { errors?: { code: string }[] } | null | undefined;
  if (value && Array.isArray(value.errors) && value.errors.length > 0)
    return { outcome: 'business', code: value.errors[0]!.code };
  return { outcome: 'ok', data: value as T };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface OpSummary {
  op: string;
  requests: number;
  ok: number;
  business: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
  /** Business and failure codes with their counts. */
  codes: Record<string, number>;
}

export function summarise(samples: Sample[], op = 'all'): OpSummary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const codes: Record<string, number> = {};
  for (const s of samples) if (s.code) codes[s.code] = (codes[s.code] ?? 0) + 1;
  const r = (n: number) => Math.round(n);
  return {
    op,
    requests: samples.length,
    ok: samples.filter((s) => s.outcome === 'ok').length,
    business: samples.filter((s) => s.outcome === 'business').length,
    failures: samples.filter((s) => s.outcome === 'failure').length,
    p50: r(percentile(ms, 50)),
    p99: r(percentile(ms, 99)),
    max: r(ms[ms.length - 1] ?? 0),
    codes,
  };
}

export function summariseByOp(samples: Sample[]): OpSummary[] {
  const ops = [...new Set(samples.map((s) => s.op))].sort();
  return ops.map((op) =>
    summarise(
      samples.filter((s) => s.op === op),
      op,
    ),
  );
}
