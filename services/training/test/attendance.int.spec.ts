/**
 * Attendance (考勤, Art. 23) against real PostgreSQL: location check-in inside/outside the radius and the
 * session window, the QR fallback (a rotating class code the trainee scans, or the operator scanning the
 * trainee's code) with expired, forged and tampered codes refused, exactly one check-in per person per
 * session, nothing stored for a refused check-in, attendance rates, and the Person fields contributed to
 * the graph (the person themself; staff reading in their region).
 */
import { AttendanceRecordedSchema, CheckInMethod, CheckInOutcome } from '@vtv/events';
import { uuidv7 } from '@vtv/kit';
import { QrSigner, qrKey } from '../src/services/qr';
import {
  ENROLL,
  SITE,
  activeTrainee,
  approvedClass,
  decode,
  north,
  person,
  pingdingshanBureau,
  registerInstitution,
  staff,
  startTraining,
  type Harness,
  type Institution,
} from './helpers';

type Errors = { code: string; field: string | null; message: string }[];

const CHECK_IN = `mutation ($input: LocationCheckInInput!) {
  checkIn(input: $input) { attendance { id method outcome distanceBucketM checkedInAt recordedBy session { id sequence } } errors { code field message } }
}`;
const CLASS_CODE = `mutation ($sessionId: ID!) { issueClassCheckInCode(sessionId: $sessionId) { code { token expiresAt } errors { code field message } } }`;
const SCAN_CLASS = `mutation ($token: String!) {
  checkInWithClassCode(token: $token) { attendance { id method outcome distanceBucketM } errors { code field message } }
}`;
const TRAINEE_CODE = `mutation ($sessionId: ID!) { issueTraineeCheckInCode(sessionId: $sessionId) { code { token expiresAt } errors { code field message } } }`;
const SCAN_TRAINEE = `mutation ($token: String!) {
  checkInByOperatorScan(token: $token) { attendance { id method recordedBy } errors { code field message } }
}`;
const ENROLLMENT = `query ($id: ID!) {
  enrollment(id: $id) { id attendedSessions scheduledSessions attendanceRateBp attendance { method outcome distanceBucketM } }
}`;

let h: Harness;
let inst: Institution;
let cls: { id: string; sessions: { id: string; startsAt: string; endsAt: string }[] };

beforeAll(async () => {
  h = await startTraining({ CHECKIN_RADIUS_M: '300', CLASS_QR_TTL_S: '60' });
  inst = await registerInstitution(h);
  cls = await approvedClass(h, inst);
});

afterEach(() => h.running.services.clock.set(null));

afterAll(async () => {
  await h?.stop();
});

const stored = async () => {
  const [{ n }] = await h.running.deps.ds.query('SELECT count(*)::int AS n FROM attendance');
  const [{ e }] = await h.running.deps.ds.query(
    `SELECT count(*)::int AS e FROM outbox WHERE type = 'vtv.training.v1.AttendanceRecorded'`,
  );
  return { rows: n as number, events: e as number };
};

async function refused(
  caller: Parameters<Harness['mutate']>[0],
  query: string,
  variables: Record<string, unknown>,
): Promise<Errors> {
  const before = await stored();
  const res = await h.mutate<{ attendance?: unknown; code?: unknown; errors: Errors }>(
    caller,
    query,
    variables,
  );
  expect(res.errors).toHaveLength(1);
  expect(await stored()).toEqual(before);
  return res.errors;
}

