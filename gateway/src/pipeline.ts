import { ANONYMOUS, type Caller, type Logger } from '@vtv/kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  GraphQLError,
  getNamedType,
  type DocumentNode,
  isInputObjectType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { GatewayConfig } from './config';
import { LimitExceeded, measureOperation, parseLimited, type Limits, type OperationShape } from './limits';
import type { GatewayMetrics } from './metrics';
import type { OperationRegistry, RegisteredOperation } from './operations';
import type { RateLimiter, Rule } from './rate-limit';
import type { VerifiedTokens } from './token-cache';

/** What the checks before Apollo learned about a request; the context, access log and metrics read it. */
export interface RequestFacts {
  caller: Caller;
  /** Bounded label: the registered operation's name, else `unregistered` (or `unknown` before parsing). */
  operationLabel: string;
  operationType?: string;
  registered?: RegisteredOperation;
  shape?: OperationShape;
  /** Why the request was refused before Apollo, if it was. */
  rejected?: string;
}

export const facts = (res: Response): RequestFacts => res.locals.facts as RequestFacts;

interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

export interface PipelineDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: GatewayMetrics;
  tokens?: VerifiedTokens;
  registry: OperationRegistry;
  limiter: RateLimiter;
  /** The current API schema (changes on supergraph reload). */
  schema: () => GraphQLSchema | undefined;
  /** Root field coordinates guarded against guessing, for the current schema. */
  guarded: () => ReadonlySet<string>;
}

const DEVICE_ID = /^[A-Za-z0-9_.:-]{8,128}$/;

