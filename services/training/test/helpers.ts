import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import request from 'supertest';
import type { TrainingConfig } from '../src/config';
import {
  CLASS_APPROVE,
  CLASS_SUBMIT,
  COMPLETION_REVIEW,
  INSTITUTION_WRITE,
  TRAINING_READ,
  training,
  type TrainingServices,
} from '../src/service';
import { creditCodeCheckChar } from '../src/services/credit-code';

export const SECRET = 'training-test-secret-0123456789abcdef';

export type Running = RunningService<TrainingServices, TrainingConfig>;

export interface Harness {
  running: Running;
  db: TestDatabase;
  gql(caller: Caller | null, query: string, variables?: Record<string, unknown>): Promise<request.Response>;
  /** Runs a mutation and returns its payload (failing the test on a GraphQL-level error). */
  mutate<T = Record<string, unknown>>(
    caller: Caller | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<T>;
  outbox(type: string, key?: string): Promise<OutboxRow[]>;
  stop(): Promise<void>;
}

export interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  payload: Buffer;
}

/** Starts training on a fresh database; without Kafka/Redis in `env` it uses the in-process bus and cache. */
export async function startTraining(env: Record<string, string> = {}): Promise<Harness> {
  const db = await createTestDatabase('training');
  const { KAFKA_BROKERS: _k, REDIS_URL: _r, EVENTS_NAMESPACE: _n, ...base } = process.env;
  let running: Running;
  try {
    running = await startService(training, {
      env: {
        ...base,
        DATABASE_URL: db.url,
        PORT: '0',
        HOST: '127.0.0.1',
        INTERNAL_AUTH_SECRET: SECRET,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        ...env,
      },
    });
  } catch (err) {
    await db.drop();
    throw err;
  }
  const gql = (caller: Caller | null, query: string, variables: Record<string, unknown> = {}) => {
    const req = request(running.app)
      .post('/graphql')
      .set('apollo-require-preflight', 'true')
      .set('content-type', 'application/json');
    if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
    return req.send({ query, variables });
  };
  return {
    running,
    db,
    gql,
    async mutate<T>(caller: Caller | null, query: string, variables: Record<string, unknown> = {}) {
      const res = await gql(caller, query, variables);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      const data = res.body.data as Record<string, T>;
      return Object.values(data)[0] as T;
    },
    outbox: (type: string, key?: string) =>
      running.deps.ds.query(
        `SELECT id, topic, key, type, payload FROM outbox WHERE type = $1 ${key ? 'AND key = $2' : ''} ORDER BY id`,
        key ? [`vtv.training.v1.${type}`, key] : [`vtv.training.v1.${type}`],
      ),
    stop: async () => {
      await running.stop();
      await db.drop();
    },
  };
}

export function decode<D extends DescMessage>(
  schema: D,
  row: { payload: Buffer | Uint8Array },
): MessageShape<D> {
  return fromBinary(schema, new Uint8Array(row.payload));
}

// ---- callers -------------------------------------------------------------------------------------

export const person = (id = uuidv7()): Caller & { id: string } => ({ kind: 'person', id, permissions: [] });

export const staff = (regionCode: string, permissions: string[]): Caller & { id: string } => ({
  kind: 'staff',
  id: uuidv7(),
  regionCode,
  permissions,
});

/** A Wuhan city bureau holding every training permission. */
export const wuhanBureau = () =>
  staff('420100', [INSTITUTION_WRITE, CLASS_SUBMIT, CLASS_APPROVE, COMPLETION_REVIEW, TRAINING_READ]);
/** A bureau elsewhere (Pingdingshan, Henan) with the same permissions. */
export const pingdingshanBureau = () =>
  staff('410400', [INSTITUTION_WRITE, CLASS_SUBMIT, CLASS_APPROVE, COMPLETION_REVIEW, TRAINING_READ]);

// ---- data ----------------------------------------------------------------------------------------

let counter = 0;
/** A valid, unique unified social credit code (GB 32100-2015). */
export function creditCode(): string {
  counter += 1;
  const digits = `${Date.now() % 1e6}${process.pid % 100}${counter}`.padStart(9, '0').slice(-9);
  const first17 = `91420100${digits}`;
  return first17 + creditCodeCheckChar(first17);
}

/** The institution's coordinates in the tests: Jiang'an district, Wuhan. */
export const SITE = { latitude: 30.6, longitude: 114.3 };

export const REGISTER = `mutation ($input: RegisterInstitutionInput!) {
  registerInstitution(input: $input) { institution { id name creditCode active regionCode } errors { code field message } }
}`;

