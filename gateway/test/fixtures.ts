/**
 * A small graph of our own for the gateway's tests, independent of the real subgraphs (which other
 * teams change): two fixture subgraphs served by the kit's subgraph server (so the gateway-signed
 * caller check and the kit's authorization plugin are the real ones), composed in the test with
 * @apollo/composition; an in-process JWKS endpoint whose keys can rotate; a log sink.
 */
import { composeServices } from '@apollo/composition';
import {
  Health,
  createLogger,
  createSubgraphServer,
  generateSigningKey,
  loadConfig,
  TokenIssuer,
  type Caller,
  type Logger,
  type SigningKey,
  type SubgraphServer,
} from '@vtv/kit';
import type { Cache } from '@vtv/cache';
import { parse } from 'graphql';
import type { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../src/app';
import { gatewayConfig } from '../src/config';
import { sha256, type RegisteredOperation } from '../src/operations';

export const SECRET = 'fixture-internal-secret-0123456789-abcdef';

/** Every rate limit off: for tests about something else that send many requests from one address. */
export const NO_RATE_LIMITS = {
  RATE_LIMIT_PRINCIPAL: '0',
  RATE_LIMIT_OPERATION: '0',
  RATE_LIMIT_GUARDED: '0',
  RATE_LIMIT_GUARDED_PER_ADDRESS: '0',
};

export const ACCOUNTS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",
  import: ["@key", "@shareable", "@authenticated", "@requiresScopes"])

type Query {
  hello: String
  "Only for signed-in callers."
  secret: String @authenticated
  "Staff, or anyone holding things:read."
  thing(id: ID!): Thing @requiresScopes(scopes: [["things:read"], ["kind:staff"]])
  things(first: Int): [Thing!]!
  boom: String
  node(id: ID!): Thing
  "Answers after ms milliseconds (at most 2 000): lets tests hold a request in flight."
  slow(ms: Int!): String
}

type Mutation {
  "Redeems a voucher by its code: guarded against guessing (its argument is named code)."
  redeemVoucher(code: String!): RedeemPayload!
}

type RedeemPayload {
  ok: Boolean!
}

type Thing @key(fields: "id") {
  id: ID!
  name: String
  children(first: Int): [Thing!]!
  parent: Thing
  "Its owner's note: only for owners (the scope things:owner)."
  note: String @requiresScopes(scopes: [["things:owner"]])
}
`;

export const EXTRAS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@authenticated"])

type Query {
  "From the second subgraph: null and an error when it is down."
  weather: String
}

type Thing @key(fields: "id") {
  id: ID!
  "Resolved by the second subgraph, signed-in callers only."
  rating: Int @authenticated
}
`;

export interface SeenRequest {
  headers: IncomingHttpHeaders;
  remotePort?: number;
}

export interface FixtureSubgraph {
  server: SubgraphServer;
  url: string;
  seen: SeenRequest[];
  callers: Caller[];
  stop(): Promise<void>;
}

const thing = (id: string) => ({ id, name: `thing ${id}` });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startSubgraph(
  name: string,
  sdl: string,
  resolvers: Record<string, Record<string, unknown>>,
  logger: Logger,
): Promise<FixtureSubgraph> {
  const seen: SeenRequest[] = [];
  const callers: Caller[] = [];
  const server = await createSubgraphServer({
    name,
    typeDefs: parse(sdl),
    resolvers: resolvers as never,
    logger,
    health: new Health(),
    internalAuthSecret: SECRET,
    context: { callers },
    routes: (app) =>
      app.use('/graphql', (req, _res, next) => {
        seen.push({ headers: { ...req.headers }, remotePort: req.socket.remotePort });
        next();
      }),
  });
  const port = await listen(server.httpServer);
  return {
    server,
    url: `http://127.0.0.1:${port}/graphql`,
    seen,
    callers,
    stop: async () => {
      await server.apollo.stop();
    },
  };
}

