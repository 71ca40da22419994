/**
 * The settlement workflow against real PostgreSQL and Kafka: evidence projected from the contract events
 * of vouchers, training and careers; applications by institution operators; anomalies; the amount rules
 * with standards inherited down the region tree; single and two-level review; rejection and
 * resubmission; the budget ledger; payment; SubsidyDisbursed on Kafka; reports.
 *
 * The cases run in order and build on each other (one region's budget, one set of classes).
 */
import { fromBinary } from '@bufbuild/protobuf';
import {
  CompletionRecordedSchema,
  SubsidyDisbursedSchema,
  TOPICS,
  VoucherState,
  VoucherStateChangedSchema,
  type EventRecord,
} from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ALL, World, eventually, ledgerState, person, staff } from './helpers';

jest.setTimeout(60_000);

let w: World;
let disbursed: EventRecord[];

// Wuhan (420100): 江岸区 420102, 江汉区 420103. Pingdingshan (410400) is somebody else's.
const admin = staff('420100', ALL);
const reviewerA = staff('420100', ['settlement:read', 'settlement:review']);
const reviewerB = staff('420102', ['settlement:review']);
const payer = staff('420100', ['settlement:disburse']);
const henan = staff('410400', ALL);
const reader = staff('420100', ['settlement:read']);

const I1 = uuidv7();
const I2 = uuidv7();
const op1 = person();
const op2 = person();
const stranger = person();
const C1 = uuidv7(); // 江岸区, 岗位技能提升培训 四级 — two-level review
const C2 = uuidv7(); // 江汉区, 岗位技能提升培训 三级 — single review
const TYPE = '岗位技能提升培训';

const APP = `
  id state reviewMode regionCode totalAmountFen approvedAmountFen approvedLineCount standardFen lineCount
  anomalyCount budgetRegionCode rejectionReason submittedAt firstReview { reviewerId } finalReview { reviewerId }
  institution { id } trainingClass { id }`;
const PAYLOAD = `{ application { ${APP} } errors { code message field } }`;
const LINES = `query ($id: ID!, $only: Boolean) {
  subsidyApplication(id: $id) {
    lines(first: 100, onlyAnomalous: $only) { edges { node {
      id trainee { id } voucher { id } certificateNumber amountFen standardFen firstDecision decision
      decisionReason approvedAmountFen anomalies { code blocking message }
      evidence { voucherState functionMode faceValueFen attendanceRateBp passed usedAtInstitution { id } certificates { id } }
    } } }
  }
}`;

interface Line {
  id: string;
  voucher: { id: string };
  trainee: { id: string };
  amountFen: string;
  anomalies: { code: string; blocking: boolean; message: string }[];
  evidence: Record<string, unknown>;
  decision: string | null;
  approvedAmountFen: string | null;
}

async function lines(caller: Caller, id: string, only = false): Promise<Line[]> {
  const res = await w.gql(caller, LINES, { id, only });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.subsidyApplication.lines.edges.map((e: { node: Line }) => e.node);
}

async function create(
  caller: Caller,
  classId: string,
  ls: { personId: string; voucherId: string; certificateNumber?: string }[],
) {
  const res = await w.gql(
    caller,
    `mutation ($input: CreateSubsidyApplicationInput!) { createSubsidyApplication(input: $input) ${PAYLOAD} }`,
    { input: { classId, lines: ls } },
  );
  expect(res.status).toBe(200);
  return res.body.data.createSubsidyApplication;
}

async function submit(caller: Caller, id: string) {
  const res = await w.gql(caller, `mutation ($id: ID!) { submitSubsidyApplication(id: $id) ${PAYLOAD} }`, {
    id,
  });
  return res.body.data.submitSubsidyApplication;
}

async function review(
  caller: Caller,
  input: { applicationId: string; decision: 'APPROVE' | 'REJECT'; reason?: string; lines?: unknown[] },
  key?: string,
) {
  const res = await w.gql(
    caller,
    `mutation ($input: ReviewSubsidyApplicationInput!) { reviewSubsidyApplication(input: $input) ${PAYLOAD} }`,
    { input },
    key,
  );
  expect(res.status).toBe(200);
  return res.body.data.reviewSubsidyApplication;
}

async function disburse(caller: Caller, applicationId: string, paymentReference: string, key?: string) {
  const res = await w.gql(
    caller,
    `mutation ($input: DisburseSubsidyInput!) { disburseSubsidy(input: $input) {
       disbursement { id amountFen paymentReference voucherCount budgetRegionCode application { id state } }
       errors { code message field } } }`,
    { input: { applicationId, paymentReference } },
    key,
  );
  expect(res.status).toBe(200);
  return res.body.data.disburseSubsidy;
}

