/**
 * Key rotation against real PostgreSQL: personal-data keys (old ciphertexts still decrypt, new writes use
 * the newest key, the re-encrypt path moves everything forward so old keys can retire) and token signing
 * keys (the JWKS publishes every key still valid; tokens carry the newest kid).
 */
import { TokenIssuer, TokenVerifier, generateSigningKey, signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService } from '@vtv/runtime';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { identity } from '../src/service';
import {
  SECRET,
  issuePerson,
  key32,
  person,
  staff,
  startIdentity,
  syntheticIdNumber,
  type Harness,
  type Identity,
} from './helpers';

const OLD_KID = randomUUID();
const NEW_KID = randomUUID();
const k1 = { id: 'k1', key: key32() };
const k2 = { id: 'k2', key: key32() };

let h: Harness;
const replicas: Identity[] = [];

/** Another instance on the same database with different keys (as after a configuration change). */
async function restartWith(keys: { id: string; key: string }[], logLevel = 'error'): Promise<Identity> {
  const running = (await startService(identity, {
    env: { ...h.env, PII_ENCRYPTION_KEYS: JSON.stringify(keys), LOG_LEVEL: logLevel },
  })) as Identity;
  replicas.push(running);
  return running;
}

async function gqlOn(running: Identity, caller: Caller, query: string, variables = {}) {
  const res = await request(running.app)
    .post('/graphql')
    .set('content-type', 'application/json')
    .set('apollo-require-preflight', 'true')
    .set('x-vtv-caller', signCaller(caller, SECRET))
    .send({ query, variables });
  return res.body;
}

