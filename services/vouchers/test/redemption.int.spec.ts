/**
 * Use (用券): dynamic QR tokens scanned by operators, the code typed by hand, online deduction, automatic
 * use on enrollment; then the lifecycle's ends — completion failed, settlement, expiry. Against real
 * PostgreSQL, Redis and Kafka, with training's and settlement's facts arriving as events.
 */
import {
  ClassPlanApprovedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  SubsidyDisbursedSchema,
  TOPICS,
  decode,
  type EventRecord,
  type Subscription,
} from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import { infraEnv } from '@vtv/testing';
import Redis from 'ioredis';
import { QrTokenCodec } from '../src/domain/qr-tokens';
import { event, eventually, facts, person, staff, startHarness, ts, type Harness } from './harness';

jest.setTimeout(120_000);

const TYPE = '岗位技能提升培训';
const WUHAN = staff('420100', ['vouchers:issue', 'vouchers:read']);

let h: Harness;
let redis: Redis;
let templateId: string;
const instA = uuidv7(); // 江岸区, active
const instB = uuidv7(); // 新华区 (Henan), active
const instC = uuidv7(); // 江汉区, not activated
const opA = uuidv7();
const opA2 = uuidv7(); // a second operator at instA, never throttled by the guessing test
const opB = uuidv7();
const opC = uuidv7();
const opDisabled = uuidv7();
const seen: EventRecord[] = [];
let observer: Subscription;

beforeAll(async () => {
  h = await startHarness('vredeem', { VOUCHER_EXPIRY_INTERVAL_MS: '300', VOUCHER_CODE_ENTRY_FAILURES: '3' });
  redis = new Redis(infraEnv().REDIS_URL);
  // What settlement would see on vouchers.voucher.v1.
  observer = await h.bus.subscribe({
    group: 'settlement',
    topics: [TOPICS.vouchersVoucher.name],
    handler: async (e) => {
      seen.push(e);
    },
  });
  await h.publish(
    facts.institution(instA, '420102'),
    facts.institution(instB, '410402'),
    facts.institution(instC, '420103', false),
    facts.operator(instA, opA),
    facts.operator(instA, opA2),
    facts.operator(instB, opB),
    facts.operator(instC, opC),
    facts.operator(instA, opDisabled, false),
  );
  const t = await h.services.templates.create(WUHAN, {
    name: '武汉市岗位技能提升培训券',
    trainingType: TYPE,
    faceValueFen: 120_000,
    quantity: 1_000,
    claimEndsAt: new Date(Date.now() + 3600_000).toISOString(),
    validityType: 'DAYS_AFTER_CLAIM',
    validDays: 30,
  });
  templateId = t.id;
  await eventually(async () =>
    (await h.services.deps.repos.projections.operator(instA, opDisabled)) ? true : undefined,
  );
});

afterAll(async () => {
  await observer?.stop();
  redis?.disconnect();
  await h?.stop();
});

/** A person with an e-SSC in 江岸区 holding a freshly claimed general voucher. */
async function holderWithVoucher(): Promise<{ caller: Caller; voucherId: string }> {
  const id = uuidv7();
  await h.sql(`INSERT INTO people (person_id, region_code, birth_year) VALUES ($1, '420102', 1990)`, [id]);
  const caller = person(id);
  const voucherId = await h.services.claims.claim(caller, templateId, await h.proof(id, 'CLAIM_VOUCHER'));
  return { caller, voucherId };
}

const PRESENT = `mutation($v: ID!, $p: String!) { presentVoucher(voucherId: $v, proof: $p) {
  token expiresAt code voucher { id state } errors { code field message } } }`;
const REDEEM = `mutation($i: RedeemVoucherInput!) { redeemVoucher(input: $i) {
  voucher { id state usedAt usedChannel usedAtInstitution { id } usedForClass { id } usedForEnrollmentId }
  errors { code field message } } }`;
const BY_CODE = `mutation($i: RedeemVoucherByCodeInput!) { redeemVoucherByCode(input: $i) {
  voucher { id state usedChannel } errors { code field message } } }`;

