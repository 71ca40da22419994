/**
 * The foundation's vertical slice, through the gateway against real PostgreSQL, Kafka and Redis:
 * a class plan approved in training travels outbox → Kafka → vouchers' consumer and shows up in the
 * awaiting-issuance list; entity references resolve across subgraphs.
 */
import request from 'supertest';
import { uniqueName } from '@vtv/testing';
import { idNumberCheckChar, uuidv7 } from '@vtv/kit';
import type { Stack } from '../scripts/lib/stack';
import { startTestStack } from './support/stack';
import { creditCodeCheckChar } from '../services/training/src/services/credit-code';
import type { TokenIssuer } from '@vtv/kit';

jest.setTimeout(120_000);

let stack: Stack;
let tokens: TokenIssuer;
const namespace = uniqueName('e2e');

beforeAll(async () => {
  stack = await startTestStack(namespace);
  tokens = (stack.services.identity!.services as { tokens: TokenIssuer }).tokens;
});

afterAll(async () => {
  await stack?.stop();
});

function gql(token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const req = request(stack.gateway.app).post('/graphql').set('content-type', 'application/json');
  if (token) req.set('authorization', `Bearer ${token}`);
  return req.send({ query, variables });
}

const staff = (regionCode: string, permissions: string[]) =>
  tokens.issue({ kind: 'staff', id: uuidv7(), regionCode, permissions });

function creditCode(seed: string): string {
  const first17 = `91420100${seed
    .replace(/[^0-9]/g, '')
    .padEnd(9, '7')
    .slice(0, 9)}`;
  return first17 + creditCodeCheckChar(first17);
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a class approved in training appears in vouchers’ awaiting-issuance list via Kafka', async () => {
  const wuhanStaff = await staff('420100', [
    'training:institution:write',
    'training:class:approve',
    'vouchers:issue',
  ]);
  // The institution's main operator (主经办人) is a person; training owns that membership.
  const operatorId = uuidv7();
  const operator = await tokens.issue({ kind: 'person', id: operatorId, permissions: [] });

  const reg = await gql(
    wuhanStaff,
    `mutation($input: RegisterInstitutionInput!) { registerInstitution(input: $input) { institution { id name } errors { code field message } } }`,
    {
      input: {
        name: '武汉市江岸区职业培训学校',
        creditCode: creditCode(String(Date.now())),
        regionCode: '420102',
        address: '江岸区解放大道1000号',
        latitude: 30.6,
        longitude: 114.3,
        mainOperatorPersonId: operatorId,
      },
    },
  ).expect(200);
  expect(reg.body.data.registerInstitution.errors).toEqual([]);
  const institutionId = reg.body.data.registerInstitution.institution.id;

  const roster = [uuidv7(), uuidv7(), uuidv7()];
  const submitted = await gql(
    operator,
    `mutation($input: SubmitClassPlanInput!) { submitClassPlan(input: $input) { trainingClass { id state } errors { code field } } }`,
    {
      input: {
        institutionId,
        name: '电工（四级）培训班',
        occupation: '电工',
        trainingType: '岗位技能提升培训',
        level: '四级',
        headcount: 30,
        startDate: '2026-12-01',
        endDate: '2026-12-20',
        courses: [{ name: '低压电器', hours: 24 }],
        sessions: [
          { startsAt: '2026-12-01T09:00:00+08:00', endsAt: '2026-12-01T12:00:00+08:00', courseIndex: 0 },
        ],
        rosterPersonIds: roster,
      },
    },
  ).expect(200);
  expect(submitted.body.data.submitClassPlan.errors).toEqual([]);
  const classId = submitted.body.data.submitClassPlan.trainingClass.id;

  const approved = await gql(
    wuhanStaff,
    `mutation($id: ID!) { approveClassPlan(id: $id) { trainingClass { state approvedAt } errors { code } } }`,
    { id: classId },
  ).expect(200);
  expect(approved.body.data.approveClassPlan).toMatchObject({
    errors: [],
    trainingClass: { state: 'APPROVED' },
  });

  // Approving twice is a business error, not a second event.
  const again = await gql(
    wuhanStaff,
    `mutation($id: ID!) { approveClassPlan(id: $id) { errors { code } } }`,
    { id: classId },
  );
  expect(again.body.data.approveClassPlan.errors).toEqual([
    expect.objectContaining({ code: 'INVALID_STATE' }),
  ]);

  const listed = await eventually(async () => {
    const res = await gql(
      wuhanStaff,
      `{ classesAwaitingIssuance(first: 50) { edges { node { name rosterSize regionCode trainingClass { id } } } } }`,
    );
    const edges = res.body.data?.classesAwaitingIssuance.edges as
      { node: { trainingClass: { id: string } } }[] | undefined;
    return edges?.find((e) => e.node.trainingClass.id === classId)?.node;
  });
  expect(listed).toMatchObject({ name: '电工（四级）培训班', rosterSize: 3, regionCode: '420102' });

  // One query, two subgraphs: the class from training, its issuance flag from vouchers.
  const joined = await gql(
    null,
    `query($id: ID!) { trainingClass(id: $id) { name institution { name } awaitingIssuance } }`,
    { id: classId },
  ).expect(200);
  expect(joined.body.data.trainingClass).toEqual({
    name: '电工（四级）培训班',
    institution: { name: '武汉市江岸区职业培训学校' },
    awaitingIssuance: true,
  });

  // A bureau outside the region sees nothing of it.
  const pingdingshan = await staff('410400', ['vouchers:issue']);
  const other = await gql(
    pingdingshan,
    `{ classesAwaitingIssuance(first: 50) { edges { node { trainingClass { id } } } } }`,
  ).expect(200);
  expect(other.body.data.classesAwaitingIssuance.edges).toEqual([]);

  // Exactly one event reached vouchers' inbox.
  const inbox = await stack.services.vouchers!.deps.ds.query(
    `SELECT count(*)::int AS n FROM inbox WHERE event_type = 'vtv.training.v1.ClassPlanApproved'`,
  );
  expect(inbox[0].n).toBe(1);
});

