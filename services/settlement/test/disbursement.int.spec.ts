/**
 * Money leaves here, so payment must happen exactly once: two workers paying the same 10 000 vouchers at
 * once, a crash between the payment's commit and the event's publication, a crash after publication but
 * before the outbox row was marked. Real PostgreSQL and Kafka; the evidence for 10 000 trainees is loaded
 * with bulk SQL (the projections' own tables) instead of 20 000 events, and the application is built
 * through the service layer (the graph takes 2 000 trainees per request).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { OutboxRelay, SubsidyDisbursedSchema, TOPICS, type EventRecord } from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import { ALL, World, cleanClassEvidence, eventually, ledgerState, person, quiet, staff } from './helpers';

jest.setTimeout(120_000);

const TYPE = '岗位技能提升培训';
const institutionId = uuidv7();
const operator = person();
const admin = staff('420100', ALL);
const reviewer = staff('420100', ['settlement:review']);
const workerA = staff('420100', ['settlement:disburse']);
const workerB = staff('420000', ['settlement:disburse']);

let w: World;
let received: EventRecord[];

beforeAll(async () => {
  w = await World.create('settlement_pay');
  received = await w.probe(TOPICS.settlementDisbursement.name);
  const std = await w.gql(
    admin,
    `mutation { setSubsidyStandard(input: { regionCode: "420100", trainingType: "${TYPE}", amountFen: "180000" }) { errors { code } } }`,
  );
  expect(std.body.data.setSubsidyStandard.errors).toEqual([]);
  const budget = await w.gql(
    admin,
    `mutation { allocateSubsidyBudget(input: { regionCode: "420100", amountFen: "5000000000" }) { errors { code } } }`,
  );
  expect(budget.body.data.allocateSubsidyBudget.errors).toEqual([]);
  await w.running.deps.ds.query(
    `INSERT INTO evidence_operators (institution_id, person_id, enabled, main, changed_at) VALUES ($1, $2, true, true, now())`,
    [institutionId, operator.id],
  );
});

afterAll(async () => {
  await w?.close();
});

/** A class with `n` trainees whose evidence is complete and clean (bulk SQL into the projections). */
const classWithTrainees = (n: number) => cleanClassEvidence(w, institutionId, TYPE, n);

/** An approved application over `n` clean trainees: returns its id and voucher ids. */
async function approvedApplication(n: number): Promise<{ id: string; vouchers: string[] }> {
  const { classId, lines } = await classWithTrainees(n);
  const id = await w.running.services.applications.create(operator, { classId, lines });
  const submitted = await w.gql(
    operator,
    `mutation ($id: ID!) { submitSubsidyApplication(id: $id) { application { state anomalyCount totalAmountFen } errors { code message } } }`,
    { id },
  );
  expect(submitted.body.data.submitSubsidyApplication).toEqual({
    application: { state: 'SUBMITTED', anomalyCount: 0, totalAmountFen: String(180_000n * BigInt(n)) },
    errors: [],
  });
  const approved = await w.gql(
    reviewer,
    `mutation ($id: ID!) { reviewSubsidyApplication(input: { applicationId: $id, decision: APPROVE }) {
       application { state approvedAmountFen approvedLineCount } errors { code message } } }`,
    { id },
  );
  expect(approved.body.data.reviewSubsidyApplication).toEqual({
    application: { state: 'APPROVED', approvedAmountFen: String(180_000n * BigInt(n)), approvedLineCount: n },
    errors: [],
  });
  return { id, vouchers: lines.map((l) => l.voucherId) };
}

function disburse(caller: Caller, applicationId: string, paymentReference: string, key?: string) {
  return w
    .gql(
      caller,
      `mutation ($input: DisburseSubsidyInput!) { disburseSubsidy(input: $input) {
         disbursement { id amountFen voucherCount paymentReference } errors { code message } } }`,
      { input: { applicationId, paymentReference } },
      key,
    )
    .then((res) => {
      expect(res.status).toBe(200);
      return res.body.data.disburseSubsidy as {
        disbursement: { id: string; amountFen: string; voucherCount: number } | null;
        errors: { code: string; message: string }[];
      };
    });
}

async function paymentFacts(applicationId: string) {
  const [row] = await w.running.deps.ds.query(
    `SELECT (SELECT count(*)::int FROM disbursements WHERE application_id = $1) AS disbursements,
            (SELECT count(*)::int FROM settled_vouchers WHERE application_id = $1) AS settled,
            (SELECT count(DISTINCT voucher_id)::int FROM settled_vouchers WHERE application_id = $1) AS distinct_settled,
            (SELECT count(*)::int FROM journal_entries WHERE application_id = $1 AND kind = 'PAYMENT') AS payments,
            (SELECT count(*)::int FROM outbox WHERE key = $1::text AND type = 'vtv.settlement.v1.SubsidyDisbursed') AS events,
            (SELECT count(*)::int FROM outbox WHERE key = $1::text AND type = 'vtv.settlement.v1.SubsidyDisbursed'
               AND published_at IS NULL) AS unpublished`,
    [applicationId],
  );
  return row as {
    disbursements: number;
    settled: number;
    distinct_settled: number;
    payments: number;
    events: number;
    unpublished: number;
  };
}

const onKafka = (applicationId: string) => received.filter((e) => e.subject === applicationId);

