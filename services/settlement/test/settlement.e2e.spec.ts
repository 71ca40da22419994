/**
 * Payment settles the vouchers across Kafka, through the gateway against real PostgreSQL, Kafka and Redis:
 * vouchers issues directed vouchers for an approved class and uses them on enrollment; settlement
 * projects that evidence, an operator applies, a reviewer approves, a payer disburses; vouchers consumes
 * SubsidyDisbursed and the vouchers become SETTLED (their codes dead), which settlement hears back.
 *
 * Training's facts (class approved, institution activated, operator, enrollment, attendance, completion)
 * are published as training's contract events, so the test exercises exactly the vouchers ⇄ settlement
 * contracts.
 */
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import {
  AttendanceRecordedSchema,
  ClassPlanApprovedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  InstitutionActivationChangedSchema,
  KafkaBus,
  OperatorMembershipChangedSchema,
  TOPICS,
  buildEvent,
} from '@vtv/events';
import { createLogger, uuidv7, type TokenIssuer } from '@vtv/kit';
import { infraEnv, uniqueName } from '@vtv/testing';
import request from 'supertest';
import type { Stack } from '../../../scripts/lib/stack';
import { startTestStack } from '../../../test/support/stack';

jest.setTimeout(180_000);

const TYPE = '岗位技能提升培训';
const namespace = uniqueName('settle_e2e');
let stack: Stack;
let tokens: TokenIssuer;
let producer: KafkaBus;

beforeAll(async () => {
  const infra = infraEnv();
  stack = await startTestStack(namespace);
  tokens = (stack.services.identity!.services as { tokens: TokenIssuer }).tokens;
  producer = new KafkaBus({
    brokers: infra.KAFKA_BROKERS.split(','),
    clientId: `${namespace}-training`,
    logger: createLogger('settlement-e2e', 'silent'),
    namespace,
  });
});

afterAll(async () => {
  await producer?.close();
  await stack?.stop();
});

