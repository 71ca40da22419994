/**
 * Rules inherited down the region tree (with their explanation), directed batches from approved classes,
 * the three review paths, the AUTO flow from training's events, supplementary issuance and invalidation —
 * against real PostgreSQL, Redis and Kafka.
 */
import { ClassPlanApprovedSchema, RosterChangedSchema, TOPICS } from '@vtv/events';
import { uuidv7 } from '@vtv/kit';
import { event, eventually, person, staff, startHarness, ts, type Harness } from './harness';

jest.setTimeout(90_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness('vissue');
});
afterAll(async () => {
  await h?.stop();
});

const HUBEI_RULES = staff('420000', ['vouchers:rules:write', 'vouchers:read']);
const WUHAN_RULES = staff('420100', ['vouchers:rules:write', 'vouchers:read']);
const WUHAN = staff('420100', [
  'vouchers:issue',
  'vouchers:read',
  'vouchers:invalidate',
  'vouchers:rules:write',
]);
const REVIEWER_1 = staff('420100', ['vouchers:review', 'vouchers:read']);
const REVIEWER_2 = staff('420000', ['vouchers:review', 'vouchers:read']);
const PINGDINGSHAN = staff('410400', [
  'vouchers:issue',
  'vouchers:read',
  'vouchers:rules:write',
  'vouchers:review',
]);

const TYPE = '岗位技能提升培训';

const FACE_RULE = `query($r: ID!, $t: String!, $d: String) { voucherFaceValueRule(regionCode: $r, trainingType: $t, date: $d) {
  regionCode functionMode subsidyAmountFen certificateLevel eligiblePopulation
  explanation { field value regionCode inherited isDefault } } }`;
const ISSUANCE_RULE = `query($r: ID!) { voucherIssuanceRule(regionCode: $r) {
  reviewMode flow validityEnd explanation { field value regionCode inherited isDefault } } }`;
const SET_FACE = `mutation($i: SetFaceValueRuleInput!) { setFaceValueRule(input: $i) { rule { id } errors { code field message } } }`;
const SET_ISSUANCE = `mutation($i: SetIssuanceRuleInput!) { setVoucherIssuanceRule(input: $i) {
  rule { reviewMode flow } errors { code field message } } }`;
const BATCH_FIELDS = `id state quantity issuedCount faceValueFen functionMode certificateLevel reviewMode flow validUntil
  rejectionReason firstReviewerId secondReviewerId nationalTemplateCode name`;
const CREATE = `mutation($i: CreateVoucherBatchInput!) { createVoucherBatch(input: $i) { batch { ${BATCH_FIELDS} } errors { code field message } } }`;
const op = (name: string, args = '$id: ID!', call = 'id: $id') =>
  `mutation(${args}) { ${name}(${call}) { batch { ${BATCH_FIELDS} } errors { code field message } } }`;
const SUBMIT = op('submitVoucherBatch');
const APPROVE = op('approveVoucherBatch');
const REJECT = op('rejectVoucherBatch', '$id: ID!, $reason: String!', 'id: $id, reason: $reason');
const ISSUE = op('issueVoucherBatch');
const SUPPLEMENT = op('issueSupplementaryVouchers');
const INVALIDATE_BATCH = op(
  'invalidateVoucherBatch',
  '$id: ID!, $reason: String!',
  'id: $id, reason: $reason',
);

function face(field: string, explanation: { field: string }[]) {
  return explanation.find((e) => e.field === field);
}

async function setIssuance(caller = WUHAN_RULES, input: Record<string, unknown>) {
  const res = await h.gql(caller, SET_ISSUANCE, { i: input }).expect(200);
  expect(res.body.data.setVoucherIssuanceRule.errors).toEqual([]);
}

/** Training approving a plan: the event vouchers consumes. */
async function approveClass(
  regionCode: string,
  roster: string[],
  extra: { startDate?: string; endDate?: string } = {},
) {
  const classId = uuidv7();
  const institutionId = uuidv7();
  await h.publish(
    event(ClassPlanApprovedSchema, TOPICS.trainingClass.name, classId, {
      classId,
      institutionId,
      regionCode,
      name: `电工（四级）培训班 ${regionCode}`,
      occupation: '电工',
      trainingType: TYPE,
      level: '四级',
      headcount: 30,
      startDate: extra.startDate ?? '2099-03-01',
      endDate: extra.endDate ?? '2099-03-20',
      rosterPersonIds: roster,
      approvedAt: ts(new Date()),
      approvedBy: uuidv7(),
    }),
  );
  return { classId, institutionId };
}