export async function startAccounts(logger: Logger): Promise<FixtureSubgraph> {
  return startSubgraph(
    'accounts',
    ACCOUNTS_SDL,
    {
      Query: {
        hello: () => 'world',
        secret: () => 'the secret',
        thing: (_: unknown, { id }: { id: string }) => thing(id),
        things: (_: unknown, { first }: { first?: number }) =>
          Array.from({ length: Math.min(first ?? 3, 50) }, (_v, i) => thing(String(i))),
        node: (_: unknown, { id }: { id: string }) => thing(id),
        slow: async (_: unknown, { ms }: { ms: number }) => {
          await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2_000)));
          return `slept ${ms} ms`;
        },
        boom: () => {
          throw new Error('database exploded at 10.0.0.7 for 13800138000');
        },
      },
      Mutation: {
        redeemVoucher: (
          _: unknown,
          { code }: { code: string },
          ctx: { callers: Caller[]; caller: Caller },
        ) => {
          ctx.callers.push(ctx.caller);
          return { ok: code === 'VALID-CODE-0001' };
        },
      },
      Thing: {
        __resolveReference: (ref: { id: string }) => thing(ref.id),
        children: (t: { id: string }, { first }: { first?: number }) =>
          Array.from({ length: Math.min(first ?? 2, 50) }, (_v, i) => thing(`${t.id}.${i}`)),
        note: () => 'owner only',
        parent: (t: { id: string }) => thing(`${t.id}^`),
      },
    },
    logger,
  );
}

export async function startExtras(logger: Logger): Promise<FixtureSubgraph> {
  return startSubgraph(
    'extras',
    EXTRAS_SDL,
    {
      Query: { weather: () => 'sunny' },
      Thing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, rating: 5 }) },
    },
    logger,
  );
}

/** Composes the two fixture subgraphs into a supergraph file; returns its path. */
export function composeFixture(urls: { accounts: string; extras: string }, dir = tempDir()): string {
  const result = composeServices([
    { name: 'accounts', url: urls.accounts, typeDefs: parse(ACCOUNTS_SDL) },
    { name: 'extras', url: urls.extras, typeDefs: parse(EXTRAS_SDL) },
  ]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, result.supergraphSdl);
  return path;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vtv-gateway-'));
}

/** Writes a manifest of the given named operations; returns its path and entries. */
export function writeManifest(
  operations: Record<string, string>,
  dir = tempDir(),
): { path: string; ops: Record<string, RegisteredOperation> } {
  const ops: Record<string, RegisteredOperation> = {};
  for (const [name, body] of Object.entries(operations)) {
    const type = body.trimStart().startsWith('mutation') ? 'mutation' : 'query';
    ops[name] = { id: sha256(body), name, type, body };
  }
  const path = join(dir, 'manifest.json');
  writeFileSync(
    path,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: Object.values(ops) }),
  );
  return { path, ops };
}

/** A JWKS endpoint serving whichever keys the test sets, counting fetches. */
export class JwksServer {
  readonly server: Server;
  keys: SigningKey[] = [];
  fetches = 0;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      this.fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
  }

  async start(): Promise<this> {
    const port = await listen(this.server);
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export async function newKey(kid?: string): Promise<SigningKey> {
  // generateSigningKey types its kid as a UUID; fixtures use readable ids.
  return kid ? generateSigningKey(kid as ReturnType<typeof randomUUID>) : generateSigningKey();
}

export function issuer(key: SigningKey): TokenIssuer {
  return new TokenIssuer([key], 600);
}

/** A logger whose lines the test can read back. */
export function captureLogger(service = 'gateway'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
} {
  const raw: string[] = [];
  const logger = createLogger(service, 'info', { write: (line: string) => void raw.push(line) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export interface FixtureGatewayOptions {
  supergraphPath: string;
  jwksUrl: string;
  env?: Record<string, string>;
  logger?: Logger;
  cache?: Cache;
}

export async function startFixtureGateway(
  o: FixtureGatewayOptions,
): Promise<{ gateway: Gateway; url: string }> {
  const config = loadConfig(gatewayConfig, {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    SUPERGRAPH_PATH: o.supergraphPath,
    INTERNAL_AUTH_SECRET: SECRET,
    JWKS_URL: o.jwksUrl,
    OPERATION_MANIFESTS: join(tempDir(), 'none.json'),
    READINESS_CHECKS_SUBGRAPHS: 'true',
    ...o.env,
  });
  const gateway = await createGateway({
    config,
    logger: o.logger ?? createLogger('gateway', 'silent'),
    ...(o.cache ? { cache: o.cache } : {}),
  });
  const url = await gateway.listen();
  return { gateway, url };
}