function refuse(
  res: Response,
  status: number,
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

function jsonParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * Which root fields are guarded against guessing: those taking a String argument named like a secret
 * (a voucher code, a token, a PIN), directly or as a field of an input object, plus any listed in config.
 * Derived from the schema, so a subgraph adding `redeemVoucher(code: …)` is guarded without a config change.
 */
export function guardedRootFields(schema: GraphQLSchema, argNames: string[], extra: string[]): Set<string> {
  const names = new Set(argNames);
  const out = new Set(extra);
  const roots = [schema.getQueryType(), schema.getMutationType()].filter(Boolean) as GraphQLObjectType[];
  // Secrets are strings: `region(code: ID!)` names a thing, `redeemVoucher(code: String!)` proves one.
  const secret = (name: string, type: Parameters<typeof getNamedType>[0]) =>
    names.has(name) && getNamedType(type)?.name === 'String';
  const takesSecret = (f: GraphQLField<unknown, unknown>) =>
    f.args.some((a) => {
      if (secret(a.name, a.type)) return true;
      const t = getNamedType(a.type);
      return isInputObjectType(t) && Object.values(t.getFields()).some((i) => secret(i.name, i.type));
    });
  for (const root of roots) {
    for (const f of Object.values(root.getFields())) if (takesSecret(f)) out.add(`${root.name}.${f.name}`);
  }
  return out;
}

/**
 * Everything between the HTTP request and Apollo, cheapest first: batching refused; the caller
 * authenticated; the principal's rate limit; the operation resolved against the trusted list (by id
 * or exact text) and refused if unregistered in production; parsed once under the limits; then the
 * per-operation and guessing limits. Each refusal costs no planning and no subgraph call.
 */
export function createPipeline(d: PipelineDeps): RequestHandler[] {
  const { config } = d;
  const limits: Limits = {
    maxTokens: config.MAX_TOKENS,
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxRootFields: config.MAX_ROOT_FIELDS,
    maxFields: config.MAX_FIELDS,
    maxCost: config.MAX_COST,
    defaultListSize: config.COST_DEFAULT_LIST_SIZE,
  };
  const enforce = config.TRUSTED_OPERATIONS === 'enforce';
  const reject = (res: Response, reason: string) => {
    facts(res).rejected = reason;
    d.metrics.rejections.inc({ reason });
  };

  const start: RequestHandler = (_req, res, next) => {
    res.locals.facts ??= { caller: ANONYMOUS, operationLabel: 'unknown' } satisfies RequestFacts;
    next();
  };

  const noBatching: RequestHandler = (req, res, next) => {
    if (Array.isArray(req.body)) {
      reject(res, 'batching');
      return refuse(
        res,
        400,
        'BATCHING_NOT_SUPPORTED',
        'Batched requests are not accepted; send one operation',
      );
    }
    next();
  };

  const address = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const device = (req: Request) => {
    const id = req.header('x-device-id');
    return id && DEVICE_ID.test(id) ? id : undefined;
  };

  const authenticate: RequestHandler = async (req, res, next) => {
    const auth = req.header('authorization');
    if (!auth) return next();
    const token = /^Bearer ([A-Za-z0-9_.-]{10,4096})$/.exec(auth)?.[1];
    // A token verified moments ago needs neither the signature check nor the failure counters.
    const known = token ? d.tokens?.cached(token) : undefined;
    if (known) {
      facts(res).caller = known;
      return next();
    }
    // Token guessing: failures are counted per address and device; past the limit, stop verifying.
    const failRules: Rule[] = [];
    if (config.RATE_LIMIT_GUARDED_PER_ADDRESS)
      failRules.push({
        name: 'auth-fail-address',
        limit: config.RATE_LIMIT_GUARDED_PER_ADDRESS,
        subject: address(req),
      });
    const dev = device(req);
    if (dev && config.RATE_LIMIT_GUARDED)
      failRules.push({ name: 'auth-fail-device', limit: config.RATE_LIMIT_GUARDED, subject: dev });
    const over = await d.limiter.peek(failRules);
    if (over) {
      reject(res, 'rate-limit');
      res.setHeader('retry-after', String(over.retryAfterS));
      return refuse(res, 429, 'RATE_LIMITED', 'Too many failed sign-in attempts; wait before retrying', {
        retryAfter: over.retryAfterS,
      });
    }
    try {
      if (!token || !d.tokens) throw new Error('unusable token');
      facts(res).caller = await d.tokens.verify(token);
      next();
    } catch {
      await d.limiter.check(failRules);
      reject(res, 'unauthenticated');
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      refuse(res, 401, 'UNAUTHENTICATED', 'Invalid or expired access token');
    }
  };

  const principal = (req: Request, res: Response) => {
    const caller = facts(res).caller;
    return caller.id ? `${caller.kind}:${caller.id}` : `addr:${address(req)}`;
  };

  const principalLimit: RequestHandler = async (req, res, next) => {
    if (!config.RATE_LIMIT_PRINCIPAL) return next();
    const verdict = await d.limiter.check([
      { name: 'principal', limit: config.RATE_LIMIT_PRINCIPAL, subject: principal(req, res) },
    ]);
    if (!verdict.allowed) return rateLimited(res, verdict.rule!, verdict.retryAfterS!);
    next();
  };

  const rateLimited = (res: Response, rule: string, retryAfterS: number) => {
    reject(res, 'rate-limit');
    res.setHeader('retry-after', String(retryAfterS));
    refuse(res, 429, 'RATE_LIMITED', 'Too many requests; retry later', { retryAfter: retryAfterS, rule });
  };

  const resolveOperation: RequestHandler = (req, res, next) => {
    const get = req.method === 'GET';
    const params: GraphQLParams = get ? (req.query as GraphQLParams) : ((req.body ?? {}) as GraphQLParams);
    const extensions = jsonParam(params.extensions) as
      { persistedQuery?: { sha256Hash?: unknown } } | undefined;
    const id =
      typeof params.documentId === 'string'
        ? params.documentId
        : typeof extensions?.persistedQuery?.sha256Hash === 'string'
          ? extensions.persistedQuery.sha256Hash
          : undefined;
    let registered: RegisteredOperation | undefined;
    if (id !== undefined) {
      registered = d.registry.byId(id);
      if (!registered) {
        reject(res, 'unknown-operation-id');
        return refuse(res, 400, 'PERSISTED_QUERY_NOT_FOUND', 'No registered operation has this id');
      }
    } else if (typeof params.query === 'string') {
      registered = d.registry.byBody(params.query);
    }
    // Apollo does no APQ here: hand it the registered text and drop the id.
    if (registered) {
      if (get) {
        const url = new URL(req.url, 'http://gateway');
        url.searchParams.set('query', registered.body);
        url.searchParams.delete('documentId');
        url.searchParams.delete('extensions');
        req.url = `${url.pathname}${url.search}`;
      } else {
        const body = req.body as Record<string, unknown>;
        body.query = registered.body;
        delete body.documentId;
        if (body.extensions && typeof body.extensions === 'object') {
          const { persistedQuery: _drop, ...rest } = body.extensions as Record<string, unknown>;
          body.extensions = rest;
        }
      }
      facts(res).registered = registered;
      facts(res).operationLabel = registered.name;
    } else if (enforce && (typeof params.query === 'string' || req.method === 'POST')) {
      reject(res, 'unregistered-operation');
      return refuse(res, 400, 'OPERATION_NOT_REGISTERED', 'Only registered operations are accepted');
    } else {
      facts(res).operationLabel = 'unregistered';
    }
    next();
  };

  const parsedRegistered = new Map<string, DocumentNode>();
  const operationLimits: RequestHandler = (req, res, next) => {
    const get = req.method === 'GET';
    const params: GraphQLParams = get
      ? (Object.fromEntries(new URL(req.url, 'http://gateway').searchParams) as GraphQLParams)
      : ((req.body ?? {}) as GraphQLParams);
    if (typeof params.query !== 'string') return next(); // Apollo answers a request without a query.
    const variables = (jsonParam(params.variables) ?? {}) as Record<string, unknown>;
    try {
      // A registered operation's text is fixed: parsed once, then reused (its limits still run below,
      // since the cost depends on the variables).
      const registered = facts(res).registered;
      let doc = registered ? parsedRegistered.get(registered.id) : undefined;
      if (!doc) {
        doc = parseLimited(params.query, limits.maxTokens);
        if (registered) parsedRegistered.set(registered.id, doc);
      }
      const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
      const shape = measureOperation(doc, operationName, variables, limits, d.schema());
      // Several operations and no (matching) operationName: a client error, answered before planning.
      if (!shape && doc.definitions.some((d) => d.kind === 'OperationDefinition')) {
        reject(res, 'operation-name');
        return refuse(
          res,
          400,
          'GRAPHQL_VALIDATION_FAILED',
          "Name one of the document's operations in operationName",
        );
      }
      // The graph has no Subscription root; say so as a client error rather than failing in the planner.
      if (shape?.type === 'subscription' && !d.schema()?.getSubscriptionType()) {
        reject(res, 'subscription');
        return refuse(res, 400, 'GRAPHQL_VALIDATION_FAILED', 'This graph does not support subscriptions');
      }
      if (shape) {
        facts(res).shape = shape;
        facts(res).operationType = shape.type;
      }
      next();
    } catch (err) {
      if (err instanceof LimitExceeded) {
        reject(res, `limit-${err.limit}`);
        return refuse(res, 400, 'OPERATION_LIMIT_EXCEEDED', err.message, { limit: err.limit, max: err.max });
      }
      if (err instanceof GraphQLError) {
        reject(res, 'parse');
        return refuse(res, 400, 'GRAPHQL_PARSE_FAILED', err.message);
      }
      next(err);
    }
  };

  const operationRateLimits: RequestHandler = async (req, res, next) => {
    const f = facts(res);
    const rules: Rule[] = [];
    const who = principal(req, res);
    if (config.RATE_LIMIT_OPERATION && f.shape) {
      const op = f.registered?.id ?? f.shape.name ?? 'anonymous';
      rules.push({ name: 'operation', limit: config.RATE_LIMIT_OPERATION, subject: `${who}|${op}` });
    }
    const guarded = d.guarded();
    for (const field of f.shape?.rootFields ?? []) {
      if (!guarded.has(field)) continue;
      // Guessing: counted per account, per device and per address, each on its own.
      if (config.RATE_LIMIT_GUARDED) {
        if (f.caller.id)
          rules.push({
            name: `guarded-account:${field}`,
            limit: config.RATE_LIMIT_GUARDED,
            subject: `${f.caller.id}|${field}`,
            failClosed: true,
          });
        const dev = device(req);
        if (dev)
          rules.push({
            name: `guarded-device:${field}`,
            limit: config.RATE_LIMIT_GUARDED,
            subject: `${dev}|${field}`,
            failClosed: true,
          });
      }
      if (config.RATE_LIMIT_GUARDED_PER_ADDRESS)
        rules.push({
          name: `guarded-address:${field}`,
          limit: config.RATE_LIMIT_GUARDED_PER_ADDRESS,
          subject: `${address(req)}|${field}`,
          failClosed: true,
        });
    }
    if (rules.length === 0) return next();
    const verdict = await d.limiter.check(rules);
    if (verdict.unavailable) {
      reject(res, 'rate-limit-unavailable');
      return refuse(res, 503, 'UNAVAILABLE', 'Temporarily unavailable; retry shortly', { retryable: true });
    }
    if (!verdict.allowed) return rateLimited(res, verdict.rule!, verdict.retryAfterS!);
    next();
  };

  const wrap =
    (h: RequestHandler): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      Promise.resolve(h(req, res, next)).catch(next);
    };

  return [
    start,
    noBatching,
    authenticate,
    principalLimit,
    resolveOperation,
    operationLimits,
    operationRateLimits,
  ].map(wrap);
}
