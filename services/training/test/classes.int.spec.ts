/**
 * Class plans (开班方案) and enrollment against real PostgreSQL and Kafka: operators submit, the region's
 * bureau approves (ClassPlanApproved) or rejects with a reason (ClassPlanRejected), roster changes after
 * approval publish RosterChanged, the catalogue searches approved classes, a labourer's online enrollment
 * publishes EnrollmentCreated and the institution checks identities (Art. 21). Events are consumed from
 * Kafka, on their registered topics and keys.
 */
import { fromBinary } from '@bufbuild/protobuf';
import {
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  EnrollmentCreatedSchema,
  KafkaBus,
  RosterChangedSchema,
  TOPICS,
  allTopicSpecs,
  type EventRecord,
  type Subscription,
} from '@vtv/events';
import { createLogger, uuidv7 } from '@vtv/kit';
import { infraEnv, uniqueName } from '@vtv/testing';
import {
  APPROVE,
  CHECK_IDENTITY,
  ENROLL,
  SUBMIT,
  approvedClass,
  person,
  pingdingshanBureau,
  planInput,
  registerInstitution,
  staff,
  startTraining,
  wuhanBureau,
  type Harness,
  type Institution,
} from './helpers';

type Errors = { code: string; field: string | null; message: string }[];

const namespace = uniqueName('training');
const group = uniqueName('probe');
let h: Harness;
let bus: KafkaBus;
let subscription: Subscription;
const received: EventRecord[] = [];
let inst: Institution;

beforeAll(async () => {
  const brokers = infraEnv().KAFKA_BROKERS;
  bus = new KafkaBus({
    brokers: brokers.split(','),
    clientId: namespace,
    logger: createLogger('test', 'warn'),
    namespace,
  });
  await bus.ensureTopics(allTopicSpecs());
  h = await startTraining({ KAFKA_BROKERS: brokers, EVENTS_NAMESPACE: namespace });
  subscription = await bus.subscribe({
    group,
    topics: [TOPICS.trainingClass.name, TOPICS.trainingEnrollment.name, TOPICS.trainingInstitution.name],
    handler: async (e) => {
      received.push(e);
    },
  });
  await subscription.ready();
  inst = await registerInstitution(h);
});

afterAll(async () => {
  await subscription?.stop();
  await h?.stop();
  await bus?.deleteNamespace([group]).catch(() => undefined);
  await bus?.close();
});

/** Waits for an event of `type` with key `key` to arrive from Kafka. */
async function consumed(type: string, key: string, timeoutMs = 20_000): Promise<EventRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = received.find((e) => e.type === `vtv.training.v1.${type}` && e.key === key);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no ${type} for ${key} from Kafka in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function submitErrors(overrides: Record<string, unknown>, caller = inst.main): Promise<Errors> {
  const res = await h.mutate<{ trainingClass: unknown; errors: Errors }>(caller, SUBMIT, {
    input: planInput(inst.id, overrides),
  });
  expect(res.trainingClass).toBeNull();
  return res.errors;
}

