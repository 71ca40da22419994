/**
 * The gateway in production mode over the real platform (real PostgreSQL, Kafka, Redis): only the
 * registered operations of schema/operations run (by id or exact text), introspection is refused,
 * one holder cannot read another's vouchers or person, staff outside the region see nothing, and the
 * subgraphs refuse calls that bypass the gateway.
 */
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName } from '@vtv/testing';
import { signCaller, uuidv7, type TokenIssuer } from '@vtv/kit';
import type { Stack } from '../scripts/lib/stack';
import { startTestStack } from './support/stack';

jest.setTimeout(120_000);

let stack: Stack;
let tokens: TokenIssuer;
const namespace = uniqueName('gwe2e');
const manifest = JSON.parse(
  readFileSync(join(__dirname, '..', 'schema', 'operations', 'manifest.json'), 'utf8'),
) as {
  operations: { id: string; name: string; body: string }[];
};
const op = (name: string) => manifest.operations.find((o) => o.name === name)!;

beforeAll(async () => {
  stack = await startTestStack(namespace, {
    gatewayEnv: { NODE_ENV: 'production' },
  });
  tokens = (stack.services.identity!.services as { tokens: TokenIssuer }).tokens;
});

afterAll(async () => {
  await stack?.stop();
});

function send(body: Record<string, unknown>, token?: string) {
  const req = request(stack.gateway.app).post('/graphql').set('content-type', 'application/json');
  if (token) req.set('authorization', `Bearer ${token}`);
  return req.send(body);
}
const byId = (name: string, variables: Record<string, unknown> = {}, token?: string) =>
  send({ documentId: `sha256:${op(name).id}`, variables }, token);

test('registered operations run by id or by exact text; anything else is refused', async () => {
  const provinces = await byId('Regions').expect(200);
  expect(provinces.body.data.regions.length).toBeGreaterThan(0);
  const sameByText = await send({ query: op('Regions').body }).expect(200);
  expect(sameByText.body.data).toEqual(provinces.body.data);

  const adHoc = await send({ query: '{ regions { code name } }' }).expect(400);
  expect(adHoc.body.errors[0].extensions.code).toBe('OPERATION_NOT_REGISTERED');
  const introspection = await send({ query: '{ __schema { queryType { name } } }' }).expect(400);
  expect(introspection.body.errors[0].extensions.code).toBe('OPERATION_NOT_REGISTERED');
  await request(stack.gateway.app).get('/graphiql').expect(404);
});

test('the query plans of the registered operations are cached before the first request', async () => {
  await stack.gateway.warmed();
  expect(await stack.gateway.planCached('TrainingClass')).toBe(true);
  expect(await stack.gateway.planCached('Me')).toBe(true);
});

test('a holder cannot read another holder’s voucher or person; staff outside the region neither', async () => {
  const holder = uuidv7();
  const voucherId = uuidv7();
  await stack.services.vouchers!.deps.ds.query(
    `INSERT INTO vouchers (id, holder_person_id, region_code, state, face_value_fen, kind, training_type, valid_until)
     VALUES ($1, $2, '420102', 'HELD', 80000, 'DIRECTED', '岗位技能提升培训', now() + interval '1 year')`,
    [voucherId, holder],
  );
  const own = await tokens.issue({ kind: 'person', id: holder, permissions: [] });
  const mine = await byId('Voucher', { id: voucherId }, own).expect(200);
  expect(mine.body.data.voucher).toMatchObject({ id: voucherId, state: 'HELD', faceValueFen: 80000 });

  const other = await tokens.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  const theirs = await byId('Voucher', { id: voucherId }, other).expect(200);
  expect(theirs.body.data.voucher).toBeNull();
  const person = await byId('Person', { id: holder }, other).expect(200);
  expect(person.body.data.person).toBeNull();
  // "Not yours" looks exactly like "does not exist".
  const missing = await byId('Voucher', { id: uuidv7() }, other).expect(200);
  expect(missing.body).toEqual(theirs.body);

  const elsewhere = await tokens.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '410400',
    permissions: ['vouchers:read', 'person:read'],
  });
  expect((await byId('Voucher', { id: voucherId }, elsewhere).expect(200)).body.data.voucher).toBeNull();
  expect((await byId('Person', { id: holder }, elsewhere).expect(200)).body.data.person).toBeNull();
});

test('subgraphs refuse requests that did not come through the gateway', async () => {
  for (const name of ['identity', 'vouchers', 'training', 'settlement', 'careers']) {
    const app = stack.services[name]!.app;
    const bare = await request(app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .send({ query: '{ __typename }' });
    expect(bare.status).toBe(401);
    const forged = signCaller(
      { kind: 'staff', id: uuidv7(), regionCode: '420000', permissions: ['vouchers:read'] },
      'not-the-gateway-secret-0123456789-abcdef',
    );
    const res = await request(app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('x-vtv-caller', forged)
      .send({ query: '{ __typename }' });
    expect(res.status).toBe(401);
  }
});