export const SUBMIT = `mutation ($input: SubmitClassPlanInput!) {
  submitClassPlan(input: $input) {
    trainingClass { id state rosterSize enrolledCount online sessions { id sequence startsAt endsAt checkInOpensAt course { name } } courses { id name hours } }
    errors { code field message }
  }
}`;

export const APPROVE = `mutation ($id: ID!) { approveClassPlan(id: $id) { trainingClass { id state approvedAt } errors { code field message } } }`;

export const ENROLL = `mutation ($classId: ID!) {
  enrollInClass(classId: $classId) { enrollment { id state source } errors { code field message } }
}`;

export const CHECK_IDENTITY = `mutation ($id: ID!, $matched: Boolean!) {
  checkEnrollmentIdentity(enrollmentId: $id, matched: $matched) { enrollment { id state identityCheckedBy identityCheckedAt } errors { code field message } }
}`;

export interface Institution {
  id: string;
  main: Caller & { id: string };
  bureau: Caller & { id: string };
}

/** Registers an institution in Jiang'an district with a fresh main operator. */
export async function registerInstitution(
  h: Harness,
  overrides: Record<string, unknown> = {},
): Promise<Institution> {
  const bureau = wuhanBureau();
  const main = person();
  const payload = await h.mutate<{ institution: { id: string }; errors: unknown[] }>(bureau, REGISTER, {
    input: {
      name: '武汉市江岸区职业培训学校',
      creditCode: creditCode(),
      regionCode: '420102',
      address: '江岸区解放大道1000号',
      ...SITE,
      mainOperatorPersonId: main.id,
      ...overrides,
    },
  });
  expect(payload.errors).toEqual([]);
  return { id: payload.institution.id, main, bureau };
}

const iso = (d: Date) => d.toISOString();
const MIN = 60_000;

/** A plan whose sessions sit around `now` (the first started 10 minutes ago), so check-in is open. */
export function planInput(institutionId: string, overrides: Record<string, unknown> = {}, now = new Date()) {
  const day = (offset: number) => new Date(now.getTime() + offset * 24 * 60 * MIN);
  const chinaDate = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
  return {
    institutionId,
    name: '电工（四级）培训班',
    occupation: '电工',
    trainingType: '岗位技能提升培训',
    level: '四级',
    headcount: 30,
    startDate: chinaDate(day(-1)),
    endDate: chinaDate(day(3)),
    courses: [
      { name: '电工基础', hours: 16 },
      { name: '低压电器', hours: 24, description: '常用低压电器的安装与检修' },
    ],
    sessions: [
      {
        startsAt: iso(new Date(now.getTime() - 10 * MIN)),
        endsAt: iso(new Date(now.getTime() + 110 * MIN)),
        courseIndex: 0,
      },
      {
        startsAt: iso(new Date(now.getTime() + 24 * 60 * MIN)),
        endsAt: iso(new Date(now.getTime() + 26 * 60 * MIN)),
        courseIndex: 1,
      },
    ],
    rosterPersonIds: [],
    ...overrides,
  };
}

/** Submits (as the main operator) and approves (as the bureau) a plan; returns the class and its session ids. */
export async function approvedClass(
  h: Harness,
  inst: Institution,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; sessions: { id: string; startsAt: string; endsAt: string }[] }> {
  const submitted = await h.mutate<{
    trainingClass: { id: string; sessions: { id: string; startsAt: string; endsAt: string }[] };
    errors: unknown[];
  }>(inst.main, SUBMIT, { input: planInput(inst.id, overrides) });
  expect(submitted.errors).toEqual([]);
  const approved = await h.mutate<{ errors: unknown[] }>(inst.bureau, APPROVE, {
    id: submitted.trainingClass.id,
  });
  expect(approved.errors).toEqual([]);
  return submitted.trainingClass;
}

/** Enrolls a new labourer online and has the main operator confirm their identity. */
export async function activeTrainee(h: Harness, inst: Institution, classId: string) {
  const trainee = person();
  const enrolled = await h.mutate<{ enrollment: { id: string }; errors: unknown[] }>(trainee, ENROLL, {
    classId,
  });
  expect(enrolled.errors).toEqual([]);
  const checked = await h.mutate<{ errors: unknown[] }>(inst.main, CHECK_IDENTITY, {
    id: enrolled.enrollment.id,
    matched: true,
  });
  expect(checked.errors).toEqual([]);
  return { trainee, enrollmentId: enrolled.enrollment.id };
}

/** A point `metres` north of `from`. */
export function north(from: { latitude: number; longitude: number }, metres: number) {
  return { latitude: from.latitude + metres / 111_195, longitude: from.longitude };
}