describe('submission', () => {
  it('an operator submits a plan with sessions, courses and roster; the roster counts toward the headcount', async () => {
    const roster = [uuidv7(), uuidv7()];
    const res = await h.mutate<{
      trainingClass: {
        state: string;
        rosterSize: number;
        enrolledCount: number;
        sessions: { sequence: number; course: { name: string } }[];
        courses: unknown[];
      };
      errors: Errors;
    }>(inst.main, SUBMIT, { input: planInput(inst.id, { rosterPersonIds: [...roster, roster[0]] }) });
    expect(res.errors).toEqual([]);
    expect(res.trainingClass).toMatchObject({ state: 'SUBMITTED', rosterSize: 2, enrolledCount: 2 });
    expect(res.trainingClass.sessions.map((s) => [s.sequence, s.course.name])).toEqual([
      [1, '电工基础'],
      [2, '低压电器'],
    ]);
    expect(res.trainingClass.courses).toHaveLength(2);
  });

  it('refuses bad plans with the field to blame and writes nothing', async () => {
    const [{ n: before }] = await h.running.deps.ds.query('SELECT count(*)::int AS n FROM classes');
    const now = Date.now();
    const at = (min: number) => new Date(now + min * 60_000).toISOString();
    const cases: [Record<string, unknown>, string][] = [
      [{ headcount: 0 }, 'headcount'],
      [{ headcount: 1001 }, 'headcount'],
      [{ startDate: '2026-02-30' }, 'startDate'],
      [{ endDate: '2000-01-01' }, 'endDate'],
      [{ sessions: [] }, 'sessions'],
      [{ sessions: [{ startsAt: at(60), endsAt: at(30) }] }, 'sessions.0.endsAt'],
      [{ sessions: [{ startsAt: 'tomorrow 9am', endsAt: at(30) }] }, 'sessions.0.startsAt'],
      [{ sessions: [{ startsAt: at(10), endsAt: at(20 * 60) }] }, 'sessions.0.endsAt'],
      [{ sessions: [{ startsAt: at(60 * 24 * 30), endsAt: at(60 * 24 * 30 + 60) }] }, 'sessions.0.startsAt'],
      [
        {
          sessions: [
            { startsAt: at(0), endsAt: at(60) },
            { startsAt: at(30), endsAt: at(90) },
          ],
        },
        'sessions',
      ],
      [{ sessions: [{ startsAt: at(0), endsAt: at(60), courseIndex: 7 }] }, 'sessions.0.courseIndex'],
      [{ courses: [{ name: '电工基础', hours: 0 }] }, 'courses.0.hours'],
      [{ location: { address: '教学点', latitude: 91, longitude: 114 } }, 'location.latitude'],
      [{ rosterPersonIds: ['not-an-id'] }, 'rosterPersonIds'],
      [{ headcount: 1, rosterPersonIds: [uuidv7(), uuidv7()] }, 'rosterPersonIds'],
      [{ name: '   ' }, 'name'],
    ];
    for (const [overrides, field] of cases) {
      expect(await submitErrors(overrides)).toEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', field }),
      ]);
    }
    const [{ n: after }] = await h.running.deps.ds.query('SELECT count(*)::int AS n FROM classes');
    expect(after).toBe(before);
  });

  it('only the institution’s enabled operators (or staff with training:class:submit in the region) submit', async () => {
    const other = await registerInstitution(h);
    expect(await submitErrors({}, other.main)).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(await submitErrors({}, person())).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(await submitErrors({}, pingdingshanBureau())).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);
    expect(await submitErrors({}, staff('420100', ['training:class:approve']))).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    const onBehalf = await h.mutate<{ errors: Errors }>(staff('420100', ['training:class:submit']), SUBMIT, {
      input: planInput(inst.id),
    });
    expect(onBehalf.errors).toEqual([]);
  });
});

