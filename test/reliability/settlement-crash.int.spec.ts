/**
 * TESTING.md, Faults: the process killed before commit and after commit, where money leaves. Settlement
 * runs as a real child process (tsx services/settlement/src/main.ts) with VTV_FAULT_POINTS set, so it
 * SIGKILLs itself inside `moneyTransaction`: after the payment's writes, before COMMIT
 * (`tx:before-commit`), or after COMMIT, before the answer (`tx:after-commit`). The client sees its
 * connection die; it restarts the service without the fault and retries with the same Idempotency-Key.
 * Afterwards: exactly one payment, one ledger PAYMENT entry, one SubsidyDisbursed in the outbox and on
 * Kafka, and the ledger balances. The setup (standard, budget, an approved application) runs through an
 * in-process settlement on the same database, without its relay, so only the child publishes.
 *
 * Each restart after a crash waits ~30 s: the killed process is still a member of settlement's consumer
 * group until its session times out, and the new process joins the group before it listens (as a
 * restarted pod would).
 */
import { TOPICS, type EventRecord } from '@vtv/events';
import { signCaller, uuidv7, type Caller } from '@vtv/kit';
import type { ManagedProcess } from '@vtv/testing';
import {
  ALL,
  SECRET,
  World,
  cleanClassEvidence,
  eventually,
  ledgerState,
  person,
  staff,
} from '../../services/settlement/test/helpers';
import { startChildService } from './support/child-service';

jest.setTimeout(180_000);

const TYPE = '岗位技能提升培训';
const LINES = 5;
const institutionId = uuidv7();
const operator = person();
const admin = staff('420100', ALL);
const reviewer = staff('420100', ['settlement:review']);
const worker = staff('420100', ['settlement:disburse']);

let w: World;
let received: EventRecord[];
const children: ManagedProcess[] = [];

beforeAll(async () => {
  w = await World.create('settle_crash', { relay: false });
  received = await w.probe(TOPICS.settlementDisbursement.name);
  const std = await w.gql(
    admin,
    `mutation { setSubsidyStandard(input: { regionCode: "420100", trainingType: "${TYPE}", amountFen: "180000" }) { errors { code } } }`,
  );
  expect(std.body.data.setSubsidyStandard.errors).toEqual([]);
  const budget = await w.gql(
    admin,
    `mutation { allocateSubsidyBudget(input: { regionCode: "420100", amountFen: "500000000" }) { errors { code } } }`,
  );
  expect(budget.body.data.allocateSubsidyBudget.errors).toEqual([]);
  await w.running.deps.ds.query(
    `INSERT INTO evidence_operators (institution_id, person_id, enabled, main, changed_at) VALUES ($1, $2, true, true, now())`,
    [institutionId, operator.id],
  );
});

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await w?.close();
});

/** An approved application over LINES clean trainees (evidence loaded with SQL, as disbursement tests do). */
async function approvedApplication(): Promise<string> {
  const { classId, lines } = await cleanClassEvidence(w, institutionId, TYPE, LINES);
  const id = await w.running.services.applications.create(operator, { classId, lines });
  const submitted = await w.gql(
    operator,
    `mutation ($id: ID!) { submitSubsidyApplication(id: $id) { errors { code } } }`,
    { id },
  );
  expect(submitted.body.data.submitSubsidyApplication.errors).toEqual([]);
  const approved = await w.gql(
    reviewer,
    `mutation ($id: ID!) { reviewSubsidyApplication(input: { applicationId: $id, decision: APPROVE }) {
       application { state } errors { code } } }`,
    { id },
  );
  expect(approved.body.data.reviewSubsidyApplication).toEqual({
    application: { state: 'APPROVED' },
    errors: [],
  });
  return id;
}

/** Settlement as a child process on the test's database and namespace; resolves with its GraphQL URL. */
async function startChild(faults?: string): Promise<{ proc: ManagedProcess; url: string }> {
  const started = await startChildService('settlement', {
    ...w.env(),
    LOG_LEVEL: 'info',
    ...(faults ? { VTV_FAULT_POINTS: faults } : {}),
  });
  children.push(started.proc);
  return started;
}

async function disburse(url: string, caller: Caller, applicationId: string, reference: string, key: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'apollo-require-preflight': 'true',
      'x-vtv-caller': signCaller(caller, SECRET),
      'idempotency-key': key,
    },
    body: JSON.stringify({
      query: `mutation ($input: DisburseSubsidyInput!) { disburseSubsidy(input: $input) {
        disbursement { id amountFen voucherCount paymentReference } errors { code message } } }`,
      variables: { input: { applicationId, paymentReference: reference } },
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    data: {
      disburseSubsidy: {
        disbursement: { id: string; amountFen: string; voucherCount: number } | null;
        errors: { code: string }[];
      };
    };
  };
  return body.data.disburseSubsidy;
}