async function known(classId: string) {
  return eventually(async () => ((await h.services.batches.isAwaiting(classId)) ? true : undefined));
}

async function vouchersOfClass(classId: string) {
  return h.sql<{ id: string; holder_person_id: string; state: string; end_reason: string | null }>(
    'SELECT id, holder_person_id, state, end_reason FROM vouchers WHERE class_id = $1 ORDER BY id',
    [classId],
  );
}

describe('rules inherited down the region tree', () => {
  it('resolves each field from the nearest region that sets it and says where it came from', async () => {
    let res = await h
      .gql(HUBEI_RULES, SET_FACE, {
        i: {
          regionCode: '420000',
          trainingType: TYPE,
          functionMode: 'FACE_VALUE',
          subsidyAmountFen: 150_000,
          certificateLevel: '四级',
          eligiblePopulation: '企业职工',
        },
      })
      .expect(200);
    expect(res.body.data.setFaceValueRule.errors).toEqual([]);
    res = await h
      .gql(WUHAN_RULES, SET_FACE, {
        i: { regionCode: '420100', trainingType: TYPE, certificateLevel: '三级' },
      })
      .expect(200);
    expect(res.body.data.setFaceValueRule.errors).toEqual([]);

    // 经开(汉南)区 sets nothing: the amount comes from the province, the level from Wuhan.
    res = await h.gql(WUHAN, FACE_RULE, { r: '420113', t: TYPE }).expect(200);
    const rule = res.body.data.voucherFaceValueRule;
    expect(rule).toMatchObject({
      regionCode: '420113',
      functionMode: 'FACE_VALUE',
      subsidyAmountFen: 150_000,
      certificateLevel: '三级',
      eligiblePopulation: '企业职工',
    });
    expect(face('subsidyAmountFen', rule.explanation)).toEqual({
      field: 'subsidyAmountFen',
      value: '150000',
      regionCode: '420000',
      inherited: true,
      isDefault: false,
    });
    expect(face('certificateLevel', rule.explanation)).toMatchObject({
      regionCode: '420100',
      inherited: true,
    });
    expect(face('remark', rule.explanation)).toMatchObject({
      regionCode: null,
      value: null,
      isDefault: false,
    });

    // At Wuhan itself the level is its own, not inherited.
    res = await h.gql(WUHAN, FACE_RULE, { r: '420100', t: TYPE }).expect(200);
    expect(face('certificateLevel', res.body.data.voucherFaceValueRule.explanation)).toMatchObject({
      regionCode: '420100',
      inherited: false,
    });

    // 仙桃 (省直辖) inherits through 429000 from the province.
    res = await h.gql(HUBEI_RULES, FACE_RULE, { r: '429004', t: TYPE }).expect(200);
    expect(res.body.data.voucherFaceValueRule).toMatchObject({
      subsidyAmountFen: 150_000,
      certificateLevel: '四级',
    });

    // A rule outside its own validity window is skipped: the parent's applies.
    res = await h
      .gql(WUHAN_RULES, SET_FACE, {
        i: {
          regionCode: '420171',
          trainingType: TYPE,
          subsidyAmountFen: 90_000,
          validFrom: '2021-01-01',
          validTo: '2021-12-31',
        },
      })
      .expect(200);
    expect(res.body.data.setFaceValueRule.errors).toEqual([]);
    res = await h.gql(WUHAN, FACE_RULE, { r: '420171', t: TYPE, d: '2021-06-01' }).expect(200);
    expect(res.body.data.voucherFaceValueRule.subsidyAmountFen).toBe(90_000);
    res = await h.gql(WUHAN, FACE_RULE, { r: '420171', t: TYPE, d: '2022-06-01' }).expect(200);
    expect(res.body.data.voucherFaceValueRule.subsidyAmountFen).toBe(150_000);
  });

  it('inherits the issuance rule field by field, with platform defaults where nobody sets one', async () => {
    await setIssuance(HUBEI_RULES, { regionCode: '420000', reviewMode: 'TWO_LEVEL' });
    await setIssuance(WUHAN_RULES, { regionCode: '420100', validityEnd: 'CLASS_START_DATE' });
    const res = await h.gql(WUHAN, ISSUANCE_RULE, { r: '420115' }).expect(200);
    const rule = res.body.data.voucherIssuanceRule;
    expect(rule).toMatchObject({ reviewMode: 'TWO_LEVEL', flow: 'MANUAL', validityEnd: 'CLASS_START_DATE' });
    expect(rule.explanation).toEqual([
      { field: 'reviewMode', value: 'TWO_LEVEL', regionCode: '420000', inherited: true, isDefault: false },
      { field: 'flow', value: 'MANUAL', regionCode: null, inherited: false, isDefault: true },
      {
        field: 'validityEnd',
        value: 'CLASS_START_DATE',
        regionCode: '420100',
        inherited: true,
        isDefault: false,
      },
    ]);
  });

  it('keeps staff inside their subtree and refuses bad input with the field named', async () => {
    let res = await h
      .gql(PINGDINGSHAN, SET_ISSUANCE, { i: { regionCode: '420100', flow: 'AUTO' } })
      .expect(200);
    expect(res.body.data.setVoucherIssuanceRule.errors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);
    res = await h
      .gql(WUHAN_RULES, SET_FACE, {
        i: { regionCode: '420102', trainingType: TYPE, subsidyAmountFen: -5 },
      })
      .expect(200);
    expect(res.body.data.setFaceValueRule.errors).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'subsidyAmountFen' }),
    ]);
    res = await h.gql(PINGDINGSHAN, ISSUANCE_RULE, { r: '420102' }).expect(200);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('directed vouchers (定向券)', () => {
  beforeAll(async () => {
    // Per-district rules under Wuhan: the review paths and flows the tests below need.
    await setIssuance(WUHAN_RULES, { regionCode: '420102', reviewMode: 'NONE', flow: 'MANUAL' });
    await setIssuance(WUHAN_RULES, { regionCode: '420103', reviewMode: 'SINGLE' });
    await setIssuance(WUHAN_RULES, { regionCode: '420104', reviewMode: 'TWO_LEVEL' });
    await setIssuance(WUHAN_RULES, { regionCode: '420105', reviewMode: 'NONE', flow: 'AUTO' });
    await setIssuance(WUHAN_RULES, { regionCode: '420106', reviewMode: 'SINGLE', flow: 'AUTO' });
  });

  it('no review: the class awaits issuance, the batch takes its defaults, one voucher per roster member', async () => {
    const roster = [uuidv7(), uuidv7(), uuidv7()];
    const { classId } = await approveClass('420102', roster);
    await known(classId);
    const listed = await h
      .gql(
        WUHAN,
        `{ classesAwaitingIssuance(first: 100) { edges { node { rosterSize regionCode trainingClass { id } batch { id } } } } }`,
      )
      .expect(200);
    expect(
      listed.body.data.classesAwaitingIssuance.edges.map((e: { node: unknown }) => e.node),
    ).toContainEqual({
      rosterSize: 3,
      regionCode: '420102',
      trainingClass: { id: classId },
      batch: null,
    });

    let res = await h
      .gql(WUHAN, CREATE, {
        i: { classId, nationalTemplateCode: 'MOHRSS-2021-0001', nationalTemplateName: '岗位技能提升培训券' },
      })
      .expect(200);
    expect(res.body.data.createVoucherBatch.errors).toEqual([]);
    const batch = res.body.data.createVoucherBatch.batch;
    expect(batch).toMatchObject({
      state: 'DRAFT',
      quantity: 3,
      faceValueFen: 150_000,
      functionMode: 'FACE_VALUE',
      certificateLevel: '三级',
      reviewMode: 'NONE',
      flow: 'MANUAL',
      name: '电工（四级）培训班 420102',
      nationalTemplateCode: 'MOHRSS-2021-0001',
      // Wuhan's rule: valid until the class start date (end of that day, China time).
      validUntil: '2099-03-01T16:00:00.000Z',
    });
    // One live batch per class.
    res = await h.gql(WUHAN, CREATE, { i: { classId } }).expect(200);
    expect(res.body.data.createVoucherBatch.errors).toEqual([expect.objectContaining({ code: 'CONFLICT' })]);

    res = await h.gql(WUHAN, SUBMIT, { id: batch.id }).expect(200);
    expect(res.body.data.submitVoucherBatch.batch.state).toBe('APPROVED');
    res = await h.gql(WUHAN, ISSUE, { id: batch.id }, `issue-${batch.id}`).expect(200);
    expect(res.body.data.issueVoucherBatch.batch).toMatchObject({ state: 'ISSUED', issuedCount: 3 });
    // The same key again: the stored result, not a second issue.
    res = await h.gql(WUHAN, ISSUE, { id: batch.id }, `issue-${batch.id}`).expect(200);
    expect(res.body.data.issueVoucherBatch.batch).toMatchObject({ state: 'ISSUED', issuedCount: 3 });

    const vouchers = await vouchersOfClass(classId);
    expect(vouchers.map((v) => v.holder_person_id).sort()).toEqual([...roster].sort());
    expect(vouchers.every((v) => v.state === 'HELD')).toBe(true);
    const digests = await h.sql<{ n: number }>(
      'SELECT count(DISTINCT code_digest)::int AS n FROM vouchers WHERE class_id = $1',
      [classId],
    );
    expect(digests[0]!.n).toBe(3);
    expect(await h.services.batches.isAwaiting(classId)).toBe(false);

    // The holder sees it in the wallet without claiming it (Art. 13).
    const holder = person(roster[0]);
    const wallet = await h
      .gql(
        holder,
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person {
          vouchers { kind state faceValueFen codeHint } voucherWallet { held { id } used { id } noLongerValid { id } } } } }`,
        {
          r: [{ __typename: 'Person', id: roster[0] }],
        },
      )
      .expect(200);
    expect(wallet.body.data._entities[0].vouchers).toEqual([
      {
        kind: 'DIRECTED',
        state: 'HELD',
        faceValueFen: 150_000,
        codeHint: expect.stringMatching(/^\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}$/),
      },
    ]);
    expect(wallet.body.data._entities[0].voucherWallet.held).toHaveLength(1);

    // Supplementary issuance (追加发券): two join, one leaves after issuance.
    const added = [uuidv7(), uuidv7()];
    await h.publish(
      event(RosterChangedSchema, TOPICS.trainingClass.name, classId, {
        classId,
        institutionId: uuidv7(),
        regionCode: '420102',
        addedPersonIds: added,
        removedPersonIds: [roster[2]!],
        changedAt: ts(new Date()),
      }),
    );
    const waiting = await eventually(async () => {
      const b = await h.services.deps.repos.batches.byId(batch.id);
      return b?.state === 'AWAITING_SUPPLEMENT' ? b : undefined;
    });
    expect(waiting.quantity).toBe(4);
    const removed = (await vouchersOfClass(classId)).find((v) => v.holder_person_id === roster[2]);
    expect(removed).toMatchObject({ state: 'INVALIDATED', end_reason: 'removed from the class roster' });
    res = await h.gql(WUHAN, SUPPLEMENT, { id: batch.id }).expect(200);
    expect(res.body.data.issueSupplementaryVouchers.batch).toMatchObject({ state: 'ISSUED', issuedCount: 5 });
    const after = await vouchersOfClass(classId);
    expect(after.filter((v) => added.includes(v.holder_person_id)).map((v) => v.state)).toEqual([
      'HELD',
      'HELD',
    ]);
    res = await h.gql(WUHAN, SUPPLEMENT, { id: batch.id }).expect(200);
    expect(res.body.data.issueSupplementaryVouchers.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
  });

  it('single review: rejection returns the batch to draft with its reason; approval lets it issue', async () => {
    const { classId } = await approveClass('420103', [uuidv7(), uuidv7()]);
    await known(classId);
    let res = await h
      .gql(WUHAN, CREATE, { i: { classId, faceValueFen: 80_000, name: '焊工班' } })
      .expect(200);
    const id = res.body.data.createVoucherBatch.batch.id;
    expect(res.body.data.createVoucherBatch.batch).toMatchObject({
      faceValueFen: 80_000,
      reviewMode: 'SINGLE',
    });
    res = await h.gql(WUHAN, SUBMIT, { id }).expect(200);
    expect(res.body.data.submitVoucherBatch.batch.state).toBe('PENDING_REVIEW');

    // Issuing before review, reviewing without the permission: refused.
    res = await h.gql(WUHAN, ISSUE, { id }).expect(200);
    expect(res.body.data.issueVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
    res = await h.gql(WUHAN, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    res = await h.gql(PINGDINGSHAN, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);

    res = await h.gql(REVIEWER_1, REJECT, { id, reason: '面值超出标准' }).expect(200);
    expect(res.body.data.rejectVoucherBatch.batch).toMatchObject({
      state: 'DRAFT',
      rejectionReason: '面值超出标准',
    });
    res = await h.gql(WUHAN, SUBMIT, { id }).expect(200);
    expect(res.body.data.submitVoucherBatch.batch).toMatchObject({
      state: 'PENDING_REVIEW',
      rejectionReason: null,
    });
    res = await h.gql(REVIEWER_1, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.batch).toMatchObject({
      state: 'APPROVED',
      firstReviewerId: REVIEWER_1.id,
    });
    res = await h.gql(REVIEWER_1, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
    res = await h.gql(WUHAN, ISSUE, { id }).expect(200);
    expect(res.body.data.issueVoucherBatch.batch).toMatchObject({ state: 'ISSUED', issuedCount: 2 });

    const history = await h
      .gql(
        WUHAN,
        `query($id: ID!) { voucherBatch(id: $id) { history { fromState toState actorId reason } } }`,
        { id },
      )
      .expect(200);
    expect(history.body.data.voucherBatch.history.map((t: { toState: string }) => t.toState)).toEqual([
      'DRAFT',
      'PENDING_REVIEW',
      'DRAFT',
      'PENDING_REVIEW',
      'APPROVED',
      'ISSUED',
    ]);
    expect(history.body.data.voucherBatch.history[2]).toMatchObject({
      actorId: REVIEWER_1.id,
      reason: '面值超出标准',
    });
  });

  it('two-level review: first and second review by two different people; the same reviewer twice is refused', async () => {
    const { classId } = await approveClass('420104', [uuidv7()]);
    await known(classId);
    let res = await h.gql(WUHAN, CREATE, { i: { classId } }).expect(200);
    const id = res.body.data.createVoucherBatch.batch.id;
    res = await h.gql(WUHAN, SUBMIT, { id }).expect(200);
    expect(res.body.data.submitVoucherBatch.batch.state).toBe('PENDING_FIRST_REVIEW');
    res = await h.gql(REVIEWER_1, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.batch).toMatchObject({
      state: 'PENDING_SECOND_REVIEW',
      firstReviewerId: REVIEWER_1.id,
    });
    res = await h.gql(REVIEWER_1, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch).toEqual({
      batch: null,
      errors: [expect.objectContaining({ code: 'SAME_REVIEWER' })],
    });
    res = await h.gql(REVIEWER_2, APPROVE, { id }).expect(200);
    expect(res.body.data.approveVoucherBatch.batch).toMatchObject({
      state: 'APPROVED',
      firstReviewerId: REVIEWER_1.id,
      secondReviewerId: REVIEWER_2.id,
    });
    // The database refuses the same person twice, whatever the code above does.
    await expect(
      h.sql(`UPDATE voucher_batches SET second_reviewer_id = first_reviewer_id WHERE id = $1`, [id]),
    ).rejects.toThrow(/check constraint/);
  });

  it('AUTO flow without review: approving the class plan issues the vouchers, no click', async () => {
    const roster = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
    const { classId } = await approveClass('420105', roster);
    const vouchers = await eventually(async () => {
      const rows = await vouchersOfClass(classId);
      return rows.length === 4 ? rows : undefined;
    });
    expect(vouchers.every((v) => v.state === 'HELD')).toBe(true);
    const batch = await h.services.batches.liveForClass(classId);
    expect(batch).toMatchObject({
      state: 'ISSUED',
      flow: 'AUTO',
      reviewMode: 'NONE',
      createdBy: 'vouchers',
      issuedCount: 4,
    });
    // Published: one VoucherIssued per voucher, in the outbox with the change.
    const issued = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE type = 'vtv.vouchers.v1.VoucherIssued' AND key = ANY($1::text[])`,
      [vouchers.map((v) => v.id)],
    );
    expect(issued[0]!.n).toBe(4);
    const transitions = await h.sql<{ actor_kind: string; to_state: string }>(
      'SELECT actor_kind, to_state FROM voucher_transitions WHERE voucher_id = $1',
      [vouchers[0]!.id],
    );
    expect(transitions).toEqual([{ actor_kind: 'SYSTEM', to_state: 'HELD' }]);

    // AUTO supplement: a new roster member gets a voucher at once.
    const late = uuidv7();
    await h.publish(
      event(RosterChangedSchema, TOPICS.trainingClass.name, classId, {
        classId,
        regionCode: '420105',
        addedPersonIds: [late],
        changedAt: ts(new Date()),
      }),
    );
    await eventually(async () =>
      (await vouchersOfClass(classId)).some((v) => v.holder_person_id === late) ? true : undefined,
    );
    expect((await h.services.batches.liveForClass(classId))?.state).toBe('ISSUED');
  });

  it('AUTO flow with review: the batch waits for its reviewer, then issues itself', async () => {
    const { classId } = await approveClass('420106', [uuidv7(), uuidv7()]);
    const batch = await eventually(async () => (await h.services.batches.liveForClass(classId)) ?? undefined);
    expect(batch.state).toBe('PENDING_REVIEW');
    expect(await vouchersOfClass(classId)).toEqual([]);
    const res = await h.gql(REVIEWER_1, APPROVE, { id: batch.id }).expect(200);
    expect(res.body.data.approveVoucherBatch.batch).toMatchObject({ state: 'ISSUED', issuedCount: 2 });
    expect(await vouchersOfClass(classId)).toHaveLength(2);
  });

  it('invalidates one voucher or a whole batch, with the reason, irreversibly', async () => {
    const roster = [uuidv7(), uuidv7(), uuidv7()];
    const { classId } = await approveClass('420105', roster);
    const vouchers = await eventually(async () => {
      const rows = await vouchersOfClass(classId);
      return rows.length === 3 ? rows : undefined;
    });
    const INVALIDATE = `mutation($id: ID!, $reason: String!) { invalidateVoucher(id: $id, reason: $reason) {
      voucher { state endReason history { fromState toState actorKind actorId reason } } errors { code } } }`;
    let res = await h.gql(WUHAN, INVALIDATE, { id: vouchers[0]!.id, reason: '学员信息有误' }).expect(200);
    expect(res.body.data.invalidateVoucher.voucher).toMatchObject({
      state: 'INVALIDATED',
      endReason: '学员信息有误',
    });
    expect(res.body.data.invalidateVoucher.voucher.history.at(-1)).toEqual({
      fromState: 'HELD',
      toState: 'INVALIDATED',
      actorKind: 'STAFF',
      actorId: WUHAN.id,
      reason: '学员信息有误',
    });
    res = await h.gql(WUHAN, INVALIDATE, { id: vouchers[0]!.id, reason: 'again' }).expect(200);
    expect(res.body.data.invalidateVoucher.errors).toEqual([{ code: 'INVALID_STATE' }]);
    res = await h.gql(REVIEWER_1, INVALIDATE, { id: vouchers[1]!.id, reason: 'no permission' }).expect(200);
    expect(res.body.data.invalidateVoucher.errors).toEqual([{ code: 'FORBIDDEN' }]);

    const batch = (await h.services.batches.liveForClass(classId))!;
    res = await h.gql(WUHAN, INVALIDATE_BATCH, { id: batch.id, reason: '培训班取消' }).expect(200);
    expect(res.body.data.invalidateVoucherBatch.batch.state).toBe('INVALIDATED');
    expect((await vouchersOfClass(classId)).map((v) => v.state)).toEqual([
      'INVALIDATED',
      'INVALIDATED',
      'INVALIDATED',
    ]);
    res = await h.gql(WUHAN, INVALIDATE_BATCH, { id: batch.id, reason: 'again' }).expect(200);
    expect(res.body.data.invalidateVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
    res = await h.gql(WUHAN, ISSUE, { id: batch.id }).expect(200);
    expect(res.body.data.issueVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
    // Transitions are append-only.
    await expect(
      h.sql(`DELETE FROM voucher_transitions WHERE voucher_id = $1`, [vouchers[0]!.id]),
    ).rejects.toThrow(/append-only/);
    const audit = await h.sql<{ action: string }>(
      `SELECT action FROM audit_log WHERE subject_id = ANY($1::text[]) ORDER BY id`,
      [[vouchers[0]!.id, batch.id]],
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['voucher.invalidate', 'batch.invalidate']),
    );
  });

  it('without a face value to give, the AUTO flow leaves the class to a person', async () => {
    await setIssuance(PINGDINGSHAN, { regionCode: '410400', flow: 'AUTO', reviewMode: 'NONE' });
    const { classId } = await approveClass('410402', [uuidv7()]);
    await known(classId);
    expect(await h.services.batches.liveForClass(classId)).toBeNull();
    const res = await h.gql(PINGDINGSHAN, CREATE, { i: { classId } }).expect(200);
    expect(res.body.data.createVoucherBatch.errors).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'faceValueFen' }),
    ]);
  });
});