it('two workers paying the same 10,000 vouchers at once settle each exactly once; the ledger balances', async () => {
  const t0 = Date.now();
  const { id, vouchers } = await approvedApplication(10_000);
  const built = Date.now() - t0;

  const t1 = Date.now();
  const [a, b] = await Promise.all([
    disburse(workerA, id, 'TREASURY-2025-000001', 'worker-a-attempt-1'),
    disburse(workerB, id, 'TREASURY-2025-000001', 'worker-b-attempt-1'),
  ]);
  const paidIn = Date.now() - t1;
  // Both workers carried the same payment instruction: both learn of the one payment.
  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
  expect(a.disbursement!.id).toBe(b.disbursement!.id);
  expect(a.disbursement).toMatchObject({ amountFen: '1800000000', voucherCount: 10_000 });

  expect(await paymentFacts(id)).toMatchObject({
    disbursements: 1,
    settled: 10_000,
    distinct_settled: 10_000,
    payments: 1,
    events: 1,
  });
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
  const budget = await w.gql(
    admin,
    `{ subsidyBudget(regionCode: "420100") { total { committedFen paidFen } trialBalanceFen } }`,
  );
  expect(budget.body.data.subsidyBudget).toEqual({
    total: { committedFen: '0', paidFen: '1800000000' },
    trialBalanceFen: '0',
  });

  // One SubsidyDisbursed reaches Kafka, listing every voucher once.
  await eventually('SubsidyDisbursed on Kafka', async () => onKafka(id).length >= 1);
  await new Promise((r) => setTimeout(r, 1000));
  expect(onKafka(id)).toHaveLength(1);
  const event = fromBinary(SubsidyDisbursedSchema, onKafka(id)[0]!.data);
  expect(event.disbursementId).toBe(a.disbursement!.id);
  expect(event.voucherIds).toHaveLength(10_000);
  expect(new Set(event.voucherIds)).toEqual(new Set(vouchers));
  quiet.info({ built, paidIn }, '10k application timings (ms)');
  expect(built).toBeLessThan(30_000);
  expect(paidIn).toBeLessThan(30_000);
});

it('two workers with different payment references: one pays, the other is refused', async () => {
  const { id } = await approvedApplication(100);
  const results = await Promise.all([
    disburse(workerA, id, 'TREASURY-2025-000101'),
    disburse(workerB, id, 'TREASURY-2025-000102'),
  ]);
  expect(results.filter((r) => r.errors.length === 0)).toHaveLength(1);
  expect(results.filter((r) => r.errors[0]?.code === 'ALREADY_DISBURSED')).toHaveLength(1);
  expect(await paymentFacts(id)).toMatchObject({ disbursements: 1, settled: 100, payments: 1, events: 1 });
  // The winner's instruction repeated is answered with its payment; the same key with another body is refused.
  const winner = results[0]!.errors.length === 0 ? 'TREASURY-2025-000101' : 'TREASURY-2025-000102';
  const first = await disburse(workerA, id, winner, 'retry-key-000101');
  expect(first.errors).toEqual([]);
  const reused = await disburse(workerA, id, 'TREASURY-2025-000199', 'retry-key-000101');
  expect(reused.errors[0]!.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
});

it('a payment retried after a crash between commit and publish pays once and still publishes once', async () => {
  const { id, vouchers } = await approvedApplication(50);
  // The relay is down: the payment commits with its event in the outbox, then the process dies.
  await w.running.relay!.stop();
  const key = `pay-${id}`;
  const first = await disburse(workerA, id, 'TREASURY-2025-000201', key);
  expect(first.errors).toEqual([]);
  expect(await paymentFacts(id)).toMatchObject({ disbursements: 1, events: 1, unpublished: 1 });
  await w.running.stop('crash');
  await new Promise((r) => setTimeout(r, 500));
  expect(onKafka(id)).toHaveLength(0);

  // A new process: its relay publishes what the old one left behind; the client's retries change nothing.
  w.running = await w.start();
  const retried = await disburse(workerA, id, 'TREASURY-2025-000201', key);
  expect(retried).toEqual(first);
  const otherWorker = await disburse(workerB, id, 'TREASURY-2025-000201');
  expect(otherWorker.disbursement!.id).toBe(first.disbursement!.id);

  await eventually('the left-behind event on Kafka', async () => onKafka(id).length >= 1);
  await eventually('the outbox row marked', async () => (await paymentFacts(id)).unpublished === 0);
  await new Promise((r) => setTimeout(r, 1000));
  expect(onKafka(id)).toHaveLength(1);
  expect(new Set(fromBinary(SubsidyDisbursedSchema, onKafka(id)[0]!.data).voucherIds)).toEqual(
    new Set(vouchers),
  );
  expect(await paymentFacts(id)).toMatchObject({ disbursements: 1, settled: 50, payments: 1, events: 1 });
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
});

it('a crash after publishing but before marking re-sends the same event (same ce_id), never a second payment', async () => {
  const { id } = await approvedApplication(20);
  await w.running.relay!.stop();
  let crashes = 0;
  const relay = new OutboxRelay({
    ds: w.running.deps.ds,
    databaseUrl: w.db.url,
    bus: w.running.deps.bus,
    logger: quiet,
    pollMs: 100,
    afterPublish: async (records) => {
      if (records.some((r) => r.subject === id) && crashes === 0) {
        crashes += 1;
        throw new Error('relay killed after the broker acked (injected)');
      }
    },
  });
  await relay.start();
  w.onClose(() => relay.stop());

  const paid = await disburse(workerA, id, 'TREASURY-2025-000301');
  expect(paid.errors).toEqual([]);
  await eventually('the event re-sent and marked', async () => (await paymentFacts(id)).unpublished === 0);
  await eventually('both copies on Kafka', async () => onKafka(id).length >= 2);
  const copies = onKafka(id);
  expect(crashes).toBe(1);
  // At-least-once delivery: consumers (vouchers) dedupe on ce_id, so the vouchers settle once.
  expect(new Set(copies.map((c) => c.id)).size).toBe(1);
  expect(await paymentFacts(id)).toMatchObject({ disbursements: 1, settled: 20, payments: 1, events: 1 });
  await relay.stop();
  await w.running.relay!.start();
});
