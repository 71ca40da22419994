/**
 * TESTING.md, Faults and Bad input, on the vouchers subgraph with a TcpProxy in front of Redis and another
 * in front of the service's own HTTP port:
 * - Redis black-holed or slow during redemption: redemption goes through the database path within a
 *   bounded time, and a token is never accepted twice (the database constraint is the final word);
 * - the connection cut between commit and response, the client retrying with the same Idempotency-Key:
 *   the original result, one state change, one event;
 * - voucher codes and QR tokens of the wrong length or alphabet, huge or carrying injection text: refused
 *   before any voucher lookup, never a 5xx.
 */
import { uuidv7, signCaller } from '@vtv/kit';
import { TcpProxy, infraEnv } from '@vtv/testing';
import { SECRET } from '../../services/vouchers/test/harness';
import { count, person, startWorld, type World } from './vouchers-world';

jest.setTimeout(120_000);

const REDEEM = `mutation($i: RedeemVoucherInput!) { redeemVoucher(input: $i) {
  voucher { id state usedChannel } errors { code field message } } }`;
const BY_CODE = `mutation($i: RedeemVoucherByCodeInput!) { redeemVoucherByCode(input: $i) {
  voucher { id state } errors { code field message } } }`;

let w: World;
let redisProxy: TcpProxy;
let appProxy: TcpProxy;
let templateId: string;

beforeAll(async () => {
  const redisUrl = infraEnv().REDIS_URL;
  redisProxy = TcpProxy.forUrl(redisUrl);
  await redisProxy.start();
  w = await startWorld('relfault', { REDIS_URL: redisProxy.rewrite(redisUrl), LOG_LEVEL: 'error' });
  templateId = await w.template();
  const { port } = new URL(w.h.running.url);
  appProxy = new TcpProxy('127.0.0.1', Number(port));
  await appProxy.start();
});

afterAll(async () => {
  await w?.stop();
  await Promise.all([redisProxy?.stop(), appProxy?.stop()]);
});

afterEach(() => {
  redisProxy.setMode({ kind: 'pass' });
  appProxy.setMode({ kind: 'pass' });
});

async function holding() {
  const caller = await w.holder();
  const voucherId = await w.claim(caller, templateId);
  return { caller, voucherId };
}

async function redeem(token: string, key?: string) {
  const res = await w.h
    .gql(person(w.operatorId), REDEEM, { i: { token, institutionId: w.institutionId } }, key)
    .expect(200);
  return res.body.data.redeemVoucher as { voucher: { state: string } | null; errors: { code: string }[] };
}

const usedTransitions = (voucherId: string) =>
  count(
    w.h,
    `SELECT count(*)::int AS n FROM voucher_transitions WHERE voucher_id = $1 AND to_state = 'USED'`,
    [voucherId],
  );
const stateEvents = (voucherId: string) =>
  count(
    w.h,
    `SELECT count(*)::int AS n FROM outbox WHERE key = $1 AND type = 'vtv.vouchers.v1.VoucherStateChanged'`,
    [voucherId],
  );

describe('Redis down or slow during redemption', () => {
  it('black-holed: redemption goes through the database path, fast; a replay is refused by the database', async () => {
    const { caller, voucherId } = await holding();
    const token = w.token(voucherId, caller.id!);
    redisProxy.setMode({ kind: 'blackhole' });
    redisProxy.resetAll(); // live connections die; new ones hang unanswered
    const started = Date.now();
    const first = await redeem(token);
    const elapsed = Date.now() - started;
    expect(first.errors).toEqual([]);
    expect(first.voucher!.state).toBe('USED');
    expect(elapsed).toBeLessThan(5_000); // the cache's command timeout, not a hang
    const again = await redeem(token);
    expect(again.errors[0]!.code).toBe('QR_TOKEN_REPLAYED');
    // 20 more distinct tokens of the same voucher at once, Redis still gone: none accepted.
    const burst = await Promise.all(Array.from({ length: 20 }, () => redeem(w.token(voucherId, caller.id!))));
    expect(burst.filter((r) => r.errors.length === 0)).toHaveLength(0);
    expect(await usedTransitions(voucherId)).toBe(1);
    expect(await stateEvents(voucherId)).toBe(1);
    console.log(`redemption with Redis black-holed: ${elapsed} ms`);
  });

  it('black-holed: 50 concurrent scans of one voucher, distinct tokens: exactly one success', async () => {
    const { caller, voucherId } = await holding();
    redisProxy.setMode({ kind: 'blackhole' });
    redisProxy.resetAll();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => redeem(w.token(voucherId, caller.id!))),
    );
    expect(results.filter((r) => r.errors.length === 0)).toHaveLength(1);
    for (const r of results.filter((x) => x.errors.length > 0))
      expect(['VOUCHER_ALREADY_USED', 'QR_TOKEN_REPLAYED', 'IDEMPOTENCY_IN_PROGRESS']).toContain(
        r.errors[0]!.code,
      );
    expect(await usedTransitions(voucherId)).toBe(1);
  });

  it('slow (300 ms each way): redemption still succeeds once; recovery needs no restart', async () => {
    const { caller, voucherId } = await holding();
    redisProxy.setMode({ kind: 'latency', ms: 300 });
    const token = w.token(voucherId, caller.id!);
    const started = Date.now();
    expect((await redeem(token)).errors).toEqual([]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5_000);
    expect((await redeem(token)).errors[0]!.code).toBe('QR_TOKEN_REPLAYED');
    redisProxy.setMode({ kind: 'pass' });
    const next = await holding();
    expect((await redeem(w.token(next.voucherId, next.caller.id!))).errors).toEqual([]);
    expect(await usedTransitions(voucherId)).toBe(1);
    console.log(`redemption with Redis at +300 ms: ${elapsed} ms`);
  });
});