/** Everything one payment writes, counted for one application. */
async function paymentFacts(applicationId: string) {
  const [row] = await w.running.deps.ds.query(
    `SELECT (SELECT state FROM subsidy_applications WHERE id = $1) AS state,
            (SELECT count(*)::int FROM disbursements WHERE application_id = $1) AS disbursements,
            (SELECT count(*)::int FROM settled_vouchers WHERE application_id = $1) AS settled,
            (SELECT count(*)::int FROM journal_entries WHERE application_id = $1 AND kind = 'PAYMENT') AS payments,
            (SELECT count(*)::int FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
               WHERE e.application_id = $1 AND e.kind = 'PAYMENT') AS payment_lines,
            (SELECT count(*)::int FROM outbox WHERE key = $1::text) AS outbox_rows,
            (SELECT count(*)::int FROM outbox WHERE key = $1::text AND type = 'vtv.settlement.v1.SubsidyDisbursed') AS events,
            (SELECT count(*)::int FROM outbox WHERE key = $1::text AND published_at IS NULL) AS unpublished,
            (SELECT count(*)::int FROM idempotency_keys WHERE key = $2) AS keys`,
    [applicationId, `pay-${applicationId}`],
  );
  return row as Record<string, number | string>;
}

const onKafka = (applicationId: string) =>
  received.filter((e) => e.subject === applicationId && e.type === 'vtv.settlement.v1.SubsidyDisbursed');

it('killed before commit: nothing of the payment is stored; the retry after restart pays once', async () => {
  const id = await approvedApplication();
  const before = await paymentFacts(id);
  expect(before).toMatchObject({ state: 'APPROVED', disbursements: 0, payments: 0, keys: 0 });
  const key = `pay-${id}`;

  const crashing = await startChild('tx:before-commit');
  await expect(disburse(crashing.url, worker, id, 'TREASURY-2025-100001', key)).rejects.toThrow();
  expect(await crashing.proc.exited).toBe('SIGKILL');

  // The transaction died with the process: no payment, no ledger lines, no event, not even the key.
  // (The child's relay may have published the application's earlier transitions meanwhile.)
  const { unpublished: _u, ...stored } = before;
  expect(await paymentFacts(id)).toMatchObject(stored);
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });

  const healthy = await startChild();
  const retried = await disburse(healthy.url, worker, id, 'TREASURY-2025-100001', key);
  expect(retried.errors).toEqual([]);
  expect(retried.disbursement).toMatchObject({ amountFen: String(180_000 * LINES), voucherCount: LINES });
  const again = await disburse(healthy.url, worker, id, 'TREASURY-2025-100001', key);
  expect(again).toEqual(retried);

  await eventually('the payment event published', async () => (await paymentFacts(id)).unpublished === 0);
  expect(await paymentFacts(id)).toMatchObject({
    state: 'PAID',
    disbursements: 1,
    settled: LINES,
    payments: 1,
    payment_lines: 2,
    events: 1,
    keys: 1,
  });
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
  await eventually('SubsidyDisbursed on Kafka', async () => onKafka(id).length >= 1);
  healthy.proc.kill('SIGTERM');
  expect(await healthy.proc.exited).toBe(0);
  expect(onKafka(id)).toHaveLength(1);
});

it('killed after commit, before the answer: the retry gets the stored result and does not pay twice', async () => {
  const id = await approvedApplication();
  const key = `pay-${id}`;

  const crashing = await startChild('tx:after-commit');
  await expect(disburse(crashing.url, worker, id, 'TREASURY-2025-100002', key)).rejects.toThrow();
  expect(await crashing.proc.exited).toBe('SIGKILL');

  // Committed: the payment, its ledger entry and its event row exist; the answer was lost.
  const [paid]: { id: string }[] = await w.running.deps.ds.query(
    'SELECT id FROM disbursements WHERE application_id = $1',
    [id],
  );
  expect(paid).toBeDefined();
  expect(await paymentFacts(id)).toMatchObject({
    state: 'PAID',
    disbursements: 1,
    payments: 1,
    events: 1,
    keys: 1,
  });

  const healthy = await startChild();
  const retried = await disburse(healthy.url, worker, id, 'TREASURY-2025-100002', key);
  expect(retried.errors).toEqual([]);
  expect(retried.disbursement!.id).toBe(paid!.id);
  // Another worker without the key, same instruction: the same payment, not a second one.
  const other = await disburse(healthy.url, worker, id, 'TREASURY-2025-100002', `other-${id}`);
  expect(other.disbursement?.id).toBe(paid!.id);

  await eventually('the left-behind event published', async () => (await paymentFacts(id)).unpublished === 0);
  expect(await paymentFacts(id)).toMatchObject({
    disbursements: 1,
    settled: LINES,
    payments: 1,
    payment_lines: 2,
    events: 1,
  });
  expect(await ledgerState(w)).toEqual({ total: '0', unbalanced: 0 });
  await eventually('SubsidyDisbursed on Kafka', async () => onKafka(id).length >= 1);
  healthy.proc.kill('SIGTERM');
  expect(await healthy.proc.exited).toBe(0);
  expect(onKafka(id)).toHaveLength(1);
});