describe('approval (开班审核)', () => {
  it('approval publishes ClassPlanApproved on training.class.v1 keyed by class id, once', async () => {
    const roster = [uuidv7(), uuidv7(), uuidv7()];
    const submitted = await h.mutate<{ trainingClass: { id: string } }>(inst.main, SUBMIT, {
      input: planInput(inst.id, { rosterPersonIds: roster }),
    });
    const id = submitted.trainingClass.id;
    // An operator cannot approve, nor a bureau elsewhere (which cannot even see the plan).
    expect((await h.mutate<{ errors: Errors }>(inst.main, APPROVE, { id })).errors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect((await h.mutate<{ errors: Errors }>(pingdingshanBureau(), APPROVE, { id })).errors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);
    const anonymous = { kind: 'anonymous' as const, permissions: [] };
    expect(
      (await h.gql(anonymous, `query ($id: ID!) { trainingClass(id: $id) { id } }`, { id })).body.data
        .trainingClass,
    ).toBeNull();

    const bureau = wuhanBureau();
    expect(await h.mutate(bureau, APPROVE, { id })).toMatchObject({
      trainingClass: { id, state: 'APPROVED' },
      errors: [],
    });
    expect((await h.mutate<{ errors: Errors }>(bureau, APPROVE, { id })).errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);

    const event = await consumed('ClassPlanApproved', id);
    expect(event.topic).toBe('training.class.v1');
    expect(event.subject).toBe(id);
    expect(fromBinary(ClassPlanApprovedSchema, event.data)).toMatchObject({
      classId: id,
      institutionId: inst.id,
      regionCode: '420102',
      occupation: '电工',
      trainingType: '岗位技能提升培训',
      level: '四级',
      headcount: 30,
      rosterPersonIds: roster,
      approvedBy: bureau.id,
      online: false,
      sessionCount: 2,
    });
    expect(await h.outbox('ClassPlanApproved', id)).toHaveLength(1);
    // Now public.
    expect(
      (await h.gql(anonymous, `query ($id: ID!) { trainingClass(id: $id) { id state } }`, { id })).body.data
        .trainingClass,
    ).toEqual({
      id,
      state: 'APPROVED',
    });
  });

  it('rejection needs a reason and publishes ClassPlanRejected', async () => {
    const { trainingClass } = await h.mutate<{ trainingClass: { id: string } }>(inst.main, SUBMIT, {
      input: planInput(inst.id),
    });
    const REJECT = `mutation ($id: ID!, $reason: String!) { rejectClassPlan(id: $id, reason: $reason) { trainingClass { state rejectionReason } errors { code field } } }`;
    expect(
      (await h.mutate<{ errors: Errors }>(inst.bureau, REJECT, { id: trainingClass.id, reason: '' })).errors,
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'reason' })]);
    expect(
      await h.mutate(inst.bureau, REJECT, { id: trainingClass.id, reason: '师资证明不全' }),
    ).toMatchObject({
      trainingClass: { state: 'REJECTED', rejectionReason: '师资证明不全' },
      errors: [],
    });
    expect(
      (await h.mutate<{ errors: Errors }>(inst.bureau, APPROVE, { id: trainingClass.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
    const event = await consumed('ClassPlanRejected', trainingClass.id);
    expect(fromBinary(ClassPlanRejectedSchema, event.data)).toMatchObject({
      classId: trainingClass.id,
      reason: '师资证明不全',
      rejectedBy: inst.bureau.id,
    });
    expect(await h.outbox('ClassPlanApproved', trainingClass.id)).toHaveLength(0);
  });

  it('the review queue lists submitted plans in the bureau’s subtree only', async () => {
    const { trainingClass } = await h.mutate<{ trainingClass: { id: string } }>(inst.main, SUBMIT, {
      input: planInput(inst.id),
    });
    const QUEUE = `{ classPlansForReview(first: 100) { edges { node { id state } } } }`;
    const hubei = (await h.gql(staff('420000', ['training:class:approve']), QUEUE)).body.data
      .classPlansForReview.edges;
    expect(hubei.map((e: { node: { id: string } }) => e.node.id)).toContain(trainingClass.id);
    const henan = (await h.gql(pingdingshanBureau(), QUEUE)).body.data.classPlansForReview.edges;
    expect(henan).toEqual([]);
  });
});

describe('roster changes after approval (追加发券)', () => {
  const ROSTER = `mutation ($input: ChangeClassRosterInput!) { changeClassRoster(input: $input) { trainingClass { rosterSize enrolledCount } errors { code field } } }`;

  it('publish RosterChanged with the added and removed people; before approval they publish nothing', async () => {
    const first = [uuidv7(), uuidv7()];
    const { trainingClass } = await h.mutate<{ trainingClass: { id: string } }>(inst.main, SUBMIT, {
      input: planInput(inst.id, { headcount: 3, rosterPersonIds: first }),
    });
    const id = trainingClass.id;
    const early = uuidv7();
    expect(
      await h.mutate(inst.main, ROSTER, { input: { classId: id, addPersonIds: [early] } }),
    ).toMatchObject({
      trainingClass: { rosterSize: 3 },
      errors: [],
    });
    await h.mutate(inst.bureau, APPROVE, { id });
    const approved = fromBinary(ClassPlanApprovedSchema, (await consumed('ClassPlanApproved', id)).data);
    expect(approved.rosterPersonIds).toEqual([...first, early]);

    // Full: adding a fourth is refused and nothing changes.
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, ROSTER, {
          input: { classId: id, addPersonIds: [uuidv7()] },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CLASS_FULL' })]);
    const late = uuidv7();
    expect(
      await h.mutate(inst.main, ROSTER, {
        input: { classId: id, addPersonIds: [late], removePersonIds: [first[0]] },
      }),
    ).toMatchObject({
      trainingClass: { rosterSize: 3, enrolledCount: 3 },
      errors: [],
    });
    const changed = fromBinary(RosterChangedSchema, (await consumed('RosterChanged', id)).data);
    expect(changed).toMatchObject({
      classId: id,
      addedPersonIds: [late],
      removedPersonIds: [first[0]],
      changedBy: inst.main.id,
    });
    expect(await h.outbox('RosterChanged', id)).toHaveLength(1);

    // Removing someone not on the roster, or an outsider changing it, is refused.
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, ROSTER, {
          input: { classId: id, removePersonIds: [uuidv7()] },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'removePersonIds' })]);
    const other = await registerInstitution(h);
    expect(
      (
        await h.mutate<{ errors: Errors }>(other.main, ROSTER, {
          input: { classId: id, addPersonIds: [uuidv7()] },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
  });
});

describe('catalogue (查找开班信息)', () => {
  const CATALOGUE = `query ($filter: CatalogueFilter, $first: Int, $after: String) {
    catalogue(filter: $filter, first: $first, after: $after) {
      edges { node { id startDate online occupation institution { id rating { average count } } } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

  it('searches approved classes by region subtree, occupation, type, dates and mode, with keyset pages', async () => {
    const occupation = `焊工-${uuidv7().slice(-8)}`;
    const anonymous = { kind: 'anonymous' as const, permissions: [] };
    const a = await approvedClass(h, inst, { occupation, online: false });
    const b = await approvedClass(h, inst, { occupation, online: true, trainingType: '创业培训' });
    await h.mutate(inst.main, SUBMIT, { input: planInput(inst.id, { occupation }) }); // not approved: never listed
    const search = async (filter: Record<string, unknown>, first = 10, after?: string) => {
      const res = await h.gql(anonymous, CATALOGUE, { filter: { occupation, ...filter }, first, after });
      expect(res.body.errors).toBeUndefined();
      return res.body.data.catalogue;
    };
    expect((await search({})).edges.map((e: { node: { id: string } }) => e.node.id).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect((await search({ regionCode: '420000' })).edges).toHaveLength(2);
    expect((await search({ regionCode: '420102' })).edges).toHaveLength(2);
    expect((await search({ regionCode: '410400' })).edges).toHaveLength(0);
    expect((await search({ online: true })).edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([
      b.id,
    ]);
    expect(
      (await search({ trainingType: '创业培训' })).edges.map((e: { node: { id: string } }) => e.node.id),
    ).toEqual([b.id]);
    expect((await search({ startsFrom: '2099-01-01' })).edges).toHaveLength(0);
    expect((await search({ openForEnrollment: true })).edges).toHaveLength(2);
    const page1 = await search({}, 1);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await search({}, 1, page1.pageInfo.endCursor);
    expect(page2.edges[0].node.id).not.toBe(page1.edges[0].node.id);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(page1.edges[0].node.institution.rating).toEqual({ average: null, count: 0 });

    const bad = await h.gql(anonymous, CATALOGUE, { filter: { regionCode: '42' } });
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const badCursor = await h.gql(anonymous, CATALOGUE, { after: 'bm9wZQ' });
    expect(badCursor.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const big = await h.gql(anonymous, CATALOGUE, { first: 1000 });
    expect(big.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('online enrollment (在线报名) and the identity check (Art. 21)', () => {
  it('publishes EnrollmentCreated on training.enrollment.v1 keyed by class id; the operator confirms identity', async () => {
    const cls = await approvedClass(h, inst, { online: true });
    const labourer = person();
    const enrolled = await h.mutate<{
      enrollment: { id: string; state: string; source: string };
      errors: Errors;
    }>(labourer, ENROLL, {
      classId: cls.id,
    });
    expect(enrolled).toMatchObject({
      enrollment: { state: 'PENDING_IDENTITY_CHECK', source: 'ONLINE' },
      errors: [],
    });
    const event = await consumed('EnrollmentCreated', cls.id);
    expect(event.topic).toBe('training.enrollment.v1');
    expect(fromBinary(EnrollmentCreatedSchema, event.data)).toMatchObject({
      enrollmentId: enrolled.enrollment.id,
      classId: cls.id,
      institutionId: inst.id,
      personId: labourer.id,
      regionCode: '420102',
      occupation: '电工',
      trainingType: '岗位技能提升培训',
      online: true,
    });

    expect((await h.mutate<{ errors: Errors }>(labourer, ENROLL, { classId: cls.id })).errors).toEqual([
      expect.objectContaining({ code: 'ALREADY_ENROLLED' }),
    ]);
    // Only the institution's operators check; the trainee cannot confirm themself.
    expect(
      (
        await h.mutate<{ errors: Errors }>(labourer, CHECK_IDENTITY, {
          id: enrolled.enrollment.id,
          matched: true,
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    const checked = await h.mutate<{
      enrollment: { state: string; identityCheckedBy: string; identityCheckedAt: string };
      errors: Errors;
    }>(inst.main, CHECK_IDENTITY, { id: enrolled.enrollment.id, matched: true });
    expect(checked.errors).toEqual([]);
    expect(checked.enrollment).toMatchObject({ state: 'ACTIVE', identityCheckedBy: inst.main.id });
    expect(Date.parse(checked.enrollment.identityCheckedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, CHECK_IDENTITY, {
          id: enrolled.enrollment.id,
          matched: true,
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
    const audit = await h.running.deps.ds.query(
      `SELECT actor_id, action FROM audit_log WHERE subject_id = $1`,
      [enrolled.enrollment.id],
    );
    expect(audit).toEqual([{ actor_id: inst.main.id, action: 'enrollment.identity-confirmed' }]);
  });

  it('a refused identity frees the place; unapproved classes and full classes refuse enrollment', async () => {
    const cls = await approvedClass(h, inst, { headcount: 1 });
    const first = person();
    const e1 = await h.mutate<{ enrollment: { id: string } }>(first, ENROLL, { classId: cls.id });
    expect((await h.mutate<{ errors: Errors }>(person(), ENROLL, { classId: cls.id })).errors).toEqual([
      expect.objectContaining({ code: 'CLASS_FULL' }),
    ]);
    expect(await h.mutate(inst.main, CHECK_IDENTITY, { id: e1.enrollment.id, matched: false })).toMatchObject(
      {
        enrollment: { state: 'REFUSED' },
        errors: [],
      },
    );
    expect((await h.mutate<{ errors: Errors }>(person(), ENROLL, { classId: cls.id })).errors).toEqual([]);

    const { trainingClass } = await h.mutate<{ trainingClass: { id: string } }>(inst.main, SUBMIT, {
      input: planInput(inst.id),
    });
    expect(
      (await h.mutate<{ errors: Errors }>(person(), ENROLL, { classId: trainingClass.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect((await h.mutate<{ errors: Errors }>(inst.bureau, ENROLL, { classId: cls.id })).errors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
  });

  it('a rush of enrollments never exceeds the headcount', async () => {
    const cls = await approvedClass(h, inst, { headcount: 5 });
    const results = await Promise.all(
      Array.from({ length: 25 }, () => h.mutate<{ errors: Errors }>(person(), ENROLL, { classId: cls.id })),
    );
    expect(results.filter((r) => r.errors.length === 0)).toHaveLength(5);
    expect(results.filter((r) => r.errors[0]?.code === 'CLASS_FULL')).toHaveLength(20);
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM enrollments WHERE class_id = $1`,
      [cls.id],
    );
    expect(n).toBe(5);
    expect(await h.outbox('EnrollmentCreated', cls.id)).toHaveLength(5);
  });
});