async function allocate(caller: Caller, regionCode: string, amountFen: string | number, key?: string) {
  const res = await w.gql(
    caller,
    `mutation ($input: AllocateSubsidyBudgetInput!) { allocateSubsidyBudget(input: $input) {
       budget { regionCode allocatedFen committedFen paidFen availableFen } errors { code message field } } }`,
    { input: { regionCode, amountFen, memo: '2025年职业技能培训补贴资金' } },
    key,
  );
  return res;
}

/** A trainee with a voucher used at `institutionId` for `classId`, attendance and a completion result. */
async function trainee(o: {
  classId: string;
  regionCode: string;
  institutionId?: string;
  usedAt?: string;
  mode?: 'FACE_VALUE' | 'DEDUCTION';
  faceValueFen?: bigint;
  attendanceRateBp?: number;
  passed?: boolean | null;
  personId?: string;
}) {
  const personId = o.personId ?? uuidv7();
  const voucherId = uuidv7();
  const institutionId = o.institutionId ?? I1;
  await w.voucherUsed({
    voucherId,
    holder: personId,
    institutionId: o.usedAt ?? institutionId,
    classId: o.classId,
    mode: o.mode ?? 'FACE_VALUE',
    faceValueFen: o.faceValueFen ?? 150_000n,
    regionCode: o.regionCode,
    trainingType: TYPE,
  });
  await w.trained({
    personId,
    classId: o.classId,
    institutionId,
    regionCode: o.regionCode,
    attendanceRateBp: o.attendanceRateBp ?? 9500,
    passed: o.passed === undefined ? true : o.passed,
  });
  return { personId, voucherId };
}

beforeAll(async () => {
  w = await World.create('settlement_flow');
  disbursed = await w.probe(TOPICS.settlementDisbursement.name);
  await w.operator(I1, op1.id!);
  await w.operator(I2, op2.id!);
  await w.classApproved({
    classId: C1,
    institutionId: I1,
    regionCode: '420102',
    trainingType: TYPE,
    level: '四级',
  });
  await w.classApproved({
    classId: C2,
    institutionId: I1,
    regionCode: '420103',
    trainingType: TYPE,
    level: '三级',
  });
});

afterAll(async () => {
  await w?.close();
});

// State shared by the ordered cases below.
let app1: string;
let app1Vouchers: string[];
let app2: string;