describe('connection cut between commit and response', () => {
  it('a client retry with the same Idempotency-Key gets the original result; one effect, one event', async () => {
    const { caller, voucherId } = await holding();
    const token = w.token(voucherId, caller.id!);
    const key = `redeem-${uuidv7()}`;
    const send = (body: unknown, signal?: AbortSignal) =>
      fetch(`http://127.0.0.1:${appProxy.port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'apollo-require-preflight': 'true',
          'x-vtv-caller': signCaller(person(w.operatorId), SECRET),
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
        signal,
      });
    const body = { query: REDEEM, variables: { i: { token, institutionId: w.institutionId } } };
    appProxy.setMode({ kind: 'drop-responses' });
    await expect(send(body, AbortSignal.timeout(2_000))).rejects.toThrow();
    appProxy.resetAll();
    // The server committed although the client never heard.
    expect((await w.h.services.deps.repos.vouchers.byId(voucherId))!.state).toBe('USED');
    appProxy.setMode({ kind: 'pass' });
    const retry = await send(body);
    expect(retry.status).toBe(200);
    const retried = ((await retry.json()) as { data: { redeemVoucher: unknown } }).data.redeemVoucher;
    expect(retried).toEqual({ voucher: { id: voucherId, state: 'USED', usedChannel: 'QR' }, errors: [] });
    expect(await usedTransitions(voucherId)).toBe(1);
    expect(await stateEvents(voucherId)).toBe(1);
    // The same key with another request is refused.
    const other = await holding();
    const reused = await send({
      query: REDEEM,
      variables: { i: { token: w.token(other.voucherId, other.caller.id!), institutionId: w.institutionId } },
    });
    const reusedBody = (await reused.json()) as { data: { redeemVoucher: { errors: { code: string }[] } } };
    expect(reusedBody.data.redeemVoucher.errors[0]!.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await w.h.services.deps.repos.vouchers.byId(other.voucherId))!.state).toBe('HELD');
  });
});

describe('voucher codes and tokens: bad input refused before any voucher lookup', () => {
  const BAD = [
    '',
    'A',
    'ABCD-EFGH',
    'ABCD-EFGH-JKMN-PQRS-TVWX', // too long
    'UUUU-UUUU-UUUU-UUUU', // U is not in the Crockford alphabet
    '０１２３-４５６７-８９ＡＢ-ＣＤＥＦ', // full-width
    "'; DROP TABLE vouchers; --",
    "' OR '1'='1",
    '${jndi:ldap://x}',
    '<script>alert(1)</script>',
    '\u0000\u0000\u0000',
    'x'.repeat(100_000),
  ];

  it('QR tokens: QR_TOKEN_MALFORMED (or a signature failure) without touching the database', async () => {
    const repos = w.h.services.deps.repos;
    const byId = jest.spyOn(repos.vouchers, 'byId');
    const operator = jest.spyOn(repos.projections, 'operator');
    try {
      for (const bad of [...BAD, 'VTV1.' + 'A'.repeat(71) + '.' + 'B'.repeat(22)]) {
        const r = await redeem(bad);
        expect(['QR_TOKEN_MALFORMED', 'QR_TOKEN_SIGNATURE_INVALID']).toContain(r.errors[0]!.code);
      }
      expect(byId).not.toHaveBeenCalled();
      expect(operator).not.toHaveBeenCalled();
    } finally {
      byId.mockRestore();
      operator.mockRestore();
    }
  });

  it('typed codes: VOUCHER_CODE_INVALID, no voucher lookup, no 5xx, nothing stored', async () => {
    const repos = w.h.services.deps.repos;
    const lookup = jest.spyOn(repos.vouchers, 'byCodeDigest');
    const before = await count(w.h, `SELECT count(*)::int AS n FROM voucher_transitions`);
    try {
      for (const bad of BAD) {
        // A fresh device each time; the operator's own failures may still trip the throttle (RATE_LIMITED).
        const res = await w.h.gql(person(w.operatorId), BY_CODE, {
          i: { code: bad, institutionId: w.institutionId, deviceId: `dev-${uuidv7()}` },
        });
        expect(res.status).toBeLessThan(500);
        const errors = res.body.data?.redeemVoucherByCode?.errors ?? res.body.errors;
        expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|stack/i);
        expect(['VOUCHER_CODE_INVALID', 'RATE_LIMITED', 'BAD_USER_INPUT']).toContain(
          errors[0].code ?? errors[0].extensions?.code,
        );
      }
      expect(lookup).not.toHaveBeenCalled();
    } finally {
      lookup.mockRestore();
    }
    expect(await count(w.h, `SELECT count(*)::int AS n FROM voucher_transitions`)).toBe(before);
  });
});
