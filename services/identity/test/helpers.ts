/**
 * Shared by identity's integration tests: a service on a throwaway database (real PostgreSQL and Redis),
 * a GraphQL client that signs callers the way the gateway does, and synthetic personal data (valid ID
 * numbers made with the check-digit algorithm; never anyone's real data).
 */
import { idNumberCheckChar, jose, signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import { createTestDatabase, infraEnv, type TestDatabase } from '@vtv/testing';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { IdentityConfig } from '../src/config';
import { identity, type IdentityServices } from '../src/service';

export const SECRET = 'identity-test-secret-0123456789abcdef';

export type Identity = RunningService<IdentityServices, IdentityConfig>;

export interface Harness {
  running: Identity;
  db: TestDatabase;
  /** The environment the service started with (same keys, same database): for a second replica. */
  env: NodeJS.ProcessEnv;
  gql<T = Record<string, unknown>>(
    caller: Caller | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data: T; errors?: { message: string; extensions: Record<string, unknown> }[] }>;
  stop(): Promise<void>;
}

export const key32 = () => randomBytes(32).toString('base64');

/** Starts identity on a fresh database with real Redis (and the in-process bus). */
export async function startIdentity(
  extraEnv: Record<string, string> = {},
  prefix = 'identity',
): Promise<Harness> {
  const db = await createTestDatabase(prefix);
  const { KAFKA_BROKERS: _k, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL: infraEnv().REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    INTERNAL_AUTH_SECRET: SECRET,
    LOG_LEVEL: 'error',
    PIN_SCRYPT_COST: '4096',
    PII_ENCRYPTION_KEYS: JSON.stringify([{ id: 'k1', key: key32() }]),
    PII_BLIND_INDEX_KEY: key32(),
    ...extraEnv,
  };
  let running: Identity;
  try {
    running = (await startService(identity, { env })) as Identity;
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    running,
    db,
    env,
    async gql(caller, query, variables = {}) {
      const req = request(running.app)
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('apollo-require-preflight', 'true')
        .set('x-vtv-caller', signCaller(caller ?? { kind: 'anonymous', permissions: [] }, SECRET));
      const res = await req.send({ query, variables });
      if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
      return res.body;
    },
    async stop() {
      await running.stop('test done');
      await db.drop();
    },
  };
}

const PROVINCE_PREFIXES = ['11', '31', '41', '42', '44', '51', '65'];

/** A synthetic, valid 18-character ID number (random address, birth date and sequence). */
export function syntheticIdNumber(o: { address?: string; birth?: string } = {}): string {
  const address =
    o.address ??
    `${PROVINCE_PREFIXES[randomInt(PROVINCE_PREFIXES.length)]}${String(randomInt(100, 9999)).padStart(4, '0')}`;
  const birth =
    o.birth ??
    `${randomInt(1960, 2004)}${String(randomInt(1, 13)).padStart(2, '0')}${String(randomInt(1, 29)).padStart(2, '0')}`;
  const first17 = `${address}${birth}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

/** A synthetic mobile number in the 199 block. */
export function syntheticPhone(): string {
  return `199${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

export const staff = (regionCode: string, permissions: string[], id = uuidv7()): Caller => ({
  kind: 'staff',
  id,
  regionCode,
  permissions,
});

export const person = (id: string): Caller => ({ kind: 'person', id, permissions: [] });

export const ISSUE = `mutation ($input: IssueCardInput!) {
  issueCard(input: $input) {
    person { id maskedName maskedIdNumber maskedPhone birthYear region { code } card { status channel } }
    errors { code message field }
  }
}`;

export interface IssuedPerson {
  id: string;
  idNumber: string;
  phone: string;
  name: string;
}

/** Issues an e-SSC (self-service) with a PIN and returns the synthetic data used. */
export async function issuePerson(
  h: Harness,
  o: { regionCode?: string; name?: string; pin?: string; idNumber?: string } = {},
): Promise<IssuedPerson> {
  const idNumber = o.idNumber ?? syntheticIdNumber();
  const phone = syntheticPhone();
  const name = o.name ?? '测试人员';
  const res = await h.gql<{ issueCard: { person: { id: string }; errors: unknown[] } }>(null, ISSUE, {
    input: { name, idNumber, phone, regionCode: o.regionCode ?? '420102', pin: o.pin ?? '482915' },
  });
  if (res.data.issueCard.errors.length)
    throw new Error(`issueCard failed: ${JSON.stringify(res.data.issueCard.errors)}`);
  return { id: res.data.issueCard.person.id, idNumber, phone, name };
}

/** A tiny face-verification provider: a real HTTP JWKS endpoint and a signer for its assertions. */
export interface FakeFaceProvider {
  jwksUrl: string;
  issuer: string;
  sign(
    claims: Record<string, unknown>,
    o?: { key?: 'provider' | 'impostor'; exp?: string | number; iat?: number },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startFaceProvider(issuer = 'https://face.example.test'): Promise<FakeFaceProvider> {
  const kid = 'face-key-1';
  const provider = await jose.generateKeyPair('ES256', { extractable: true });
  const impostor = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(provider.publicKey)), kid, alg: 'ES256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer,
    async sign(claims, o = {}) {
      const jwt = new jose.SignJWT({ iss: issuer, aud: 'vtv-identity', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuedAt(o.iat)
        .setExpirationTime(o.exp ?? '2m');
      return jwt.sign(o.key === 'impostor' ? impostor.privateKey : provider.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
