/**
 * After the class (against real PostgreSQL): completion review (结业审核) records pass/fail per trainee
 * with the reviewer and publishes CompletionRecorded; evaluation (评价) lets a trainee who attended score
 * the institution (refused for one who never attended) and the institution rate the trainee; scores roll
 * up into the institution's rating shown in the catalogue.
 */
import { CompletionRecordedSchema } from '@vtv/events';
import { uuidv7 } from '@vtv/kit';
import {
  ENROLL,
  SITE,
  activeTrainee,
  approvedClass,
  decode,
  person,
  pingdingshanBureau,
  registerInstitution,
  staff,
  startTraining,
  type Harness,
  type Institution,
} from './helpers';

type Errors = { code: string; field: string | null; message: string }[];

const CHECK_IN = `mutation ($input: LocationCheckInInput!) { checkIn(input: $input) { errors { code } } }`;
const REVIEW = `mutation ($input: ReviewCompletionInput!) {
  reviewCompletion(input: $input) { enrollments { id completion { passed reviewedBy reviewedAt remark } } errors { code field message } }
}`;
const RATE_INSTITUTION = `mutation ($input: EvaluateInstitutionInput!) {
  evaluateInstitution(input: $input) { evaluation { id score comment } errors { code field message } }
}`;
const RATE_TRAINEE = `mutation ($input: EvaluateTraineeInput!) {
  evaluateTrainee(input: $input) { evaluation { id score comment } errors { code field message } }
}`;

let h: Harness;
let inst: Institution;
let cls: { id: string; sessions: { id: string; startsAt: string; endsAt: string }[] };
let attended: Awaited<ReturnType<typeof activeTrainee>>;
let alsoAttended: Awaited<ReturnType<typeof activeTrainee>>;
let absent: Awaited<ReturnType<typeof activeTrainee>>;
let pending: { trainee: ReturnType<typeof person>; enrollmentId: string };
let afterClass: Date;

beforeAll(async () => {
  h = await startTraining();
  inst = await registerInstitution(h);
  cls = await approvedClass(h, inst);
  attended = await activeTrainee(h, inst, cls.id);
  alsoAttended = await activeTrainee(h, inst, cls.id);
  absent = await activeTrainee(h, inst, cls.id);
  const p = person();
  const e = await h.mutate<{ enrollment: { id: string } }>(p, ENROLL, { classId: cls.id });
  pending = { trainee: p, enrollmentId: e.enrollment.id };
  for (const t of [attended, alsoAttended]) {
    expect(
      (
        await h.mutate<{ errors: Errors }>(t.trainee, CHECK_IN, {
          input: { sessionId: cls.sessions[0]!.id, ...SITE },
        })
      ).errors,
    ).toEqual([]);
  }
  afterClass = new Date(Date.parse(cls.sessions[1]!.endsAt) + 60_000);
});

afterEach(() => h.running.services.clock.set(null));

afterAll(async () => {
  await h?.stop();
});

const reviewer = () => staff('420100', ['training:completion:review']);