const keyIds = async (running: Identity) => {
  const rows: { k: string; n: number }[] = await running.deps.ds.query(
    `SELECT pii_key_id AS k, count(*)::int AS n FROM (
       SELECT pii_key_id FROM people UNION ALL SELECT pii_key_id FROM staff_users) t GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.n]));
};

beforeAll(async () => {
  const oldSigning = await generateSigningKey(OLD_KID);
  h = await startIdentity(
    {
      PII_ENCRYPTION_KEYS: JSON.stringify([k1]),
      TOKEN_SIGNING_KEYS: JSON.stringify([oldSigning.privateJwk]),
      BOOTSTRAP_ADMIN_ID_NUMBER: syntheticIdNumber(),
      BOOTSTRAP_ADMIN_NAME: '密钥管理员',
      BOOTSTRAP_ADMIN_REGION_CODE: '420000',
    },
    'identity_keys',
  );
});

afterAll(async () => {
  for (const r of replicas) await r.stop('test done').catch(() => undefined);
  await h?.stop();
});

const ME = `{ me { id maskedName maskedIdNumber } }`;
const REENCRYPT = `mutation ($n: Int) { reencryptPersonalData(batchSize: $n) { reencrypted remaining keyId errors { code } } }`;

test('personal-data keys rotate: old data stays readable, new data uses the newest key, re-encryption retires the old one', async () => {
  const a = await issuePerson(h, { name: '张三' });
  const b = await issuePerson(h, { name: '李四' });
  expect(await keyIds(h.running)).toEqual({ k1: 3 });

  // Rotation: k2 in front; k1 still configured for decryption.
  const rotated = await restartWith([k2, k1]);
  const readOld = await gqlOn(rotated, person(a.id), ME);
  expect(readOld.data.me).toMatchObject({
    id: a.id,
    maskedName: '张*',
    maskedIdNumber: `${a.idNumber.slice(0, 4)}**********${a.idNumber.slice(14)}`,
  });
  const lookup = await gqlOn(
    rotated,
    staff('420000', ['person:read']),
    `query ($n: String!) { personByIdNumber(idNumber: $n) { id } }`,
    {
      n: b.idNumber,
    },
  );
  expect(lookup.data.personByIdNumber).toEqual({ id: b.id });
  const c = await issuePerson({
    ...h,
    gql: (caller, q, v) => gqlOn(rotated, caller ?? { kind: 'anonymous', permissions: [] }, q, v),
  });
  const [cRow] = await rotated.deps.ds.query('SELECT pii_key_id, id_number_enc FROM people WHERE id = $1', [
    c.id,
  ]);
  expect(cRow.pii_key_id).toBe('k2');
  expect(Buffer.from(cRow.id_number_enc).subarray(2, 4).toString()).toBe('k2');
  expect(await keyIds(rotated)).toEqual({ k1: 3, k2: 1 });

  // The re-encrypt path, in batches, by a holder of admin:keys:rotate only.
  const denied = await gqlOn(rotated, staff('420000', ['person:read']), REENCRYPT, { n: 1 });
  expect(denied.data.reencryptPersonalData.errors).toEqual([{ code: 'FORBIDDEN' }]);
  const rotator = staff('420000', ['admin:keys:rotate']);
  const first = await gqlOn(rotated, rotator, REENCRYPT, { n: 1 });
  expect(first.data.reencryptPersonalData).toEqual({ reencrypted: 1, remaining: 2, keyId: 'k2', errors: [] });
  const rest = await gqlOn(rotated, rotator, REENCRYPT, { n: 100 });
  expect(rest.data.reencryptPersonalData).toEqual({ reencrypted: 2, remaining: 0, keyId: 'k2', errors: [] });
  expect(await keyIds(rotated)).toEqual({ k2: 4 });
  const [audit] = await rotated.deps.ds.query(
    `SELECT details FROM audit_log WHERE action = 'PERSONAL_DATA_REENCRYPTED' ORDER BY id DESC LIMIT 1`,
  );
  expect(audit.details).toMatchObject({ keyId: 'k2', reencrypted: 2, remaining: 0 });

  // k1 retired: everything still reads (people and staff).
  const retired = await restartWith([k2]);
  for (const p of [a, b, c]) {
    expect((await gqlOn(retired, person(p.id), ME)).data.me.id).toBe(p.id);
  }
  const staffList = await gqlOn(
    retired,
    staff('420000', ['admin:users:read']),
    `{ staffUsers(first: 5) { edges { node { maskedName } } } }`,
  );
  expect(staffList.data.staffUsers.edges).toEqual([{ node: { maskedName: '密****' } }]);
});

test('data under a key that is no longer configured fails closed, masked, without a 5xx', async () => {
  const someone = await issuePerson(h);
  // The masked error is logged with its correlation id; silenced here as it is the expected outcome.
  const withoutK1 = await restartWith([k2], 'silent');
  await h.running.deps.ds.query(`UPDATE people SET pii_key_id = 'k1' WHERE id = $1`, [someone.id]);
  const res = await gqlOn(withoutK1, person(someone.id), ME);
  expect(res.errors[0].extensions).toMatchObject({
    code: 'INTERNAL_SERVER_ERROR',
    correlationId: expect.any(String),
  });
  expect(JSON.stringify(res)).not.toContain('k1');
});

test('token signing keys rotate: the JWKS publishes old and new, tokens carry the newest kid', async () => {
  const oldKey = await generateSigningKey(OLD_KID);
  const newKey = await generateSigningKey(NEW_KID);
  const running = (await startService(identity, {
    env: {
      ...h.env,
      TOKEN_SIGNING_KEYS: JSON.stringify([newKey.privateJwk, oldKey.privateJwk]),
    },
  })) as Identity;
  replicas.push(running);
  const jwksUrl = new URL('/.well-known/jwks.json', running.url).toString();
  const jwks = (await (await fetch(jwksUrl)).json()) as { keys: { kid: string; d?: string }[] };
  expect(jwks.keys.map((k) => k.kid)).toEqual([NEW_KID, OLD_KID]);
  expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);

  const issued = await running.services.tokens.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  expect(JSON.parse(Buffer.from(issued.split('.')[0]!, 'base64url').toString()).kid).toBe(NEW_KID);
  const verifier = new TokenVerifier({ jwksUrl });
  const fromOldKey = await new TokenIssuer([oldKey]).issue({ kind: 'person', id: uuidv7(), permissions: [] });
  await expect(verifier.verify(fromOldKey)).resolves.toMatchObject({ kind: 'person' });
  const fromUnknownKey = await new TokenIssuer([await generateSigningKey()]).issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420000',
    permissions: ['admin:users:write'],
  });
  await expect(verifier.verify(fromUnknownKey)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});