describe('location check-in (定位签到)', () => {
  it('is accepted within the radius inside the window, keeping the method, outcome and a distance bucket only', async () => {
    const { trainee, enrollmentId } = await activeTrainee(h, inst, cls.id);
    const res = await h.mutate<{ attendance: Record<string, unknown>; errors: Errors }>(trainee, CHECK_IN, {
      input: { sessionId: cls.sessions[0]!.id, ...north(SITE, 120) },
    });
    expect(res.errors).toEqual([]);
    expect(res.attendance).toMatchObject({
      method: 'LOCATION',
      outcome: 'ON_TIME',
      distanceBucketM: 200,
      recordedBy: null,
      session: { sequence: 1 },
    });
    // No raw coordinates anywhere in the row.
    const [row] = await h.running.deps.ds.query('SELECT * FROM attendance WHERE id = $1', [
      res.attendance.id,
    ]);
    expect(Object.keys(row).sort()).toEqual(
      [
        'checked_in_at',
        'class_id',
        'distance_bucket_m',
        'enrollment_id',
        'id',
        'method',
        'outcome',
        'person_id',
        'recorded_by',
        'session_id',
      ].sort(),
    );
    const [event] = await h.outbox('AttendanceRecorded', cls.id);
    expect(event!.topic).toBe('training.enrollment.v1');
    expect(decode(AttendanceRecordedSchema, event!)).toMatchObject({
      enrollmentId,
      classId: cls.id,
      personId: trainee.id,
      sessionId: cls.sessions[0]!.id,
      method: CheckInMethod.LOCATION,
      outcome: CheckInOutcome.ON_TIME,
      distanceBucketM: 200,
      attendanceRateBp: 5000,
      institutionId: inst.id,
    });
    expect((await h.gql(trainee, ENROLLMENT, { id: enrollmentId })).body.data.enrollment).toMatchObject({
      attendedSessions: 1,
      scheduledSessions: 2,
      attendanceRateBp: 5000,
    });
  });

  it('is refused outside the radius, with a clear code and nothing stored', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    const errors = await refused(trainee, CHECK_IN, {
      input: { sessionId: cls.sessions[0]!.id, ...north(SITE, 450) },
    });
    expect(errors).toEqual([expect.objectContaining({ code: 'CHECKIN_OUT_OF_RANGE' })]);
    expect(errors[0]!.message).toMatch(/within 300 m/);
    expect(
      await refused(trainee, CHECK_IN, {
        input: { sessionId: cls.sessions[0]!.id, latitude: 39.9, longitude: 116.4 },
      }),
    ).toEqual([expect.objectContaining({ code: 'CHECKIN_OUT_OF_RANGE' })]);
  });

  it('is refused outside the session window (before it opens, after it ends), nothing stored', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    // The second session starts tomorrow: its window is not open yet.
    expect(await refused(trainee, CHECK_IN, { input: { sessionId: cls.sessions[1]!.id, ...SITE } })).toEqual([
      expect.objectContaining({ code: 'CHECKIN_OUTSIDE_WINDOW', field: 'sessionId' }),
    ]);
    h.running.services.clock.set(new Date(Date.parse(cls.sessions[0]!.endsAt) + 1_000));
    expect(await refused(trainee, CHECK_IN, { input: { sessionId: cls.sessions[0]!.id, ...SITE } })).toEqual([
      expect.objectContaining({ code: 'CHECKIN_OUTSIDE_WINDOW' }),
    ]);
    // 25 minutes before the start is inside the default 30-minute early window.
    h.running.services.clock.set(new Date(Date.parse(cls.sessions[1]!.startsAt) - 25 * 60_000));
    expect(
      (
        await h.mutate<{ errors: Errors }>(trainee, CHECK_IN, {
          input: { sessionId: cls.sessions[1]!.id, ...SITE },
        })
      ).errors,
    ).toEqual([]);
  });

  it('marks a check-in after the late threshold as LATE', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    h.running.services.clock.set(new Date(Date.parse(cls.sessions[0]!.startsAt) + 20 * 60_000));
    const res = await h.mutate<{ attendance: { outcome: string }; errors: Errors }>(trainee, CHECK_IN, {
      input: { sessionId: cls.sessions[0]!.id, ...SITE },
    });
    expect(res).toMatchObject({ attendance: { outcome: 'LATE' }, errors: [] });
  });

  it('refuses bad coordinates, unknown sessions, strangers, unchecked identities and online classes', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    const session = cls.sessions[0]!.id;
    expect(
      await refused(trainee, CHECK_IN, { input: { sessionId: session, latitude: 91, longitude: 114 } }),
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'latitude' })]);
    expect(
      await refused(trainee, CHECK_IN, { input: { sessionId: session, latitude: 30, longitude: -181 } }),
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'longitude' })]);
    expect(await refused(trainee, CHECK_IN, { input: { sessionId: uuidv7(), ...SITE } })).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND' }),
    ]);
    expect(await refused(trainee, CHECK_IN, { input: { sessionId: 'x', ...SITE } })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'sessionId' }),
    ]);
    expect(await refused(person(), CHECK_IN, { input: { sessionId: session, ...SITE } })).toEqual([
      expect.objectContaining({ code: 'NOT_ENROLLED' }),
    ]);
    const pending = person();
    await h.mutate(pending, ENROLL, { classId: cls.id });
    expect(await refused(pending, CHECK_IN, { input: { sessionId: session, ...SITE } })).toEqual([
      expect.objectContaining({ code: 'IDENTITY_CHECK_PENDING' }),
    ]);
    expect(await refused(inst.bureau, CHECK_IN, { input: { sessionId: session, ...SITE } })).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    const online = await approvedClass(h, inst, { online: true });
    const learner = await activeTrainee(h, inst, online.id);
    expect(
      await refused(learner.trainee, CHECK_IN, { input: { sessionId: online.sessions[0]!.id, ...SITE } }),
    ).toEqual([expect.objectContaining({ code: 'CHECKIN_METHOD_NOT_ALLOWED' })]);
  });

  it('measures from the class’s own location when the plan names one', async () => {
    const venue = { latitude: 30.55, longitude: 114.25 }; // about 7 km from the institution
    const away = await approvedClass(h, inst, { location: { address: '汉阳区实训基地', ...venue } });
    const { trainee } = await activeTrainee(h, inst, away.id);
    expect(await refused(trainee, CHECK_IN, { input: { sessionId: away.sessions[0]!.id, ...SITE } })).toEqual(
      [expect.objectContaining({ code: 'CHECKIN_OUT_OF_RANGE' })],
    );
    expect(
      (
        await h.mutate<{ errors: Errors }>(trainee, CHECK_IN, {
          input: { sessionId: away.sessions[0]!.id, ...north(venue, 40) },
        })
      ).errors,
    ).toEqual([]);
  });
});

