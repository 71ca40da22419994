import { signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import request from 'supertest';
import type { SettlementConfig } from '../src/config';
import {
  DisbursementRepository,
  SubsidyApplicationRepository,
  type NewSubsidyApplication,
} from '../src/data/repositories';
import { settlement, type SettlementServices } from '../src/service';

const SECRET = 'x'.repeat(32);

const pingdingshanStaff: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410400',
  permissions: ['settlement:read'],
};
const wuhanStaff: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['settlement:read'],
};
const henanStaffWithoutPermission: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410000',
  permissions: ['person:read'],
};
const trainee: Caller = { kind: 'person', id: uuidv7(), permissions: [] };

describe('settlement subgraph', () => {
  let db: TestDatabase;
  let running: RunningService<SettlementServices, SettlementConfig>;
  let repo: SubsidyApplicationRepository;
  let disbursements: DisbursementRepository;
  const pay = (applicationId: string, amountFen: bigint, paymentReference: string, paidAt = new Date()) =>
    disbursements.insert(running.deps.ds.manager, {
      applicationId,
      amountFen,
      paymentReference,
      paidAt,
      budgetRegionCode: '410400',
      voucherCount: 1,
      disbursedBy: null,
    });
  const applications = {
    insert: (a: NewSubsidyApplication) => repo.insert(running.deps.ds.manager, a),
  };

  const institutionId = uuidv7();
  const classId = uuidv7();

  beforeAll(async () => {
    db = await createTestDatabase('settlement');
    // No KAFKA_BROKERS / REDIS_URL: the in-memory bus and cache.
    const { KAFKA_BROKERS: _k, REDIS_URL: _r, ...env } = process.env;
    running = await startService(settlement, {
      env: {
        ...env,
        DATABASE_URL: db.url,
        PORT: '0',
        HOST: '127.0.0.1',
        INTERNAL_AUTH_SECRET: SECRET,
        LOG_LEVEL: 'warn',
      },
    });
    repo = new SubsidyApplicationRepository(running.deps.ds);
    disbursements = new DisbursementRepository(running.deps.ds);
  });

  afterAll(async () => {
    await running?.stop();
    await db?.drop();
  });

  function gql(caller: Caller | null, query: string, variables: Record<string, unknown> = {}) {
    const req = request(running.app)
      .post('/graphql')
      .set('apollo-require-preflight', 'true')
      .set('content-type', 'application/json');
    if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
    return req.send({ query, variables });
  }

  const APPLICATION = `query ($id: ID!) {
    subsidyApplication(id: $id) {
      id state totalAmountFen submittedAt lineCount createdAt
      institution { id } trainingClass { id }
      disbursement { id amountFen paymentReference paidAt application { id } }
    }
  }`;

  it('shows an application to staff in its region, with its entity references', async () => {
    const submittedAt = new Date('2024-11-20T08:00:00.000Z');
    const app = await applications.insert({
      institutionId,
      classId,
      regionCode: '410402',
      state: 'SUBMITTED',
      totalAmountFen: 1_234_500n,
      lineCount: 3,
      submittedAt,
    });

    const res = await gql(pingdingshanStaff, APPLICATION, { id: app.id });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.subsidyApplication).toEqual({
      id: app.id,
      state: 'SUBMITTED',
      totalAmountFen: '1234500',
      submittedAt: submittedAt.toISOString(),
      lineCount: 3,
      createdAt: app.createdAt.toISOString(),
      institution: { id: institutionId },
      trainingClass: { id: classId },
      disbursement: null,
    });
  });

  it('shows a paid application with its disbursement', async () => {
    const app = await applications.insert({
      institutionId,
      classId,
      regionCode: '410400',
      state: 'PAID',
      totalAmountFen: 500_000n,
      submittedAt: new Date(),
      approvedAmountFen: 500_000n,
      budgetRegionCode: '410400',
    });
    const paidAt = new Date('2024-12-01T02:30:00.000Z');
    const d = await pay(app.id, 500_000n, `PAY-${app.id}`, paidAt);

    const res = await gql(pingdingshanStaff, APPLICATION, { id: app.id });
    expect(res.body.data.subsidyApplication.disbursement).toEqual({
      id: d.id,
      amountFen: '500000',
      paymentReference: `PAY-${app.id}`,
      paidAt: paidAt.toISOString(),
      application: { id: app.id },
    });
  });

  it('hides an application from staff outside its region, staff without settlement:read and people', async () => {
    const app = await applications.insert({ institutionId, classId, regionCode: '410402' });
    for (const caller of [wuhanStaff, henanStaffWithoutPermission, trainee]) {
      const res = await gql(caller, APPLICATION, { id: app.id });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.subsidyApplication).toBeNull();
    }
    // An unknown id and a malformed id look the same as "not yours".
    for (const id of [uuidv7(), 'not-a-uuid']) {
      const res = await gql(pingdingshanStaff, APPLICATION, { id });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.subsidyApplication).toBeNull();
    }
  });

  it('refuses requests that did not come through the gateway', async () => {
    const res = await gql(null, '{ __typename }');
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('contributes subsidyApplications to TrainingClass, scoped to the caller region', async () => {
    const otherClass = uuidv7();
    const inside = await applications.insert({
      institutionId,
      classId: otherClass,
      regionCode: '410421',
      totalAmountFen: 800n,
    });
    const outside = await applications.insert({
      institutionId,
      classId: otherClass,
      regionCode: '420102',
      totalAmountFen: 900n,
    });

    const ENTITIES = `query ($reps: [_Any!]!) {
      _entities(representations: $reps) { ... on TrainingClass { id subsidyApplications { id totalAmountFen trainingClass { id } } } }
    }`;
    const reps = [{ __typename: 'TrainingClass', id: otherClass }];

    const henan = await gql(pingdingshanStaff, ENTITIES, { reps });
    expect(henan.body.errors).toBeUndefined();
    expect(henan.body.data._entities).toEqual([
      {
        id: otherClass,
        subsidyApplications: [{ id: inside.id, totalAmountFen: '800', trainingClass: { id: otherClass } }],
      },
    ]);

    const wuhan = await gql(wuhanStaff, ENTITIES, { reps });
    expect(wuhan.body.data._entities[0].subsidyApplications).toEqual([
      { id: outside.id, totalAmountFen: '900', trainingClass: { id: otherClass } },
    ]);

    const person = await gql(trainee, ENTITIES, { reps });
    expect(person.body.data._entities[0].subsidyApplications).toEqual([]);
  });

  it('pages an institution’s subsidyApplications in id order', async () => {
    const institution = uuidv7();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await applications.insert({ institutionId: institution, classId: uuidv7(), regionCode: '410403' }))
          .id,
      );
    await applications.insert({ institutionId: institution, classId: uuidv7(), regionCode: '420106' });
    // UUIDv7 minted within one millisecond are not ordered among themselves: the page order is id order.
    ids.sort();

    const PAGE = `query ($reps: [_Any!]!, $after: String) {
      _entities(representations: $reps) {
        ... on Institution { subsidyApplications(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }
      }
    }`;
    const reps = [{ __typename: 'Institution', id: institution }];
    const first = await gql(pingdingshanStaff, PAGE, { reps });
    expect(first.body.errors).toBeUndefined();
    const page1 = first.body.data._entities[0].subsidyApplications;
    expect(page1.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids.slice(0, 2));
    expect(page1.pageInfo.hasNextPage).toBe(true);

    const second = await gql(pingdingshanStaff, PAGE, { reps, after: page1.pageInfo.endCursor });
    const page2 = second.body.data._entities[0].subsidyApplications;
    expect(page2.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids.slice(2));
    expect(page2.pageInfo.hasNextPage).toBe(false);

    const bad = await gql(pingdingshanStaff, PAGE, { reps, after: 'garbage' });
    expect(bad.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('enforces the table constraints', async () => {
    await expect(
      applications.insert({ institutionId, classId, regionCode: '410400', totalAmountFen: -1n }),
    ).rejects.toThrow(/check constraint/);
    await expect(
      applications.insert({ institutionId, classId, regionCode: '410400', state: 'SUBMITTED' }),
    ).rejects.toThrow(/check constraint/);
    await expect(
      applications.insert({
        institutionId,
        classId,
        regionCode: '410400',
        state: 'PAID',
        submittedAt: new Date(),
      }),
    ).rejects.toThrow(/check constraint/);
    const app = await applications.insert({
      institutionId,
      classId,
      regionCode: '410400',
      state: 'PAID',
      submittedAt: new Date(),
      approvedAmountFen: 1n,
      budgetRegionCode: '410400',
    });
    await expect(pay(app.id, 0n, 'ZERO')).rejects.toThrow(/check constraint/);
    await pay(app.id, 1n, 'ONCE');
    await expect(pay(app.id, 1n, 'TWICE')).rejects.toThrow(/unique constraint/);
    const other = await applications.insert({
      institutionId,
      classId,
      regionCode: '410400',
      state: 'PAID',
      submittedAt: new Date(),
      approvedAmountFen: 1n,
      budgetRegionCode: '410400',
    });
    await expect(pay(other.id, 1n, 'ONCE')).rejects.toThrow(/unique constraint/);
  });
});