describe('completion review (结业审核)', () => {
  it('waits for the class to end and for the right staff', async () => {
    const input = { classId: cls.id, results: [{ enrollmentId: attended.enrollmentId, passed: true }] };
    expect((await h.mutate<{ errors: Errors }>(reviewer(), REVIEW, { input })).errors).toEqual([
      expect.objectContaining({ code: 'CLASS_NOT_ENDED' }),
    ]);
    h.running.services.clock.set(afterClass);
    expect(
      (await h.mutate<{ errors: Errors }>(staff('420100', ['training:class:approve']), REVIEW, { input }))
        .errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect((await h.mutate<{ errors: Errors }>(pingdingshanBureau(), REVIEW, { input })).errors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);
    expect((await h.mutate<{ errors: Errors }>(inst.main, REVIEW, { input })).errors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect(await h.outbox('CompletionRecorded', cls.id)).toEqual([]);
  });

  it('is all or nothing: one bad result writes no result at all', async () => {
    h.running.services.clock.set(afterClass);
    const res = await h.mutate<{ errors: Errors }>(reviewer(), REVIEW, {
      input: {
        classId: cls.id,
        results: [
          { enrollmentId: attended.enrollmentId, passed: true },
          { enrollmentId: pending.enrollmentId, passed: true },
        ],
      },
    });
    expect(res.errors).toEqual([
      expect.objectContaining({ code: 'IDENTITY_CHECK_PENDING', field: 'results.1.enrollmentId' }),
    ]);
    const bad = async (results: unknown[]) =>
      (await h.mutate<{ errors: Errors }>(reviewer(), REVIEW, { input: { classId: cls.id, results } }))
        .errors;
    expect(await bad([{ enrollmentId: uuidv7(), passed: false }])).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: 'results.0.enrollmentId' }),
    ]);
    expect(await bad([])).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'results' })]);
    expect(
      await bad([
        { enrollmentId: attended.enrollmentId, passed: true },
        { enrollmentId: attended.enrollmentId, passed: false },
      ]),
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'results.1.enrollmentId' })]);
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM enrollments WHERE class_id = $1 AND completion_passed IS NOT NULL`,
      [cls.id],
    );
    expect(n).toBe(0);
    expect(await h.outbox('CompletionRecorded', cls.id)).toEqual([]);
  });

  it('records pass and fail with the reviewer and publishes CompletionRecorded for each, once', async () => {
    h.running.services.clock.set(afterClass);
    const who = reviewer();
    const res = await h.mutate<{
      enrollments: {
        id: string;
        completion: { passed: boolean; reviewedBy: string; remark: string | null };
      }[];
      errors: Errors;
    }>(who, REVIEW, {
      input: {
        classId: cls.id,
        results: [
          { enrollmentId: attended.enrollmentId, passed: true },
          { enrollmentId: absent.enrollmentId, passed: false, remark: '缺勤，考核不合格' },
        ],
      },
    });
    expect(res.errors).toEqual([]);
    expect(res.enrollments.map((e) => e.completion)).toEqual([
      expect.objectContaining({ passed: true, reviewedBy: who.id, remark: null }),
      expect.objectContaining({ passed: false, reviewedBy: who.id, remark: '缺勤，考核不合格' }),
    ]);
    const events = (await h.outbox('CompletionRecorded', cls.id)).map((r) => ({
      topic: r.topic,
      ...decode(CompletionRecordedSchema, r),
    }));
    expect(events).toEqual([
      expect.objectContaining({
        topic: 'training.enrollment.v1',
        enrollmentId: attended.enrollmentId,
        personId: attended.trainee.id,
        classId: cls.id,
        institutionId: inst.id,
        regionCode: '420102',
        passed: true,
        attendanceRateBp: 5000,
        reviewerId: who.id,
        occupation: '电工',
        level: '四级',
      }),
      expect.objectContaining({
        enrollmentId: absent.enrollmentId,
        personId: absent.trainee.id,
        passed: false,
        attendanceRateBp: 0,
      }),
    ]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(who, REVIEW, {
          input: { classId: cls.id, results: [{ enrollmentId: absent.enrollmentId, passed: true }] },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'COMPLETION_ALREADY_RECORDED' })]);
    expect(await h.outbox('CompletionRecorded', cls.id)).toHaveLength(2);
    const audit = await h.running.deps.ds.query(
      `SELECT actor_id, action FROM audit_log WHERE subject_id = $1 AND action = 'class.completion-review'`,
      [cls.id],
    );
    expect(audit).toEqual([{ actor_id: who.id, action: 'class.completion-review' }]);
    // The trainee sees their own result.
    const mine = await h.gql(
      attended.trainee,
      `query ($id: ID!) { enrollment(id: $id) { completion { passed reviewedBy } } }`,
      { id: attended.enrollmentId },
    );
    expect(mine.body.data.enrollment.completion).toEqual({ passed: true, reviewedBy: who.id });
  });
});

describe('evaluation (评价)', () => {
  it('opens after the class; a trainee who never attended cannot rate it', async () => {
    expect(
      (
        await h.mutate<{ errors: Errors }>(attended.trainee, RATE_INSTITUTION, {
          input: { classId: cls.id, score: 5 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CLASS_NOT_ENDED' })]);
    h.running.services.clock.set(afterClass);
    expect(
      (
        await h.mutate<{ errors: Errors }>(absent.trainee, RATE_INSTITUTION, {
          input: { classId: cls.id, score: 1, comment: '没去' },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_ATTENDED', field: 'classId' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(person(), RATE_INSTITUTION, {
          input: { classId: cls.id, score: 1 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_ENROLLED' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(pending.trainee, RATE_INSTITUTION, {
          input: { classId: cls.id, score: 1 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_ENROLLED' })]);
    const [{ n }] = await h.running.deps.ds.query(`SELECT count(*)::int AS n FROM evaluations`);
    expect(n).toBe(0);
  });

  it('a trainee who attended scores the institution once (1–5 with a comment); the rating shows in the catalogue', async () => {
    h.running.services.clock.set(afterClass);
    for (const score of [0, 6]) {
      expect(
        (
          await h.mutate<{ errors: Errors }>(attended.trainee, RATE_INSTITUTION, {
            input: { classId: cls.id, score },
          })
        ).errors,
      ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'score' })]);
    }
    expect(
      await h.mutate(attended.trainee, RATE_INSTITUTION, { input: { classId: cls.id, score: 4 } }),
    ).toMatchObject({
      evaluation: { score: 4, comment: null },
      errors: [],
    });
    const again = await h.mutate<{ errors: Errors }>(attended.trainee, RATE_INSTITUTION, {
      input: { classId: cls.id, score: 5 },
    });
    expect(again.errors).toEqual([expect.objectContaining({ code: 'ALREADY_EVALUATED' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(alsoAttended.trainee, RATE_INSTITUTION, {
          input: { classId: cls.id, score: 7 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'score' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(alsoAttended.trainee, RATE_INSTITUTION, {
          input: { classId: cls.id, score: 5, comment: 'x'.repeat(501) },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'comment' })]);
    expect(
      await h.mutate(alsoAttended.trainee, RATE_INSTITUTION, {
        input: { classId: cls.id, score: 5, comment: '老师讲得很细致' },
      }),
    ).toMatchObject({ evaluation: { score: 5, comment: '老师讲得很细致' }, errors: [] });

    const anonymous = { kind: 'anonymous' as const, permissions: [] };
    const listed = await h.gql(
      anonymous,
      `query ($id: ID!) { trainingClass(id: $id) { rating { average count } institution { rating { average count } } } }`,
      {
        id: cls.id,
      },
    );
    expect(listed.body.data.trainingClass).toEqual({
      rating: { average: 4.5, count: 2 },
      institution: { rating: { average: 4.5, count: 2 } },
    });
    const catalogue = await h.gql(
      anonymous,
      `{ catalogue(first: 100) { edges { node { id institution { rating { average count } } } } } }`,
    );
    const entry = catalogue.body.data.catalogue.edges.find(
      (e: { node: { id: string } }) => e.node.id === cls.id,
    );
    expect(entry.node.institution.rating).toEqual({ average: 4.5, count: 2 });
  });

  it('the institution rates a trainee once; other institutions cannot', async () => {
    h.running.services.clock.set(afterClass);
    const other = await registerInstitution(h);
    expect(
      (
        await h.mutate<{ errors: Errors }>(other.main, RATE_TRAINEE, {
          input: { enrollmentId: attended.enrollmentId, score: 1 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(attended.trainee, RATE_TRAINEE, {
          input: { enrollmentId: attended.enrollmentId, score: 5 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect(
      await h.mutate(inst.main, RATE_TRAINEE, {
        input: { enrollmentId: attended.enrollmentId, score: 5, comment: '学习认真' },
      }),
    ).toMatchObject({
      evaluation: { score: 5 },
      errors: [],
    });
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, RATE_TRAINEE, {
          input: { enrollmentId: attended.enrollmentId, score: 4 },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'ALREADY_EVALUATED' })]);
    const both = await h.gql(
      attended.trainee,
      `query ($id: ID!) { enrollment(id: $id) { traineeEvaluation { score } institutionEvaluation { score comment } } }`,
      {
        id: attended.enrollmentId,
      },
    );
    expect(both.body.data.enrollment).toEqual({
      traineeEvaluation: { score: 4 },
      institutionEvaluation: { score: 5, comment: '学习认真' },
    });
  });
});
