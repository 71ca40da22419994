import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AttendanceRecordedSchema,
  CertificateKind,
  CertificateRecordedSchema,
  ClassPlanApprovedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  FunctionMode,
  KafkaBus,
  OperatorMembershipChangedSchema,
  SERVICES,
  TOPICS,
  VoucherIssuedSchema,
  VoucherState,
  VoucherStateChangedSchema,
  buildEvent,
  type EventRecord,
} from '@vtv/events';
import { createLogger, signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService, type RunningService, type StartOptions } from '@vtv/runtime';
import {
  createKafkaNamespace,
  createTestDatabase,
  type KafkaNamespace,
  type TestDatabase,
} from '@vtv/testing';
import request from 'supertest';
import type { SettlementConfig } from '../src/config';
import { settlement, type SettlementServices } from '../src/service';

export const SECRET = 'settlement-test-secret-0123456789abcdef';
export const quiet = createLogger('settlement-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export type Running = RunningService<SettlementServices, SettlementConfig>;

export const staff = (regionCode: string, permissions: string[]): Caller => ({
  kind: 'staff',
  id: uuidv7(),
  regionCode,
  permissions,
});
export const person = (id = uuidv7()): Caller => ({ kind: 'person', id, permissions: [] });

export const ALL = [
  'settlement:read',
  'settlement:review',
  'settlement:disburse',
  'settlement:budget:write',
  'settlement:standards:write',
];

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One test file's world: a throwaway database, a private Kafka namespace, the settlement service on
 * them, a producer for the contract events other subgraphs publish, and a probe that reads what
 * settlement publishes. `close()` leaves nothing behind.
 */
export class World {
  running!: Running;
  bus!: KafkaBus;
  probeGroups: string[] = [];
  published = 0;
  private stops: (() => Promise<void>)[] = [];

  private constructor(
    readonly db: TestDatabase,
    readonly ns: KafkaNamespace,
  ) {}

  static async create(prefix: string, opts: Omit<StartOptions, 'env'> = {}): Promise<World> {
    const db = await createTestDatabase(prefix);
    let ns: KafkaNamespace;
    try {
      ns = await createKafkaNamespace(prefix);
    } catch (err) {
      await db.drop();
      throw err;
    }
    const w = new World(db, ns);
    w.bus = new KafkaBus({
      brokers: ns.brokers.split(','),
      clientId: `${prefix}-producer`,
      logger: quiet,
      namespace: ns.namespace,
    });
    try {
      w.running = await w.start(opts);
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }

  env(): NodeJS.ProcessEnv {
    const { REDIS_URL: _r, ...env } = process.env;
    return {
      ...env,
      DATABASE_URL: this.db.url,
      KAFKA_BROKERS: this.ns.brokers,
      EVENTS_NAMESPACE: this.ns.namespace,
      PORT: '0',
      HOST: '127.0.0.1',
      INTERNAL_AUTH_SECRET: SECRET,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
    };
  }

  /** Starts (another instance of) the service on the same database and namespace. */
  start(opts: Omit<StartOptions, 'env'> = {}): Promise<Running> {
    return startService(settlement, { env: this.env(), logger: quiet, ...opts });
  }

  gql(caller: Caller | null, query: string, variables: Record<string, unknown> = {}, key?: string) {
    const req = request(this.running.app)
      .post('/graphql')
      .set('apollo-require-preflight', 'true')
      .set('content-type', 'application/json');
    if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
    if (key) req.set('idempotency-key', key);
    return req.send({ query, variables });
  }

  /** Publishes contract events as their producers would. */
  async publish<D extends DescMessage>(
    schema: D,
    topic: string,
    subject: string,
    data: MessageInitShape<D>,
    source: string,
  ): Promise<EventRecord> {
    const record = buildEvent({ schema, topic, subject, source, data });
    await this.bus.publish([record]);
    this.published += 1;
    return record;
  }

  /** Waits until settlement's consumer has applied every event published so far. */
  async settled(): Promise<void> {
    await eventually('settlement to consume the published events', async () => {
      const [row]: { n: string }[] = await this.running.deps.ds.query(
        `SELECT count(*) AS n FROM inbox WHERE consumer = 'settlement'`,
      );
      return Number(row!.n) >= this.published;
    });
  }

  /** Collects what reaches a topic of the namespace, through a consumer group of its own. */
  async probe(topic: string): Promise<EventRecord[]> {
    const received: EventRecord[] = [];
    const group = `probe-${this.probeGroups.length}`;
    this.probeGroups.push(group);
    const sub = await this.bus.subscribe({
      group,
      topics: [topic],
      fromBeginning: true,
      handler: async (e) => {
        received.push(e);
      },
    });
    await sub.ready();
    this.stops.push(() => sub.stop());
    return received;
  }

  onClose(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async close(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
    await this.running?.stop().catch(() => undefined);
    try {
      await this.bus.deleteNamespace([...SERVICES, ...this.probeGroups]);
    } finally {
      await this.bus.close();
      await this.ns.cleanup().catch(() => undefined);
      await this.db.drop();
    }
  }

  // ── Contract events of the other subgraphs ─────────────────────────────────────────────────────────

  classApproved(c: {
    classId: string;
    institutionId: string;
    regionCode: string;
    trainingType: string;
    level?: string;
  }) {
    return this.publish(
      ClassPlanApprovedSchema,
      TOPICS.trainingClass.name,
      c.classId,
      {
        classId: c.classId,
        institutionId: c.institutionId,
        regionCode: c.regionCode,
        name: '电工（四级）培训班',
        occupation: '电工',
        trainingType: c.trainingType,
        level: c.level ?? '',
        headcount: 50,
        startDate: '2025-03-01',
        endDate: '2025-03-30',
        approvedAt: timestampFromDate(new Date()),
      },
      '/vtv/training',
    );
  }

  operator(institutionId: string, personId: string, enabled = true) {
    return this.publish(
      OperatorMembershipChangedSchema,
      TOPICS.trainingInstitution.name,
      institutionId,
      {
        institutionId,
        operatorPersonId: personId,
        enabled,
        main: true,
        changedAt: timestampFromDate(new Date()),
      },
      '/vtv/training',
    );
  }

  /** A voucher issued to `holder` and used at an institution for a class. */
  async voucherUsed(v: {
    voucherId: string;
    holder: string;
    institutionId: string;
    classId: string;
    mode: 'FACE_VALUE' | 'DEDUCTION';
    faceValueFen: bigint;
    regionCode: string;
    trainingType: string;
  }) {
    const functionMode = v.mode === 'FACE_VALUE' ? FunctionMode.FACE_VALUE : FunctionMode.DEDUCTION;
    const issuedAt = new Date(Date.now() - 60_000);
    await this.publish(
      VoucherIssuedSchema,
      TOPICS.vouchersVoucher.name,
      v.voucherId,
      {
        voucherId: v.voucherId,
        holderPersonId: v.holder,
        regionCode: v.regionCode,
        functionMode,
        faceValueFen: v.faceValueFen,
        trainingType: v.trainingType,
        occupation: '电工',
        classId: v.classId,
        issuedAt: timestampFromDate(issuedAt),
      },
      '/vtv/vouchers',
    );
    await this.publish(
      VoucherStateChangedSchema,
      TOPICS.vouchersVoucher.name,
      v.voucherId,
      {
        voucherId: v.voucherId,
        holderPersonId: v.holder,
        regionCode: v.regionCode,
        fromState: VoucherState.HELD,
        toState: VoucherState.USED,
        institutionId: v.institutionId,
        classId: v.classId,
        enrollmentId: uuidv7(),
        actorId: uuidv7(),
        faceValueFen: v.faceValueFen,
        functionMode,
        trainingType: v.trainingType,
        changedAt: timestampFromDate(new Date()),
      },
      '/vtv/vouchers',
    );
  }

  /** Enrollment, a check-in with the running attendance rate, and the completion result. */
  async trained(t: {
    personId: string;
    classId: string;
    institutionId: string;
    regionCode: string;
    attendanceRateBp: number;
    passed: boolean | null;
  }) {
    const enrollmentId = uuidv7();
    await this.publish(
      EnrollmentCreatedSchema,
      TOPICS.trainingEnrollment.name,
      t.classId,
      {
        enrollmentId,
        classId: t.classId,
        institutionId: t.institutionId,
        personId: t.personId,
        regionCode: t.regionCode,
        enrolledAt: timestampFromDate(new Date(Date.now() - 50_000)),
      },
      '/vtv/training',
    );
    await this.publish(
      AttendanceRecordedSchema,
      TOPICS.trainingEnrollment.name,
      t.classId,
      {
        enrollmentId,
        classId: t.classId,
        personId: t.personId,
        sessionId: uuidv7(),
        attendanceRateBp: t.attendanceRateBp,
        checkedInAt: timestampFromDate(new Date(Date.now() - 40_000)),
      },
      '/vtv/training',
    );
    if (t.passed !== null)
      await this.publish(
        CompletionRecordedSchema,
        TOPICS.trainingEnrollment.name,
        t.classId,
        {
          enrollmentId,
          classId: t.classId,
          institutionId: t.institutionId,
          personId: t.personId,
          regionCode: t.regionCode,
          passed: t.passed,
          attendanceRateBp: t.attendanceRateBp,
          reviewerId: uuidv7(),
          recordedAt: timestampFromDate(new Date(Date.now() - 30_000)),
        },
        '/vtv/training',
      );
  }

  certificate(personId: string, certificateId = uuidv7()) {
    return this.publish(
      CertificateRecordedSchema,
      TOPICS.careersCertificate.name,
      personId,
      {
        certificateId,
        personId,
        regionCode: '420100',
        kind: CertificateKind.SKILL_LEVEL,
        occupation: '电工',
        level: 'LEVEL_4',
        issuer: '武汉市职业技能鉴定中心',
        issuedAt: timestampFromDate(new Date()),
      },
      '/vtv/careers',
    );
  }
}

/**
 * A class of `institutionId` with `trainees` whose evidence is complete and clean (used vouchers, full
 * attendance, passed), loaded in bulk SQL into the projections: what an application lists.
 */
export async function cleanClassEvidence(
  w: World,
  institutionId: string,
  trainingType: string,
  trainees: number,
): Promise<{ classId: string; lines: { personId: string; voucherId: string }[] }> {
  const classId = uuidv7();
  const ds = w.running.deps.ds;
  await ds.query(
    `INSERT INTO evidence_classes (class_id, institution_id, region_code, name, occupation, training_type, level, approved_at)
     VALUES ($1, $2, '420102', '焊工（四级）培训班', '焊工', $3, '四级', now())`,
    [classId, institutionId, trainingType],
  );
  const lines: { personId: string; voucherId: string }[] = await ds.query(
    `WITH t AS (SELECT gen_random_uuid() AS person_id, gen_random_uuid() AS voucher_id FROM generate_series(1, $3::int)),
          v AS (INSERT INTO evidence_vouchers (voucher_id, holder_person_id, region_code, function_mode, face_value_fen,
                  training_type, state, institution_id, class_id, used_at, state_changed_at)
                SELECT voucher_id, person_id, '420102', 'FACE_VALUE', 300000, $4, 'USED', $2, $1, now(), now() FROM t
                RETURNING voucher_id, holder_person_id),
          e AS (INSERT INTO evidence_enrollments (enrollment_id, class_id, person_id, institution_id, enrolled_at,
                  attendance_rate_bp, attendance_at, passed, final_attendance_rate_bp, completed_at)
                SELECT gen_random_uuid(), $1, holder_person_id, $2, now(), 9000, now(), true, 9000, now() FROM v
                RETURNING person_id)
     SELECT v.holder_person_id AS "personId", v.voucher_id AS "voucherId" FROM v`,
    [classId, institutionId, trainees, trainingType],
  );
  return { classId, lines };
}

/** Sum of every journal line and the entries that do not balance: (0, []) or the ledger is broken. */
export async function ledgerState(w: World): Promise<{ total: string; unbalanced: number }> {
  const [t]: { total: string }[] = await w.running.deps.ds.query(
    'SELECT coalesce(sum(amount_fen), 0)::text AS total FROM journal_lines',
  );
  const unbalanced: unknown[] = await w.running.deps.ds.query(
    'SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(amount_fen) <> 0',
  );
  return { total: t!.total, unbalanced: unbalanced.length };
}