it('keeps review rules and subsidy standards per region, inherited down the tree', async () => {
  const setRule = `mutation ($input: SetSettlementReviewRuleInput!) { setSettlementReviewRule(input: $input) {
    rule { regionCode mode definedIn } errors { code field } } }`;
  const res = await w.gql(admin, setRule, { input: { regionCode: '420102', mode: 'TWO_LEVEL' } });
  expect(res.body.data.setSettlementReviewRule).toEqual({
    rule: { regionCode: '420102', mode: 'TWO_LEVEL', definedIn: '420102' },
    errors: [],
  });
  const outside = await w.gql(admin, setRule, { input: { regionCode: '410400', mode: 'SINGLE' } });
  expect(outside.body.data.setSettlementReviewRule.errors[0]).toMatchObject({ code: 'FORBIDDEN' });
  const notAllowed = await w.gql(reviewerA, setRule, { input: { regionCode: '420100', mode: 'SINGLE' } });
  expect(notAllowed.body.data.setSettlementReviewRule.errors[0]).toMatchObject({ code: 'FORBIDDEN' });

  const rule = `query ($r: ID!) { settlementReviewRule(regionCode: $r) { mode definedIn } }`;
  expect((await w.gql(reader, rule, { r: '420103' })).body.data.settlementReviewRule).toEqual({
    mode: 'SINGLE',
    definedIn: null,
  });

  const setStd = `mutation ($input: SetSubsidyStandardInput!) { setSubsidyStandard(input: $input) {
    standard { id regionCode trainingType level amountFen } errors { code field message } } }`;
  // The city's standard for every level of the type, the district's own for level 四级.
  const city = await w.gql(admin, setStd, {
    input: { regionCode: '420100', trainingType: TYPE, amountFen: '200000' },
  });
  expect(city.body.data.setSubsidyStandard).toMatchObject({
    standard: { regionCode: '420100', level: '', amountFen: '200000' },
    errors: [],
  });
  const district = await w.gql(admin, setStd, {
    input: { regionCode: '420102', trainingType: TYPE, level: '四级', amountFen: 180000 },
  });
  expect(district.body.data.setSubsidyStandard.errors).toEqual([]);

  // Money inputs: integer fen only, within bounds.
  const tooBig = await w.gql(admin, setStd, {
    input: { regionCode: '420100', trainingType: TYPE, amountFen: '100000001' },
  });
  expect(tooBig.body.data.setSubsidyStandard.errors[0]).toMatchObject({
    code: 'AMOUNT_OUT_OF_RANGE',
    field: 'amountFen',
  });
  for (const amountFen of ['1.5', '-100', '1e6', 12.5, '99999999999999999999']) {
    const bad = await w.gql(admin, setStd, {
      input: { regionCode: '420100', trainingType: TYPE, amountFen },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  }

  const eff = `query ($r: ID!, $l: String) { effectiveSubsidyStandard(regionCode: $r, trainingType: "${TYPE}", level: $l) { regionCode level amountFen } }`;
  expect((await w.gql(reader, eff, { r: '420102', l: '四级' })).body.data.effectiveSubsidyStandard).toEqual({
    regionCode: '420102',
    level: '四级',
    amountFen: '180000',
  });
  expect(
    (await w.gql(reader, eff, { r: '420102', l: '三级' })).body.data.effectiveSubsidyStandard,
  ).toMatchObject({
    regionCode: '420100',
    amountFen: '200000',
  });
  expect(
    (await w.gql(reader, eff, { r: '420103', l: '四级' })).body.data.effectiveSubsidyStandard.regionCode,
  ).toBe('420100');
  const list = await w.gql(reader, `{ subsidyStandards(regionCode: "420102") { regionCode level } }`);
  expect(list.body.data.subsidyStandards).toEqual([
    { regionCode: '420102', level: '四级' },
    { regionCode: '420100', level: '' },
  ]);
});

it('builds applications from projected evidence and applies the amount rules', async () => {
  const t1 = await trainee({ classId: C1, regionCode: '420102', faceValueFen: 150_000n }); // < standard
  const t2 = await trainee({ classId: C1, regionCode: '420102', faceValueFen: 300_000n }); // > standard
  const t3 = await trainee({ classId: C1, regionCode: '420102', mode: 'DEDUCTION', faceValueFen: 0n });
  const certificateId = uuidv7();
  await w.certificate(t1.personId, certificateId);
  await w.settled();

  // Someone who is not an operator of the class's institution cannot see the class at all.
  const foreign = await create(op2, C1, [t1]);
  expect(foreign).toEqual({
    application: null,
    errors: [expect.objectContaining({ code: 'NOT_FOUND', field: 'classId' })],
  });
  expect((await create(stranger, C1, [t1])).errors[0].code).toBe('NOT_FOUND');
  expect((await create(admin, C1, [t1])).errors[0].code).toBe('FORBIDDEN');

  const created = await create(op1, C1, [{ ...t1, certificateNumber: 'S4201250000123' }, t2, t3]);
  expect(created.errors).toEqual([]);
  expect(created.application).toMatchObject({ state: 'DRAFT', lineCount: 3, regionCode: '420102' });
  app1 = created.application.id;
  app1Vouchers = [t1.voucherId, t2.voucherId, t3.voucherId];

  const submitted = await submit(op1, app1);
  expect(submitted.errors).toEqual([]);
  expect(submitted.application).toMatchObject({
    state: 'SUBMITTED',
    reviewMode: 'TWO_LEVEL',
    standardFen: '180000',
    // face value 1500.00 < 1800.00 → 1500.00; 3000.00 > 1800.00 → 1800.00; deduction → 1800.00
    totalAmountFen: String(150_000 + 180_000 + 180_000),
    anomalyCount: 0,
  });

  const ls = await lines(op1, app1);
  const byVoucher = new Map(ls.map((l) => [l.voucher.id, l]));
  expect(byVoucher.get(t1.voucherId)).toMatchObject({
    trainee: { id: t1.personId },
    certificateNumber: 'S4201250000123',
    amountFen: '150000',
    anomalies: [],
    evidence: {
      voucherState: 'USED',
      functionMode: 'FACE_VALUE',
      faceValueFen: '150000',
      attendanceRateBp: 9500,
      passed: true,
      usedAtInstitution: { id: I1 },
      certificates: [{ id: certificateId }],
    },
  });
  expect(byVoucher.get(t2.voucherId)!.amountFen).toBe('180000');
  expect(byVoucher.get(t3.voucherId)).toMatchObject({
    amountFen: '180000',
    evidence: { functionMode: 'DEDUCTION', faceValueFen: null },
  });

  // Staff of the region and the operators see it; others do not, and cannot tell it exists.
  const q = `query ($id: ID!) { subsidyApplication(id: $id) { id } }`;
  for (const c of [reader, reviewerB, op1])
    expect((await w.gql(c, q, { id: app1 })).body.data.subsidyApplication).toEqual({ id: app1 });
  for (const c of [henan, op2, stranger, staff('420103', ['settlement:read'])])
    expect((await w.gql(c, q, { id: app1 })).body.data.subsidyApplication).toBeNull();
});

it('refuses a voucher in two applications that are not rejected, also under a race', async () => {
  const again = await create(op1, C1, [{ personId: uuidv7(), voucherId: app1Vouchers[0]! }]);
  expect(again.application).toBeNull();
  expect(again.errors[0]).toMatchObject({ code: 'VOUCHER_IN_ANOTHER_APPLICATION', field: 'lines' });
  expect(again.errors[0].message).toContain(app1);

  const dup = await create(op1, C1, [
    { personId: uuidv7(), voucherId: app1Vouchers[0]!.replace(/.$/, 'f') },
    { personId: uuidv7(), voucherId: app1Vouchers[0]!.replace(/.$/, 'f') },
  ]);
  expect(dup.errors[0].code).toBe('DUPLICATE_VOUCHER');

  // Five operators' requests for one fresh voucher at once: the partial unique index lets one through.
  const voucherId = uuidv7();
  const results = await Promise.all(
    Array.from({ length: 5 }, () => create(op1, C1, [{ personId: uuidv7(), voucherId }])),
  );
  expect(results.filter((r) => r.errors.length === 0)).toHaveLength(1);
  expect(results.filter((r) => r.errors[0]?.code === 'VOUCHER_IN_ANOTHER_APPLICATION')).toHaveLength(4);
  const [{ n }] = await w.running.deps.ds.query(
    'SELECT count(*)::int AS n FROM subsidy_application_lines WHERE voucher_id = $1 AND holds_voucher',
    [voucherId],
  );
  expect(n).toBe(1);
});

it('runs two-level review: first and second by different staff, the same reviewer refused', async () => {
  const first = await review(reviewerA, { applicationId: app1, decision: 'APPROVE' });
  expect(first.errors).toEqual([]);
  expect(first.application).toMatchObject({
    state: 'FIRST_APPROVED',
    firstReview: { reviewerId: reviewerA.id },
    finalReview: null,
  });

  for (const decision of ['APPROVE', 'REJECT'] as const) {
    const same = await review(reviewerA, { applicationId: app1, decision, reason: '复审' });
    expect(same).toEqual({ application: null, errors: [expect.objectContaining({ code: 'SAME_REVIEWER' })] });
  }
  // Reviewing needs the permission and the region.
  expect((await review(reader, { applicationId: app1, decision: 'APPROVE' })).errors[0].code).toBe(
    'FORBIDDEN',
  );
  expect((await review(henan, { applicationId: app1, decision: 'APPROVE' })).errors[0].code).toBe(
    'NOT_FOUND',
  );

  // No budget anywhere up the tree yet: the final approval cannot commit anything.
  const noBudget = await review(reviewerB, { applicationId: app1, decision: 'APPROVE' });
  expect(noBudget.errors[0]).toMatchObject({ code: 'NO_BUDGET' });

  const alloc = await allocate(admin, '420100', '600000', 'alloc-2025-wuhan-1');
  expect(alloc.body.data.allocateSubsidyBudget).toEqual({
    budget: {
      regionCode: '420100',
      allocatedFen: '600000',
      committedFen: '0',
      paidFen: '0',
      availableFen: '600000',
    },
    errors: [],
  });
  // Repeating the allocation with its key changes nothing.
  const repeat = await allocate(admin, '420100', '600000', 'alloc-2025-wuhan-1');
  expect(repeat.body.data.allocateSubsidyBudget.budget.allocatedFen).toBe('600000');
  const reused = await allocate(admin, '420100', '700000', 'alloc-2025-wuhan-1');
  expect(reused.body.data.allocateSubsidyBudget.errors[0].code).toBe('IDEMPOTENCY_KEY_REUSED');
  for (const amountFen of ['0', String(10_000_000_000_001n)]) {
    const bad = await allocate(admin, '420100', amountFen);
    expect(bad.body.data.allocateSubsidyBudget.errors[0].field).toBe('amountFen');
  }

  const key = `review-${app1}`;
  const second = await review(reviewerB, { applicationId: app1, decision: 'APPROVE' }, key);
  expect(second.errors).toEqual([]);
  expect(second.application).toMatchObject({
    state: 'APPROVED',
    approvedAmountFen: '510000',
    approvedLineCount: 3,
    budgetRegionCode: '420100',
    firstReview: { reviewerId: reviewerA.id },
    finalReview: { reviewerId: reviewerB.id },
  });
  // A retried request with the same key gets the same answer, not "invalid state".
  const retried = await review(reviewerB, { applicationId: app1, decision: 'APPROVE' }, key);
  expect(retried).toEqual(second);
  const [{ n }] = await w.running.deps.ds.query(
    `SELECT count(*)::int AS n FROM journal_entries WHERE application_id = $1 AND kind = 'COMMITMENT'`,
    [app1],
  );
  expect(n).toBe(1);
});

it('flags anomalies with their evidence and approves per trainee with reasons', async () => {
  const elsewhere = await trainee({ classId: C2, regionCode: '420103', usedAt: I2 });
  const failed = await trainee({ classId: C2, regionCode: '420103', passed: false });
  const absent = await trainee({
    classId: C2,
    regionCode: '420103',
    attendanceRateBp: 7000,
    faceValueFen: 100_000n,
  });
  const twiceVoucher = uuidv7(); // the same person claimed again with a second voucher
  await w.voucherUsed({
    voucherId: twiceVoucher,
    holder: absent.personId,
    institutionId: I1,
    classId: C2,
    mode: 'FACE_VALUE',
    faceValueFen: 100_000n,
    regionCode: '420103',
    trainingType: TYPE,
  });
  const settledAlready = await trainee({ classId: C2, regionCode: '420103' });
  await w.publish(
    VoucherStateChangedSchema,
    TOPICS.vouchersVoucher.name,
    settledAlready.voucherId,
    {
      voucherId: settledAlready.voucherId,
      holderPersonId: settledAlready.personId,
      fromState: VoucherState.USED,
      toState: VoucherState.SETTLED,
      institutionId: I1,
      changedAt: timestampFromDate(new Date(Date.now() + 1000)),
    },
    '/vtv/vouchers',
  );
  const unknown = { personId: uuidv7(), voucherId: uuidv7() };
  const clean = await trainee({ classId: C2, regionCode: '420103', faceValueFen: 100_000n });
  await w.settled();

  const created = await create(op1, C2, [
    elsewhere,
    failed,
    absent,
    { personId: absent.personId, voucherId: twiceVoucher },
    settledAlready,
    unknown,
    clean,
  ]);
  expect(created.errors).toEqual([]);
  app2 = created.application.id;
  const submitted = await submit(op1, app2);
  expect(submitted.application).toMatchObject({
    state: 'SUBMITTED',
    reviewMode: 'SINGLE',
    anomalyCount: 6,
    standardFen: '200000',
  });

  const flagged = await lines(reviewerA, app2, true);
  expect(flagged).toHaveLength(6);
  const codes = new Map(flagged.map((l) => [l.voucher.id, l.anomalies.map((a) => a.code)]));
  expect(codes.get(elsewhere.voucherId)).toEqual(['VOUCHER_NOT_USED_AT_INSTITUTION']);
  expect(codes.get(failed.voucherId)).toEqual(['TRAINEE_FAILED']);
  expect(codes.get(absent.voucherId)).toEqual(['LOW_ATTENDANCE', 'DUPLICATE_PERSON']);
  expect(codes.get(twiceVoucher)).toEqual(['LOW_ATTENDANCE', 'DUPLICATE_PERSON']);
  expect(codes.get(settledAlready.voucherId)).toEqual(['VOUCHER_ALREADY_SETTLED']);
  // Nobody knows the voucher or the trainee: no use, no completion result, no attendance.
  expect(codes.get(unknown.voucherId)).toEqual([
    'VOUCHER_NOT_USED_AT_INSTITUTION',
    'NO_COMPLETION_RESULT',
    'LOW_ATTENDANCE',
  ]);
  const low = flagged.find((l) => l.voucher.id === absent.voucherId)!;
  expect(low.anomalies[0]).toMatchObject({
    blocking: false,
    message: expect.stringContaining('70.00 % is below the threshold of 80.00 %'),
  });
  expect(low.evidence).toMatchObject({ attendanceRateBp: 7000, passed: true });
  expect(flagged.find((l) => l.voucher.id === elsewhere.voucherId)!.evidence).toMatchObject({
    voucherState: 'USED',
    usedAtInstitution: { id: I2 },
  });
  expect(flagged.find((l) => l.voucher.id === unknown.voucherId)!.evidence).toMatchObject({
    voucherState: 'UNKNOWN',
  });

  const id = (v: string) => flagged.find((l) => l.voucher.id === v)!.id;
  const undecided = await review(reviewerA, { applicationId: app2, decision: 'APPROVE' });
  expect(undecided.errors[0]).toMatchObject({ code: 'ANOMALY_UNDECIDED', field: 'lines' });
  const unpayable = await review(reviewerA, {
    applicationId: app2,
    decision: 'APPROVE',
    lines: [{ lineId: id(failed.voucherId), approve: true, reason: '补考通过' }],
  });
  expect(unpayable.errors[0].code).toBe('LINE_NOT_PAYABLE');

  const decided = await review(reviewerA, {
    applicationId: app2,
    decision: 'APPROVE',
    lines: [
      { lineId: id(elsewhere.voucherId), approve: false, reason: '培训券非本机构使用' },
      { lineId: id(failed.voucherId), approve: false, reason: '结业考核不合格' },
      { lineId: id(absent.voucherId), approve: true, reason: '病假已补课，出勤核实' },
      { lineId: id(twiceVoucher), approve: false, reason: '同一学员重复申报' },
      { lineId: id(settledAlready.voucherId), approve: false, reason: '培训券已核销' },
      { lineId: id(unknown.voucherId), approve: false, reason: '无用券记录' },
    ],
  });
  expect(decided.errors).toEqual([]);
  // Single review: straight to APPROVED; the low-attendance trainee and the clean one are paid.
  expect(decided.application).toMatchObject({
    state: 'APPROVED',
    approvedAmountFen: '200000',
    approvedLineCount: 2,
  });
  const all = await lines(reviewerA, app2);
  expect(all.find((l) => l.voucher.id === failed.voucherId)).toMatchObject({
    decision: 'EXCLUDED',
    decisionReason: '结业考核不合格',
    approvedAmountFen: '0',
  });
  expect(all.find((l) => l.voucher.id === clean.voucherId)).toMatchObject({
    decision: 'APPROVED',
    approvedAmountFen: '100000',
  });
});

it('returns a rejected application for correction and takes it back on resubmission', async () => {
  const x = await trainee({ classId: C2, regionCode: '420103' });
  const y = await trainee({ classId: C2, regionCode: '420103' });
  await w.settled();
  const app3 = (await create(op1, C2, [x, y])).application.id;
  await submit(op1, app3);

  const noReason = await review(reviewerA, { applicationId: app3, decision: 'REJECT' });
  expect(noReason.errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
  const rejected = await review(reviewerA, { applicationId: app3, decision: 'REJECT', reason: '缺少考勤表' });
  expect(rejected.application).toMatchObject({ state: 'REJECTED', rejectionReason: '缺少考勤表' });

  // Its vouchers are free while it is rejected: another application may take one…
  const app4 = await create(op1, C2, [x]);
  expect(app4.errors).toEqual([]);
  // …so resubmitting unchanged is refused until the operator corrects it.
  const resubmit = await submit(op1, app3);
  expect(resubmit.errors[0].code).toBe('VOUCHER_IN_ANOTHER_APPLICATION');
  const xLine = (await lines(op1, app3)).find((l) => l.voucher.id === x.voucherId)!;
  const removed = await w.gql(
    op1,
    `mutation ($input: RemoveSubsidyApplicationLinesInput!) { removeSubsidyApplicationLines(input: $input) ${PAYLOAD} }`,
    { input: { applicationId: app3, lineIds: [xLine.id] } },
  );
  expect(removed.body.data.removeSubsidyApplicationLines.errors).toEqual([]);
  expect(removed.body.data.removeSubsidyApplicationLines.application).toMatchObject({
    state: 'DRAFT',
    lineCount: 1,
  });
  const again = await submit(op1, app3);
  expect(again.errors).toEqual([]);
  expect(again.application).toMatchObject({
    state: 'SUBMITTED',
    rejectionReason: '缺少考勤表',
    lineCount: 1,
  });

  const history = await w.gql(
    reader,
    `query ($id: ID!) { subsidyApplication(id: $id) { history { action actorId reason } } }`,
    {
      id: app3,
    },
  );
  expect(history.body.data.subsidyApplication.history.map((h: { action: string }) => h.action)).toEqual([
    'CREATED',
    'SUBMITTED',
    'REJECTED',
    'REOPENED',
    'LINES_REMOVED',
    'SUBMITTED',
  ]);
  expect(history.body.data.subsidyApplication.history[2]).toMatchObject({
    actorId: reviewerA.id,
    reason: '缺少考勤表',
  });
});

it('pays approved applications once, refuses to overdraw the budget, and publishes the vouchers to settle', async () => {
  // Committed 510 000 + 200 000 against 600 000 allocated: the region is over-committed.
  const before = await w.gql(
    reader,
    `{ subsidyBudget(regionCode: "420100") { total { allocatedFen committedFen paidFen availableFen } } }`,
  );
  expect(before.body.data.subsidyBudget.total).toEqual({
    allocatedFen: '600000',
    committedFen: '710000',
    paidFen: '0',
    availableFen: '-110000',
  });

  expect((await disburse(reviewerA, app1, 'PAY-2025-0001')).errors[0].code).toBe('FORBIDDEN');
  expect(
    (await disburse(staff('410400', ['settlement:disburse']), app1, 'PAY-2025-0001')).errors[0].code,
  ).toBe('NOT_FOUND');
  expect((await disburse(payer, app1, 'bad reference!')).errors[0]).toMatchObject({
    code: 'BAD_USER_INPUT',
    field: 'paymentReference',
  });

  const paid1 = await disburse(payer, app1, 'PAY-2025-0001');
  expect(paid1.errors).toEqual([]);
  expect(paid1.disbursement).toMatchObject({
    amountFen: '510000',
    paymentReference: 'PAY-2025-0001',
    voucherCount: 3,
    budgetRegionCode: '420100',
    application: { id: app1, state: 'PAID' },
  });
  // Paying again: the same reference is the same payment; another reference is refused.
  expect((await disburse(payer, app1, 'PAY-2025-0001')).disbursement.id).toBe(paid1.disbursement.id);
  expect((await disburse(payer, app1, 'PAY-2025-0009')).errors[0].code).toBe('ALREADY_DISBURSED');

  // 90 000 remain unpaid of 600 000: paying 200 000 would overdraw.
  const overdraw = await disburse(payer, app2, 'PAY-2025-0002');
  expect(overdraw.disbursement).toBeNull();
  expect(overdraw.errors[0]).toMatchObject({ code: 'INSUFFICIENT_BUDGET' });
  expect(overdraw.errors[0].message).toMatch(
    /2000\.00 yuan would overdraw .* 420100: 900\.00 yuan of 6000\.00 allocated/,
  );

  expect((await allocate(admin, '420100', 200_000)).body.data.allocateSubsidyBudget.errors).toEqual([]);
  expect((await disburse(payer, app2, 'PAY-2025-0001')).errors[0].code).toBe('PAYMENT_REFERENCE_USED');
  const paid2 = await disburse(payer, app2, 'PAY-2025-0002');
  expect(paid2.disbursement).toMatchObject({ amountFen: '200000', voucherCount: 2 });

  // SubsidyDisbursed reaches Kafka once per payment with the approved vouchers.
  await eventually('two SubsidyDisbursed events', async () => disbursed.length >= 2);
  await new Promise((r) => setTimeout(r, 500));
  expect(disbursed).toHaveLength(2);
  const events = disbursed.map((e) => fromBinary(SubsidyDisbursedSchema, e.data));
  const e1 = events.find((e) => e.applicationId === app1)!;
  expect(e1).toMatchObject({
    disbursementId: paid1.disbursement.id,
    institutionId: I1,
    classId: C1,
    regionCode: '420102',
    budgetRegionCode: '420100',
    amountFen: 510_000n,
    paymentReference: 'PAY-2025-0001',
  });
  expect([...e1.voucherIds].sort()).toEqual([...app1Vouchers].sort());
  expect(disbursed.find((e) => e.subject === app1)!.key).toBe(app1);
  expect(events.find((e) => e.applicationId === app2)!.voucherIds).toHaveLength(2);

  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
});

it('reports paid, committed and remaining budget by region and institution, and applications by state', async () => {
  const report = await w.gql(
    reader,
    `{ subsidyBudget(regionCode: "420100") { regionCode trialBalanceFen
         total { allocatedFen committedFen paidFen availableFen }
         regions { regionCode allocatedFen committedFen paidFen availableFen } }
       subsidyTotalsByInstitution(regionCode: "420100") { edges { node { institution { id } committedFen paidFen } } }
       subsidyApplicationCounts(regionCode: "420100") { state count totalAmountFen } }`,
  );
  expect(report.body.errors).toBeUndefined();
  const d = report.body.data;
  expect(d.subsidyBudget).toEqual({
    regionCode: '420100',
    trialBalanceFen: '0',
    total: { allocatedFen: '800000', committedFen: '0', paidFen: '710000', availableFen: '90000' },
    regions: [
      {
        regionCode: '420100',
        allocatedFen: '800000',
        committedFen: '0',
        paidFen: '710000',
        availableFen: '90000',
      },
    ],
  });
  expect(d.subsidyTotalsByInstitution.edges).toEqual([
    { node: { institution: { id: I1 }, committedFen: '0', paidFen: '710000' } },
  ]);
  const counts = Object.fromEntries(
    d.subsidyApplicationCounts.map((c: { state: string; count: number }) => [c.state, c.count]),
  );
  expect(counts).toMatchObject({ PAID: 2, SUBMITTED: 1, DRAFT: 2 });

  // A district sees its own institutions' totals; Henan's staff cannot ask about Wuhan.
  const district = await w.gql(
    staff('420103', ['settlement:read']),
    `{ subsidyTotalsByInstitution(regionCode: "420103") { edges { node { paidFen } } } }`,
  );
  expect(district.body.data.subsidyTotalsByInstitution.edges).toEqual([{ node: { paidFen: '200000' } }]);
  const foreign = await w.gql(henan, `{ subsidyBudget(regionCode: "420100") { regionCode } }`);
  expect(foreign.body.errors[0].extensions.code).toBe('FORBIDDEN');

  // The class and the institution carry their applications in the graph.
  const entities = await w.gql(
    op1,
    `query ($reps: [_Any!]!) { _entities(representations: $reps) {
       ... on TrainingClass { ofClass: subsidyApplications { id state } }
       ... on Institution { ofInstitution: subsidyApplications(first: 10) { edges { node { id } } } } } }`,
    {
      reps: [
        { __typename: 'TrainingClass', id: C1 },
        { __typename: 'Institution', id: I1 },
      ],
    },
  );
  expect(entities.body.errors).toBeUndefined();
  expect(entities.body.data._entities[0].ofClass).toEqual(
    expect.arrayContaining([{ id: app1, state: 'PAID' }]),
  );
  expect(entities.body.data._entities[1].ofInstitution.edges.length).toBeGreaterThanOrEqual(5);
  const none = await w.gql(
    op2,
    `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Institution { subsidyApplications { edges { node { id } } } } } }`,
    {
      reps: [{ __typename: 'Institution', id: I1 }],
    },
  );
  expect(none.body.data._entities[0].subsidyApplications.edges).toEqual([]);
});

it('keeps the ledger and the audit trail append-only', async () => {
  const ds = w.running.deps.ds;
  await expect(ds.query('UPDATE journal_lines SET amount_fen = amount_fen + 1')).rejects.toThrow(
    /append-only/,
  );
  await expect(ds.query('DELETE FROM settlement_audit')).rejects.toThrow(/append-only/);
  // An entry that does not balance cannot be committed.
  const [account] = await ds.query(`SELECT id FROM ledger_accounts WHERE kind = 'PAID' LIMIT 1`);
  await expect(
    ds.transaction(async (m) => {
      const entry = uuidv7();
      await m.query(
        `INSERT INTO journal_entries (id, region_code, kind) VALUES ($1, '420100', 'ALLOCATION')`,
        [entry],
      );
      await m.query('INSERT INTO journal_lines (entry_id, account_id, amount_fen) VALUES ($1, $2, 100)', [
        entry,
        account.id,
      ]);
    }),
  ).rejects.toThrow(/does not balance/);
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
});

it('adds trainees in batches, re-reads late evidence on demand, and follows operator membership', async () => {
  const early = await trainee({ classId: C1, regionCode: '420102', passed: null }); // completion not yet recorded
  const later = await trainee({ classId: C1, regionCode: '420102' });
  await w.settled();
  const created = await create(op1, C1, [early]);
  const id = created.application.id as string;
  const added = await w.gql(
    op1,
    `mutation ($input: AddSubsidyApplicationLinesInput!) { addSubsidyApplicationLines(input: $input) ${PAYLOAD} }`,
    { input: { applicationId: id, lines: [later] } },
  );
  expect(added.body.data.addSubsidyApplicationLines.application).toMatchObject({
    state: 'DRAFT',
    lineCount: 2,
  });
  const tooMany = await w.gql(
    op1,
    `mutation ($input: AddSubsidyApplicationLinesInput!) { addSubsidyApplicationLines(input: $input) { errors { code field } } }`,
    {
      input: {
        applicationId: id,
        lines: Array.from({ length: 2001 }, () => ({ personId: uuidv7(), voucherId: uuidv7() })),
      },
    },
  );
  expect(tooMany.body.data.addSubsidyApplicationLines.errors).toEqual([
    { code: 'BAD_USER_INPUT', field: 'lines' },
  ]);
  const bad = await create(op1, C1, [{ personId: 'not-an-id', voucherId: uuidv7() }]);
  expect(bad.errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines.0.personId' });

  const submitted = await submit(op1, id);
  expect(submitted.application).toMatchObject({ state: 'SUBMITTED', anomalyCount: 1 });
  expect((await lines(reviewerA, id, true))[0]!.anomalies.map((a) => a.code)).toEqual([
    'NO_COMPLETION_RESULT',
  ]);
  // Trainees can no longer be changed once filed.
  const frozen = await w.gql(
    op1,
    `mutation ($input: AddSubsidyApplicationLinesInput!) { addSubsidyApplicationLines(input: $input) { errors { code } } }`,
    { input: { applicationId: id, lines: [{ personId: uuidv7(), voucherId: uuidv7() }] } },
  );
  expect(frozen.body.data.addSubsidyApplicationLines.errors[0].code).toBe('INVALID_STATE');

  // The completion result arrives; a reviewer re-reads the evidence and the flag is gone.
  const [enrollment] = await w.running.deps.ds.query(
    'SELECT enrollment_id FROM evidence_enrollments WHERE person_id = $1',
    [early.personId],
  );
  await w.publish(
    CompletionRecordedSchema,
    TOPICS.trainingEnrollment.name,
    C1,
    {
      enrollmentId: enrollment.enrollment_id,
      classId: C1,
      institutionId: I1,
      personId: early.personId,
      regionCode: '420102',
      passed: true,
      attendanceRateBp: 9100,
      recordedAt: timestampFromDate(new Date()),
    },
    '/vtv/training',
  );
  await w.settled();
  const reread = await w.gql(
    reviewerA,
    `mutation ($id: ID!) { reevaluateSubsidyApplication(id: $id) ${PAYLOAD} }`,
    { id },
  );
  expect(reread.body.data.reevaluateSubsidyApplication.application).toMatchObject({ anomalyCount: 0 });
  expect((await lines(reviewerA, id)).find((l) => l.trainee.id === early.personId)!.evidence).toMatchObject({
    passed: true,
    attendanceRateBp: 9100,
  });

  // A disabled operator (经办人) no longer sees or acts for the institution.
  await w.operator(I1, op1.id!, false);
  await w.settled();
  expect(
    (await w.gql(op1, `query ($id: ID!) { subsidyApplication(id: $id) { id } }`, { id })).body.data
      .subsidyApplication,
  ).toBeNull();
  expect((await create(op1, C1, [{ personId: uuidv7(), voucherId: uuidv7() }])).errors[0].code).toBe(
    'NOT_FOUND',
  );
  await w.operator(I1, op1.id!, true);
  await w.settled();
});