async function gql(token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const req = request(stack.gateway.app).post('/graphql').set('content-type', 'application/json');
  if (token) req.set('authorization', `Bearer ${token}`);
  const res = await req.send({ query, variables });
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function training<D extends DescMessage>(schema: D, topic: string, key: string, data: MessageInitShape<D>) {
  return producer.publish([buildEvent({ schema, topic, subject: key, source: '/vtv/training', data })]);
}

test('a disbursement settles its vouchers in the vouchers subgraph across Kafka', async () => {
  const staff = (regionCode: string, permissions: string[]) =>
    tokens.issue({ kind: 'staff', id: uuidv7(), regionCode, permissions });
  const bureau = await staff('420100', [
    'vouchers:rules:write',
    'vouchers:issue',
    'vouchers:read',
    'settlement:read',
    'settlement:standards:write',
    'settlement:budget:write',
  ]);
  const reviewer = await staff('420100', ['settlement:review']);
  const payer = await staff('420100', ['settlement:disburse']);
  const operatorId = uuidv7();
  const operator = await tokens.issue({ kind: 'person', id: operatorId, permissions: [] });

  const institutionId = uuidv7();
  const classId = uuidv7();
  const roster = [uuidv7(), uuidv7()];
  const now = timestampFromDate(new Date());
  await training(InstitutionActivationChangedSchema, TOPICS.trainingInstitution.name, institutionId, {
    institutionId,
    regionCode: '420102',
    active: true,
    changedAt: now,
  });
  await training(OperatorMembershipChangedSchema, TOPICS.trainingInstitution.name, institutionId, {
    institutionId,
    operatorPersonId: operatorId,
    enabled: true,
    main: true,
    changedAt: now,
  });
  await training(ClassPlanApprovedSchema, TOPICS.trainingClass.name, classId, {
    classId,
    institutionId,
    regionCode: '420102',
    name: '电工（四级）培训班',
    occupation: '电工',
    trainingType: TYPE,
    level: '四级',
    headcount: 30,
    startDate: '2099-03-01',
    endDate: '2099-03-20',
    rosterPersonIds: roster,
    approvedAt: now,
    approvedBy: uuidv7(),
  });

  // Vouchers: a face value of 1,500.00 yuan, no review, one directed voucher per trainee.
  const rule = await gql(
    bureau,
    `mutation($i: SetFaceValueRuleInput!) { setFaceValueRule(input: $i) { errors { code message } } }`,
    {
      i: { regionCode: '420100', trainingType: TYPE, functionMode: 'FACE_VALUE', subsidyAmountFen: 150_000 },
    },
  );
  expect(rule.setFaceValueRule.errors).toEqual([]);
  const issuance = await gql(
    bureau,
    `mutation($i: SetIssuanceRuleInput!) { setVoucherIssuanceRule(input: $i) { errors { code message } } }`,
    { i: { regionCode: '420100', reviewMode: 'NONE', flow: 'MANUAL' } },
  );
  expect(issuance.setVoucherIssuanceRule.errors).toEqual([]);
  await eventually('the class awaiting issuance', async () => {
    const d = await gql(
      bureau,
      `{ classesAwaitingIssuance(first: 100) { edges { node { trainingClass { id } } } } }`,
    );
    return d.classesAwaitingIssuance.edges.some(
      (e: { node: { trainingClass: { id: string } } }) => e.node.trainingClass.id === classId,
    );
  });
  const batch = await gql(
    bureau,
    `mutation($i: CreateVoucherBatchInput!) { createVoucherBatch(input: $i) { batch { id } errors { code message } } }`,
    { i: { classId } },
  );
  expect(batch.createVoucherBatch.errors).toEqual([]);
  const batchId = batch.createVoucherBatch.batch.id;
  const submitted = await gql(
    bureau,
    `mutation($id: ID!) { submitVoucherBatch(id: $id) { batch { state } errors { code message } } }`,
    { id: batchId },
  );
  expect(submitted.submitVoucherBatch).toEqual({ batch: { state: 'APPROVED' }, errors: [] });
  const issued = await gql(
    bureau,
    `mutation($id: ID!) { issueVoucherBatch(id: $id) { batch { state issuedCount } errors { code message } } }`,
    { id: batchId },
  );
  expect(issued.issueVoucherBatch).toEqual({ batch: { state: 'ISSUED', issuedCount: 2 }, errors: [] });
  const vouchersDb = stack.services.vouchers!.deps.ds;
  const held: { id: string; holder_person_id: string }[] = await vouchersDb.query(
    'SELECT id, holder_person_id FROM vouchers WHERE class_id = $1 ORDER BY id',
    [classId],
  );
  expect(held).toHaveLength(2);

  // Training: both enroll (vouchers uses their vouchers), attend and pass.
  for (const personId of roster) {
    const enrollmentId = uuidv7();
    const common = { enrollmentId, classId, personId };
    await training(EnrollmentCreatedSchema, TOPICS.trainingEnrollment.name, classId, {
      ...common,
      institutionId,
      regionCode: '420102',
      occupation: '电工',
      trainingType: TYPE,
      enrolledAt: timestampFromDate(new Date()),
    });
    await training(AttendanceRecordedSchema, TOPICS.trainingEnrollment.name, classId, {
      ...common,
      sessionId: uuidv7(),
      attendanceRateBp: 9500,
      checkedInAt: timestampFromDate(new Date()),
    });
    await training(CompletionRecordedSchema, TOPICS.trainingEnrollment.name, classId, {
      ...common,
      institutionId,
      regionCode: '420102',
      passed: true,
      attendanceRateBp: 9500,
      reviewerId: uuidv7(),
      recordedAt: timestampFromDate(new Date()),
    });
  }
  const settlementDb = stack.services.settlement!.deps.ds;
  await eventually('settlement to see both vouchers USED at the institution', async () => {
    const rows: { n: number }[] = await settlementDb.query(
      `SELECT count(*)::int AS n FROM evidence_vouchers
        WHERE class_id = $1 AND institution_id = $2 AND state = 'USED'`,
      [classId, institutionId],
    );
    return rows[0]!.n === 2;
  });
  await eventually('settlement to see both completions', async () => {
    const rows: { n: number }[] = await settlementDb.query(
      'SELECT count(*)::int AS n FROM evidence_enrollments WHERE class_id = $1 AND passed',
      [classId],
    );
    return rows[0]!.n === 2;
  });

  // Settlement: standard 1,800.00 yuan, a budget, the operator's application, one review, payment.
  const std = await gql(
    bureau,
    `mutation { setSubsidyStandard(input: { regionCode: "420100", trainingType: "${TYPE}", amountFen: "180000" }) { errors { code } } }`,
  );
  expect(std.setSubsidyStandard.errors).toEqual([]);
  const budget = await gql(
    bureau,
    `mutation { allocateSubsidyBudget(input: { regionCode: "420100", amountFen: "10000000" }) { errors { code } } }`,
  );
  expect(budget.allocateSubsidyBudget.errors).toEqual([]);
  const created = await gql(
    operator,
    `mutation($input: CreateSubsidyApplicationInput!) { createSubsidyApplication(input: $input) {
       application { id } errors { code message } } }`,
    { input: { classId, lines: held.map((v) => ({ personId: v.holder_person_id, voucherId: v.id })) } },
  );
  expect(created.createSubsidyApplication.errors).toEqual([]);
  const applicationId = created.createSubsidyApplication.application.id;
  const filed = await gql(
    operator,
    `mutation($id: ID!) { submitSubsidyApplication(id: $id) { application { state anomalyCount totalAmountFen } errors { code } } }`,
    { id: applicationId },
  );
  // Face value 1,500.00 < standard 1,800.00: each trainee earns 1,500.00.
  expect(filed.submitSubsidyApplication).toEqual({
    application: { state: 'SUBMITTED', anomalyCount: 0, totalAmountFen: '300000' },
    errors: [],
  });
  const approved = await gql(
    reviewer,
    `mutation($id: ID!) { reviewSubsidyApplication(input: { applicationId: $id, decision: APPROVE }) {
       application { state approvedAmountFen } errors { code message } } }`,
    { id: applicationId },
  );
  expect(approved.reviewSubsidyApplication).toEqual({
    application: { state: 'APPROVED', approvedAmountFen: '300000' },
    errors: [],
  });
  const paid = await gql(
    payer,
    `mutation($id: ID!) { disburseSubsidy(input: { applicationId: $id, paymentReference: "TREASURY-E2E-0001" }) {
       disbursement { id voucherCount application { state } } errors { code message } } }`,
    { id: applicationId },
  );
  expect(paid.disburseSubsidy).toMatchObject({
    disbursement: { voucherCount: 2, application: { state: 'PAID' } },
    errors: [],
  });

  // Vouchers settles them (核销); its own events tell settlement they are SETTLED.
  await eventually('vouchers to settle both vouchers', async () => {
    const rows: { state: string }[] = await vouchersDb.query(
      'SELECT state FROM vouchers WHERE class_id = $1',
      [classId],
    );
    return rows.length === 2 && rows.every((r) => r.state === 'SETTLED');
  });
  const seen = await gql(bureau, `query($id: ID!) { voucher(id: $id) { state } }`, { id: held[0]!.id });
  expect(seen.voucher).toEqual({ state: 'SETTLED' });
  await eventually('settlement to hear the vouchers are SETTLED', async () => {
    const rows: { n: number }[] = await settlementDb.query(
      `SELECT count(*)::int AS n FROM evidence_vouchers WHERE class_id = $1 AND state = 'SETTLED'`,
      [classId],
    );
    return rows[0]!.n === 2;
  });
  // Exactly one SubsidyDisbursed reached vouchers' inbox.
  const inbox: { n: number }[] = await vouchersDb.query(
    `SELECT count(*)::int AS n FROM inbox WHERE event_type = 'vtv.settlement.v1.SubsidyDisbursed'`,
  );
  expect(inbox[0]!.n).toBe(1);
});
