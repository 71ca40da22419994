/**
 * TESTING.md, Bad input: amounts. A face value must be a positive whole number of fen within range:
 * negative, zero, fractional and overflowing amounts are refused with a typed error (a payload error with
 * the field, or BAD_USER_INPUT at validation), never a 5xx, and nothing is stored. (Settlement's Fen
 * inputs are covered in services/settlement/test/workflow.int.spec.ts.)
 */
import { WUHAN, count, startWorld, type World } from './vouchers-world';

jest.setTimeout(120_000);

let w: World;
beforeAll(async () => {
  w = await startWorld('relamount', { LOG_LEVEL: 'error' });
});
afterAll(async () => {
  await w?.stop();
});

const CREATE = `mutation($i: CreateVoucherTemplateInput!) { createVoucherTemplate(input: $i) {
  template { id faceValueFen } errors { code field message } } }`;
const input = (faceValueFen: unknown, quantity: unknown = 10) => ({
  name: '金额校验券',
  trainingType: '岗位技能提升培训',
  faceValueFen,
  quantity,
  claimEndsAt: new Date(Date.now() + 3600_000).toISOString(),
  validityType: 'DAYS_AFTER_CLAIM',
  validDays: 30,
});

test.each([
  ['negative', -100],
  ['zero', 0],
  ['fractional fen', 1.5],
  ['overflowing Int', 2 ** 31],
  ['beyond a safe integer', 2 ** 53 + 2],
  ['a numeric string', '100'],
  ['exponent notation', 1e21],
])('face value %s is refused with a typed error and nothing stored', async (_what, amount) => {
  const before = await count(w.h, 'SELECT count(*)::int AS n FROM voucher_templates');
  const res = await w.h.gql(WUHAN, CREATE, { i: input(amount) });
  expect(res.status).toBeLessThan(500);
  const codes: string[] = res.body.data?.createVoucherTemplate
    ? res.body.data.createVoucherTemplate.errors.map((e: { code: string }) => e.code)
    : res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code);
  expect(codes.length).toBeGreaterThan(0);
  expect(codes.every((c) => c === 'BAD_USER_INPUT' || /AMOUNT|FACE_VALUE|INVALID/.test(c))).toBe(true);
  expect(JSON.stringify(res.body)).not.toMatch(/\.ts:\d+|stack/i);
  expect(await count(w.h, 'SELECT count(*)::int AS n FROM voucher_templates')).toBe(before);
});

test('a valid face value is stored as integer fen', async () => {
  const res = await w.h.gql(WUHAN, CREATE, { i: input(120_050) }).expect(200);
  expect(res.body.data.createVoucherTemplate.errors).toEqual([]);
  const rows = await w.h.sql<{ t: string }>(
    `SELECT pg_typeof(face_value_fen)::text AS t FROM voucher_templates WHERE id = $1`,
    [res.body.data.createVoucherTemplate.template.id],
  );
  expect(rows[0]!.t).toMatch(/integer|bigint/);
  expect(res.body.data.createVoucherTemplate.template.faceValueFen).toBe(120_050);
});