describe('one check-in per person per session', () => {
  it('refuses the second check-in, whatever the method, and a concurrent burst stores one', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    const session = cls.sessions[0]!.id;
    const burst = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.mutate<{ errors: Errors }>(trainee, CHECK_IN, { input: { sessionId: session, ...SITE } }),
      ),
    );
    expect(burst.filter((r) => r.errors.length === 0)).toHaveLength(1);
    expect(burst.filter((r) => r.errors[0]?.code === 'ALREADY_CHECKED_IN')).toHaveLength(7);
    const { code } = await h.mutate<{ code: { token: string } }>(inst.main, CLASS_CODE, {
      sessionId: session,
    });
    expect(await refused(trainee, SCAN_CLASS, { token: code.token })).toEqual([
      expect.objectContaining({ code: 'ALREADY_CHECKED_IN' }),
    ]);
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM attendance WHERE person_id = $1`,
      [trainee.id],
    );
    expect(n).toBe(1);
    const [{ attended }] = await h.running.deps.ds.query(
      `SELECT attended_sessions AS attended FROM enrollments WHERE person_id = $1`,
      [trainee.id],
    );
    expect(attended).toBe(1);
  });
});

describe('QR fallback (扫码签到)', () => {
  it('a trainee out of range checks in by scanning the rotating class code', async () => {
    const { trainee, enrollmentId } = await activeTrainee(h, inst, cls.id);
    const session = cls.sessions[0]!.id;
    expect(
      await refused(trainee, CHECK_IN, { input: { sessionId: session, ...north(SITE, 2_000) } }),
    ).toEqual([expect.objectContaining({ code: 'CHECKIN_OUT_OF_RANGE' })]);
    const first = await h.mutate<{ code: { token: string; expiresAt: string }; errors: Errors }>(
      inst.main,
      CLASS_CODE,
      { sessionId: session },
    );
    expect(first.errors).toEqual([]);
    expect(Date.parse(first.code.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    const second = await h.mutate<{ code: { token: string } }>(inst.main, CLASS_CODE, { sessionId: session });
    expect(second.code.token).not.toBe(first.code.token);
    const res = await h.mutate<{ attendance: Record<string, unknown>; errors: Errors }>(trainee, SCAN_CLASS, {
      token: first.code.token,
    });
    expect(res).toMatchObject({ attendance: { method: 'CLASS_QR', distanceBucketM: null }, errors: [] });
    const [event] = (await h.outbox('AttendanceRecorded', cls.id))
      .map((r) => decode(AttendanceRecordedSchema, r))
      .filter((e) => e.enrollmentId === enrollmentId);
    expect(event).toMatchObject({ method: CheckInMethod.CLASS_QR, distanceBucketM: 0 });
  });

  it('refuses expired, forged, tampered and wrong-kind codes, and codes for another class', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    const session = cls.sessions[0]!.id;
    const { code } = await h.mutate<{ code: { token: string } }>(inst.main, CLASS_CODE, {
      sessionId: session,
    });

    h.running.services.clock.set(new Date(Date.now() + 61_000));
    expect(await refused(trainee, SCAN_CLASS, { token: code.token })).toEqual([
      expect.objectContaining({ code: 'QR_EXPIRED', field: 'token' }),
    ]);
    h.running.services.clock.set(null);

    const now = new Date();
    const forged = new QrSigner(qrKey('someone-else-entirely-0123456789abcdef', 'x'.repeat(32)), 60).issue(
      'class',
      session,
      now,
    ).token;
    expect(await refused(trainee, SCAN_CLASS, { token: forged })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);
    const [v, body, mac] = code.token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400_000 })).toString(
      'base64url',
    );
    expect(await refused(trainee, SCAN_CLASS, { token: `${v}.${longer}.${mac}` })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);
    expect(await refused(trainee, SCAN_CLASS, { token: `${v}.${body}.` })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);
    expect(await refused(trainee, SCAN_CLASS, { token: 'z'.repeat(100_000) })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);
    const traineeCode = (
      await h.mutate<{ code: { token: string } }>(trainee, TRAINEE_CODE, { sessionId: session })
    ).code.token;
    expect(await refused(trainee, SCAN_CLASS, { token: traineeCode })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);

    // A genuine code of another class does not check anyone into this one.
    const other = await approvedClass(h, inst);
    const otherCode = (
      await h.mutate<{ code: { token: string } }>(inst.main, CLASS_CODE, { sessionId: other.sessions[0]!.id })
    ).code.token;
    expect(await refused(trainee, SCAN_CLASS, { token: otherCode })).toEqual([
      expect.objectContaining({ code: 'NOT_ENROLLED' }),
    ]);
  });

  it('only the institution’s operators issue class codes, and only inside the window', async () => {
    const outsider = await registerInstitution(h);
    expect(
      (await h.mutate<{ errors: Errors }>(outsider.main, CLASS_CODE, { sessionId: cls.sessions[0]!.id }))
        .errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(
      (await h.mutate<{ errors: Errors }>(person(), CLASS_CODE, { sessionId: cls.sessions[0]!.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(
      (await h.mutate<{ errors: Errors }>(inst.main, CLASS_CODE, { sessionId: cls.sessions[1]!.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'CHECKIN_OUTSIDE_WINDOW' })]);
  });

  it('an operator scans the trainee’s own code; another institution’s operator cannot', async () => {
    const { trainee } = await activeTrainee(h, inst, cls.id);
    const session = cls.sessions[0]!.id;
    const { code } = await h.mutate<{ code: { token: string } }>(trainee, TRAINEE_CODE, {
      sessionId: session,
    });
    const outsider = await registerInstitution(h);
    expect(await refused(outsider.main, SCAN_TRAINEE, { token: code.token })).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect(await refused(trainee, SCAN_TRAINEE, { token: code.token })).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    const res = await h.mutate<{ attendance: { method: string; recordedBy: string }; errors: Errors }>(
      inst.main,
      SCAN_TRAINEE,
      { token: code.token },
    );
    expect(res).toMatchObject({
      attendance: { method: 'OPERATOR_SCAN', recordedBy: inst.main.id },
      errors: [],
    });
    expect(await refused(inst.main, SCAN_TRAINEE, { token: code.token })).toEqual([
      expect.objectContaining({ code: 'ALREADY_CHECKED_IN' }),
    ]);
    // A class code is not a trainee code.
    const classCode = (
      await h.mutate<{ code: { token: string } }>(inst.main, CLASS_CODE, { sessionId: session })
    ).code.token;
    expect(await refused(inst.main, SCAN_TRAINEE, { token: classCode })).toEqual([
      expect.objectContaining({ code: 'QR_INVALID' }),
    ]);
    // Someone not enrolled cannot get a trainee code.
    expect(
      (await h.mutate<{ errors: Errors }>(person(), TRAINEE_CODE, { sessionId: session })).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_ENROLLED' })]);
  });
});

describe('attendance rate and the Person fields', () => {
  const PERSON = `query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Person { id enrollments(first: 10) { edges { node { id attendanceRateBp trainingClass { id } } } } attendance(first: 10) { edges { node { method session { sequence } } } } }
    }
  }`;

  it('counts attended over scheduled sessions; the person sees theirs, strangers nothing, staff in their region only', async () => {
    const { trainee, enrollmentId } = await activeTrainee(h, inst, cls.id);
    await h.mutate(trainee, CHECK_IN, { input: { sessionId: cls.sessions[0]!.id, ...SITE } });
    h.running.services.clock.set(new Date(Date.parse(cls.sessions[1]!.startsAt) + 60_000));
    await h.mutate(trainee, CHECK_IN, { input: { sessionId: cls.sessions[1]!.id, ...SITE } });
    h.running.services.clock.set(null);
    expect((await h.gql(trainee, ENROLLMENT, { id: enrollmentId })).body.data.enrollment).toMatchObject({
      attendedSessions: 2,
      scheduledSessions: 2,
      attendanceRateBp: 10_000,
    });

    const representations = [{ __typename: 'Person', id: trainee.id }];
    const own = (await h.gql(trainee, PERSON, { representations })).body.data._entities[0];
    expect(own.enrollments.edges).toEqual([
      { node: { id: enrollmentId, attendanceRateBp: 10_000, trainingClass: { id: cls.id } } },
    ]);
    expect(
      own.attendance.edges.map((e: { node: { session: { sequence: number } } }) => e.node.session.sequence),
    ).toEqual([1, 2]);

    const stranger = (await h.gql(person(), PERSON, { representations })).body.data._entities[0];
    expect(stranger).toMatchObject({ enrollments: { edges: [] }, attendance: { edges: [] } });
    expect((await h.gql(person(), ENROLLMENT, { id: enrollmentId })).body.data.enrollment).toBeNull();

    const hubeiReader = (await h.gql(staff('420000', ['training:read']), PERSON, { representations })).body
      .data._entities[0];
    expect(hubeiReader.enrollments.edges).toHaveLength(1);
    expect(hubeiReader.attendance.edges).toHaveLength(2);
    const henan = (await h.gql(pingdingshanBureau(), PERSON, { representations })).body.data._entities[0];
    expect(henan).toMatchObject({ enrollments: { edges: [] }, attendance: { edges: [] } });
    const noPermission = (await h.gql(staff('420000', ['vouchers:read']), PERSON, { representations })).body
      .data._entities[0];
    expect(noPermission).toMatchObject({ enrollments: { edges: [] }, attendance: { edges: [] } });
    // The institution's operators see the enrollment (Art. 15).
    expect((await h.gql(inst.main, ENROLLMENT, { id: enrollmentId })).body.data.enrollment.id).toBe(
      enrollmentId,
    );
  });
});