async function present(caller: Caller, voucherId: string) {
  const proof = await h.proof(caller.id!, 'USE_VOUCHER', voucherId);
  const res = await h.gql(caller, PRESENT, { v: voucherId, p: proof }).expect(200);
  return res.body.data.presentVoucher;
}

async function redeem(
  operator: string,
  token: string,
  institutionId = instA,
  extra: Record<string, unknown> = {},
  key?: string,
) {
  const res = await h
    .gql(person(operator), REDEEM, { i: { token, institutionId, ...extra } }, key)
    .expect(200);
  return res.body.data.redeemVoucher;
}

const code = (r: { errors: { code: string }[] }) => r.errors[0]?.code;

async function stateOf(voucherId: string) {
  return (await h.services.deps.repos.vouchers.byId(voucherId))!;
}

describe('dynamic QR (动态二维码) and scanning (扫码核验)', () => {
  it('the holder gets a short-lived token after identity verification; an operator scans it once', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    // The proof must be for this voucher.
    const otherProof = await h.proof(caller.id!, 'USE_VOUCHER', uuidv7());
    let res = await h.gql(caller, PRESENT, { v: voucherId, p: otherProof }).expect(200);
    expect(res.body.data.presentVoucher.errors).toEqual([
      expect.objectContaining({ code: 'IDENTITY_PROOF_INVALID' }),
    ]);
    // Not the holder: not found.
    const stranger = person();
    res = await h
      .gql(stranger, PRESENT, { v: voucherId, p: await h.proof(stranger.id!, 'USE_VOUCHER', voucherId) })
      .expect(200);
    expect(res.body.data.presentVoucher.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

    const shown = await present(caller, voucherId);
    expect(shown.errors).toEqual([]);
    expect(shown.token).toMatch(/^VTV1\.[A-Za-z0-9_-]{71}\.[A-Za-z0-9_-]{22}$/);
    expect(shown.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    const ttl = Date.parse(shown.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(61_000);

    const key = `redeem-${uuidv7()}`;
    const used = await redeem(opA, shown.token, instA, {}, key);
    expect(used.errors).toEqual([]);
    expect(used.voucher).toMatchObject({
      id: voucherId,
      state: 'USED',
      usedChannel: 'QR',
      usedAtInstitution: { id: instA },
    });
    // A retry with the same key (connection cut): the original result.
    expect(await redeem(opA, shown.token, instA, {}, key)).toEqual(used);
    // Without the key it is a replay.
    expect(code(await redeem(opA, shown.token))).toBe('QR_TOKEN_REPLAYED');
    // A fresh token of a used voucher: already used — and no token is handed out any more.
    expect(code(await redeem(opA, h.services.deps.qr.issue(voucherId, caller.id!).token))).toBe(
      'VOUCHER_ALREADY_USED',
    );
    expect(code(await present(caller, voucherId))).toBe('VOUCHER_ALREADY_USED');

    const history = await h.services.deps.repos.vouchers.history(voucherId);
    expect(history.map((t) => [t.fromState, t.toState, t.actorKind, t.actorId])).toEqual([
      [null, 'HELD', 'PERSON', caller.id],
      ['HELD', 'USED', 'OPERATOR', opA],
    ]);
  });

  it('refuses malformed, tampered, foreign and expired tokens with distinct codes', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const { token } = h.services.deps.qr.issue(voucherId, caller.id!);
    for (const bad of [
      '',
      'hello',
      token.replace('VTV1', 'VTV2'),
      token.slice(0, -1),
      `${token}x`,
      'x'.repeat(5000),
    ])
      expect(code(await redeem(opA, bad))).toBe('QR_TOKEN_MALFORMED');
    // One payload character changed: the signature no longer matches.
    const [v, payload, mac] = token.split('.');
    const flipped = payload!.slice(0, 30) + (payload![30] === 'A' ? 'B' : 'A') + payload!.slice(31);
    expect(code(await redeem(opA, `${v}.${flipped}.${mac}`))).toBe('QR_TOKEN_SIGNATURE_INVALID');
    const foreign = new QrTokenCodec([Buffer.from('someone-else-s-key-0123456789abcdef')]).issue(
      voucherId,
      caller.id!,
    );
    expect(code(await redeem(opA, foreign.token))).toBe('QR_TOKEN_SIGNATURE_INVALID');
    const old = h.services.deps.qr.issue(voucherId, caller.id!, new Date(Date.now() - 61_000));
    expect(code(await redeem(opA, old.token))).toBe('QR_TOKEN_EXPIRED');
    expect((await stateOf(voucherId)).state).toBe('HELD');
  });

  it('only an enabled operator of an active institution may scan, and only where the voucher is valid', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const token = () => h.services.deps.qr.issue(voucherId, caller.id!).token;
    expect(code(await redeem(uuidv7(), token()))).toBe('NOT_AN_OPERATOR');
    expect(code(await redeem(opDisabled, token()))).toBe('NOT_AN_OPERATOR');
    expect(code(await redeem(opA, token(), instB))).toBe('NOT_AN_OPERATOR');
    expect(code(await redeem(opC, token(), instC))).toBe('INSTITUTION_NOT_ACTIVE');
    // A Wuhan voucher at a Henan institution.
    expect(code(await redeem(opB, token(), instB))).toBe('WRONG_INSTITUTION');
    // Enrolled under someone else's name (Art. 21).
    const enrollmentId = uuidv7();
    const classId = uuidv7();
    await h.publish(
      event(EnrollmentCreatedSchema, TOPICS.trainingEnrollment.name, classId, {
        enrollmentId,
        classId,
        institutionId: instA,
        personId: uuidv7(),
        regionCode: '420102',
        occupation: '电工',
        trainingType: TYPE,
        enrolledAt: ts(new Date()),
      }),
    );
    await eventually(async () =>
      (await h.services.deps.repos.projections.enrollment(enrollmentId)) ? true : undefined,
    );
    expect(code(await redeem(opA, token(), instA, { enrollmentId }))).toBe('VOUCHER_NOT_HOLDERS');
    expect((await stateOf(voucherId)).state).toBe('HELD');
  });

  it('100 concurrent scans of one voucher (distinct tokens): one success, 99 business errors, one change, one event', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const tokens = Array.from({ length: 100 }, () => h.services.deps.qr.issue(voucherId, caller.id!).token);
    expect(new Set(tokens).size).toBe(100);
    const started = Date.now();
    const results = await Promise.all(tokens.map((t) => redeem(opA, t)));
    const elapsed = Date.now() - started;
    const ok = results.filter((r) => r.errors.length === 0);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => code(r) === 'VOUCHER_ALREADY_USED')).toHaveLength(99);

    const transitions = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM voucher_transitions WHERE voucher_id = $1 AND to_state = 'USED'`,
      [voucherId],
    );
    expect(transitions[0]!.n).toBe(1);
    const outbox = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE key = $1 AND type = 'vtv.vouchers.v1.VoucherStateChanged'`,
      [voucherId],
    );
    expect(outbox[0]!.n).toBe(1);
    const onKafka = () =>
      seen.filter((e) => e.key === voucherId && e.type === 'vtv.vouchers.v1.VoucherStateChanged');
    await eventually(async () => (onKafka().length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_500)); // Anything else would have arrived by now.
    expect(onKafka()).toHaveLength(1);
    const payload = decode(onKafka()[0]!.type, onKafka()[0]!.data) as unknown as {
      toState: number;
      institutionId: string;
    };
    expect(payload).toMatchObject({ toState: 2, institutionId: instA });
    console.log(`100 concurrent redemptions of one voucher over HTTP: ${elapsed} ms`);
  });

  it('a replayed token is refused after Redis lost its keys: the database is the final word', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const issued = h.services.deps.qr.issue(voucherId, caller.id!);
    expect((await redeem(opA, issued.token)).errors).toEqual([]);
    expect(await redis.exists(`vouchers:qr:${issued.jti}`)).toBe(1);
    await redis.del(`vouchers:qr:${issued.jti}`);
    expect(code(await redeem(opA, issued.token))).toBe('QR_TOKEN_REPLAYED');
    const rows = await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM redeemed_tokens WHERE jti = $1', [
      issued.jti,
    ]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('the code typed by hand (券码), online deduction, automatic use', () => {
  it('accepts the holder’s code as typed; wrong codes are refused before any lookup and throttled', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const shown = await present(caller, voucherId);
    const typed = shown.code.toLowerCase().replace(/-/g, ' ');
    const device = `scanner-${uuidv7()}`;
    const res = await h
      .gql(person(opA), BY_CODE, { i: { code: typed, institutionId: instA, deviceId: device } })
      .expect(200);
    expect(res.body.data.redeemVoucherByCode).toEqual({
      voucher: { id: voucherId, state: 'USED', usedChannel: 'CODE' },
      errors: [],
    });

    const guesses = ['0000-0000-0000-0000', 'ABCD', "'; DROP TABLE vouchers; --", shown.code];
    const answers = [];
    for (const g of guesses)
      answers.push(
        (
          await h
            .gql(person(opA), BY_CODE, { i: { code: g, institutionId: instA, deviceId: device } })
            .expect(200)
        ).body.data.redeemVoucherByCode,
      );
    // The used voucher's own code is refused for what it is; three wrong codes later the device is throttled.
    expect(answers.map(code)).toEqual([
      'VOUCHER_CODE_INVALID',
      'VOUCHER_CODE_INVALID',
      'VOUCHER_CODE_INVALID',
      'RATE_LIMITED',
    ]);
  });

  it('deducts a voucher online with the holder’s own verification (线上扣减)', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const classId = uuidv7();
    await h.publish(
      event(ClassPlanApprovedSchema, TOPICS.trainingClass.name, classId, {
        classId,
        institutionId: instA,
        regionCode: '420102',
        name: '线上电工课',
        occupation: '电工',
        trainingType: TYPE,
        headcount: 100,
        startDate: '2099-01-01',
        endDate: '2099-02-01',
        approvedAt: ts(new Date()),
      }),
    );
    await eventually(async () => ((await h.services.batches.isAwaiting(classId)) ? true : undefined));
    const proof = await h.proof(caller.id!, 'USE_VOUCHER', voucherId);
    const res = await h
      .gql(
        caller,
        `mutation($i: UseVoucherOnlineInput!) { useVoucherOnline(input: $i) { voucher { state usedChannel usedForClass { id } } errors { code } } }`,
        {
          i: { voucherId, classId, proof },
        },
      )
      .expect(200);
    expect(res.body.data.useVoucherOnline).toEqual({
      voucher: { state: 'USED', usedChannel: 'ONLINE', usedForClass: { id: classId } },
      errors: [],
    });
  });

  it('uses a matching held voucher when training reports the enrollment; a failed completion invalidates it', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    const classId = uuidv7();
    const enrollmentId = uuidv7();
    await h.publish(
      event(EnrollmentCreatedSchema, TOPICS.trainingEnrollment.name, classId, {
        enrollmentId,
        classId,
        institutionId: instA,
        personId: caller.id!,
        regionCode: '420102',
        occupation: '电工',
        trainingType: TYPE,
        enrolledAt: ts(new Date()),
      }),
    );
    const used = await eventually(async () => {
      const v = await stateOf(voucherId);
      return v.state === 'USED' ? v : undefined;
    });
    expect(used).toMatchObject({
      usedChannel: 'ENROLLMENT',
      usedClassId: classId,
      usedEnrollmentId: enrollmentId,
      usedInstitutionId: instA,
    });

    await h.publish(
      event(CompletionRecordedSchema, TOPICS.trainingEnrollment.name, classId, {
        enrollmentId,
        classId,
        institutionId: instA,
        personId: caller.id!,
        regionCode: '420102',
        passed: false,
        reviewerId: uuidv7(),
        recordedAt: ts(new Date()),
      }),
    );
    const failed = await eventually(async () => {
      const v = await stateOf(voucherId);
      return v.state === 'INVALIDATED' ? v : undefined;
    });
    expect(failed.endReason).toBe('training failed at completion review (结业不合格)');

    // A voucher of another training type is not used by an enrollment that does not match.
    const other = await holderWithVoucher();
    const otherClass = uuidv7();
    await h.publish(
      event(EnrollmentCreatedSchema, TOPICS.trainingEnrollment.name, otherClass, {
        enrollmentId: uuidv7(),
        classId: otherClass,
        institutionId: instA,
        personId: other.caller.id!,
        regionCode: '420102',
        occupation: '育婴员',
        trainingType: '创业培训',
        enrolledAt: ts(new Date()),
      }),
    );
    await eventually(async () => {
      const rows = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM enrollments WHERE class_id = $1`,
        [otherClass],
      );
      return rows[0]!.n === 1 ? true : undefined;
    });
    expect((await stateOf(other.voucherId)).state).toBe('HELD');
  });
});

describe('settlement and expiry', () => {
  it('settles the used vouchers a disbursement lists and kills their codes; a repeat changes nothing', async () => {
    const a = await holderWithVoucher();
    const b = await holderWithVoucher();
    const shownA = await present(a.caller, a.voucherId);
    expect((await redeem(opA, shownA.token)).errors).toEqual([]);
    const disbursed = (id: string) =>
      event(
        SubsidyDisbursedSchema,
        TOPICS.settlementDisbursement.name,
        id,
        {
          disbursementId: uuidv7(),
          applicationId: id,
          institutionId: instA,
          regionCode: '420102',
          amountFen: 120_000n,
          voucherIds: [a.voucherId, b.voucherId],
          paidAt: ts(new Date()),
        },
        '/vtv/settlement',
      );
    const applicationId = uuidv7();
    await h.publish(disbursed(applicationId));
    const settled = await eventually(async () => {
      const v = await stateOf(a.voucherId);
      return v.state === 'SETTLED' ? v : undefined;
    });
    expect(settled.settledAt).toBeInstanceOf(Date);
    // b was never used: it is not settled.
    expect((await stateOf(b.voucherId)).state).toBe('HELD');
    const digest = await h.sql<{ code_digest: Buffer | null }>(
      'SELECT code_digest FROM vouchers WHERE id = $1',
      [a.voucherId],
    );
    expect(digest[0]!.code_digest).toBeNull();
    const res = await h
      .gql(person(opA2), BY_CODE, {
        i: { code: shownA.code, institutionId: instA, deviceId: `d-${uuidv7()}` },
      })
      .expect(200);
    expect(code(res.body.data.redeemVoucherByCode)).toBe('VOUCHER_CODE_INVALID');

    // The same payment announced again: nothing changes, nothing is published twice.
    await h.publish(disbursed(applicationId));
    await eventually(async () => {
      const rows = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM inbox WHERE event_type = 'vtv.settlement.v1.SubsidyDisbursed'`,
      );
      return rows[0]!.n === 2 ? true : undefined;
    });
    const t = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM voucher_transitions WHERE voucher_id = $1 AND to_state = 'SETTLED'`,
      [a.voucherId],
    );
    expect(t[0]!.n).toBe(1);
  });

  it('expires held vouchers whose validity ended, on schedule, and says so to the holder', async () => {
    const { caller, voucherId } = await holderWithVoucher();
    await h.sql(`UPDATE vouchers SET valid_until = now() - interval '1 second' WHERE id = $1`, [voucherId]);
    // Before the sweep gets to it, the voucher already refuses to be used.
    const expired = await eventually(async () => {
      const v = await stateOf(voucherId);
      return v.state === 'EXPIRED' ? v : undefined;
    });
    expect(expired.endReason).toBe('validity ended unused (到期未使用)');
    const history = await h.services.deps.repos.vouchers.history(voucherId);
    expect(history.at(-1)).toMatchObject({
      fromState: 'HELD',
      toState: 'EXPIRED',
      actorKind: 'SYSTEM',
      actorId: 'vouchers',
    });
    expect(code(await present(caller, voucherId))).toBe('VOUCHER_EXPIRED');

    const wallet = await h
      .gql(
        caller,
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { voucherWallet { held { id } used { id } noLongerValid { id state } } } } }`,
        {
          r: [{ __typename: 'Person', id: caller.id }],
        },
      )
      .expect(200);
    expect(wallet.body.data._entities[0].voucherWallet).toEqual({
      held: [],
      used: [],
      noLongerValid: [{ id: voucherId, state: 'EXPIRED' }],
    });
  });
});