test('Person resolves across identity and vouchers for the person themself only', async () => {
  // The labourer opens an e-SSC (self-service) through the gateway; synthetic data only.
  const first17 = `42010219900101${String(Date.now() % 1000).padStart(3, '0')}`;
  const issued = await gql(
    null,
    `mutation($input: IssueCardInput!) { issueCard(input: $input) { person { id } errors { code } } }`,
    {
      input: {
        name: '测试',
        idNumber: first17 + idNumberCheckChar(first17),
        phone: '19900001234',
        regionCode: '420102',
      },
    },
  ).expect(200);
  expect(issued.body.data.issueCard.errors).toEqual([]);
  const personId: string = issued.body.data.issueCard.person.id;
  await stack.services.vouchers!.deps.ds.query(
    `INSERT INTO vouchers (id, holder_person_id, region_code, state, kind, training_type, face_value_fen, valid_until)
     VALUES ($1, $2, '420102', 'HELD', 'DIRECTED', '岗位技能提升培训', 80000, now() + interval '30 days')`,
    [uuidv7(), personId],
  );
  const me = await tokens.issue({ kind: 'person', id: personId, permissions: [] });
  const res = await gql(
    me,
    `{ me { id region { name parent { name } } vouchers { state faceValueFen } } }`,
  ).expect(200);
  expect(res.body.data.me).toEqual({
    id: personId,
    region: { name: '江岸区', parent: { name: '武汉市' } },
    vouchers: [{ state: 'HELD', faceValueFen: 80000 }],
  });

  const stranger = await tokens.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  const theirs = await gql(stranger, `query($id: ID!) { person(id: $id) { id } }`, { id: personId }).expect(
    200,
  );
  expect(theirs.body.data.person).toBeNull();
});

test('the gateway refuses a forged token and subgraphs refuse callers that bypass the gateway', async () => {
  await gql('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', '{ me { id } }').expect(401);
  const direct = await request(stack.services.vouchers!.app)
    .post('/graphql')
    .set('content-type', 'application/json')
    .send({ query: '{ voucher(id: "00000000-0000-7000-8000-000000000000") { id } }' });
  expect(direct.status).toBe(401);
});
