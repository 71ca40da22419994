import { uuidv7 } from '@vtv/kit';
import type {
  Anomaly,
  EvidenceVoucherState,
  LineEvaluation,
  LineEvidence,
  LineOutcome,
} from '../../domain/evaluation';
import { fenFromDb, type FunctionMode } from '../../domain/money';
import { DisbursementRow, SubsidyApplicationRow, type SubsidyApplicationState } from '../entities';
import { fenParam, type Queryable } from './sql';
import type { DataSource, EntityManager } from 'typeorm';

export interface NewSubsidyApplication {
  id?: string;
  institutionId: string;
  classId: string;
  regionCode: string;
  createdBy?: string | null;
  state?: SubsidyApplicationState;
  totalAmountFen?: bigint;
  lineCount?: number;
  submittedAt?: Date | null;
  /** Fixtures only: the workflow sets these on final approval. */
  approvedAmountFen?: bigint | null;
  budgetRegionCode?: string | null;
}

export interface NewLine {
  personId: string;
  voucherId: string;
  certificateNumber: string | null;
}

/** A trainee line as stored. */
export interface LineRow {
  id: string;
  applicationId: string;
  personId: string;
  voucherId: string;
  certificateNumber: string | null;
  voucherState: EvidenceVoucherState | null;
  functionMode: FunctionMode | null;
  faceValueFen: bigint | null;
  usedAtInstitutionId: string | null;
  usedAt: Date | null;
  attendanceRateBp: number | null;
  passed: boolean | null;
  completedAt: Date | null;
  certificateIds: string[];
  standardFen: bigint | null;
  amountFen: bigint;
  anomalies: Anomaly[];
  firstDecision: 'APPROVED' | 'EXCLUDED' | null;
  firstDecisionReason: string | null;
  decision: 'APPROVED' | 'EXCLUDED' | null;
  decisionReason: string | null;
  approvedAmountFen: bigint | null;
}

interface LineDbRow {
  id: string;
  application_id: string;
  person_id: string;
  voucher_id: string;
  certificate_number: string | null;
  voucher_state: EvidenceVoucherState | null;
  function_mode: FunctionMode | null;
  face_value_fen: string | null;
  used_at_institution_id: string | null;
  used_at: Date | null;
  attendance_rate_bp: number | null;
  passed: boolean | null;
  completed_at: Date | null;
  certificate_ids: string[] | string | null;
  standard_fen: string | null;
  amount_fen: string;
  anomalies: Anomaly[];
  first_decision: 'APPROVED' | 'EXCLUDED' | null;
  first_decision_reason: string | null;
  decision: 'APPROVED' | 'EXCLUDED' | null;
  decision_reason: string | null;
  approved_amount_fen: string | null;
}

/** pg parses uuid[] into an array in recent versions, or leaves the literal "{a,b}" in older ones. */
function uuidArray(v: string[] | string | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',') : [];
}

function toLine(r: LineDbRow): LineRow {
  return {
    id: r.id,
    applicationId: r.application_id,
    personId: r.person_id,
    voucherId: r.voucher_id,
    certificateNumber: r.certificate_number,
    voucherState: r.voucher_state,
    functionMode: r.function_mode,
    faceValueFen: fenFromDb(r.face_value_fen),
    usedAtInstitutionId: r.used_at_institution_id,
    usedAt: r.used_at,
    attendanceRateBp: r.attendance_rate_bp,
    passed: r.passed,
    completedAt: r.completed_at,
    certificateIds: uuidArray(r.certificate_ids),
    standardFen: fenFromDb(r.standard_fen),
    amountFen: fenFromDb(r.amount_fen) ?? 0n,
    anomalies: r.anomalies,
    firstDecision: r.first_decision,
    firstDecisionReason: r.first_decision_reason,
    decision: r.decision,
    decisionReason: r.decision_reason,
    approvedAmountFen: fenFromDb(r.approved_amount_fen),
  };
}

export type ApplicationPatch = Partial<
  Omit<SubsidyApplicationRow, 'id' | 'institutionId' | 'classId' | 'regionCode' | 'createdAt'>
>;

/** Subsidy applications and their trainee lines. */
export class SubsidyApplicationRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string, m: EntityManager = this.ds.manager): Promise<SubsidyApplicationRow | null> {
    return m.getRepository(SubsidyApplicationRow).findOneBy({ id });
  }

  /** Locks the application row for the rest of the transaction: every transition goes through here. */
  lock(m: EntityManager, id: string): Promise<SubsidyApplicationRow | null> {
    return m
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where('a.id = :id', { id })
      .getOne();
  }

  async patch(m: EntityManager, id: string, patch: ApplicationPatch): Promise<void> {
    await m.getRepository(SubsidyApplicationRow).update({ id }, { ...patch, updatedAt: new Date() });
  }

  /** A class's applications inside the region subtree with this code prefix (null: any), in id order. */
  byClass(classId: string, regionPrefix: string | null): Promise<SubsidyApplicationRow[]> {
    const qb = this.ds
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .where('a.class_id = :classId', { classId });
    if (regionPrefix !== null) qb.andWhere("a.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    return qb.orderBy('a.id', 'ASC').getMany();
  }

  /** One keyset page (limit + 1 rows) of an institution's applications inside a region subtree (null: any). */
  pageByInstitution(
    institutionId: string,
    regionPrefix: string | null,
    afterId: string | null,
    limit: number,
  ): Promise<SubsidyApplicationRow[]> {
    const qb = this.ds
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .where('a.institution_id = :institutionId', { institutionId });
    if (regionPrefix !== null) qb.andWhere("a.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    if (afterId !== null) qb.andWhere('a.id > :afterId', { afterId });
    return qb
      .orderBy('a.id', 'ASC')
      .limit(limit + 1)
      .getMany();
  }

  /** One keyset page of the applications inside a region subtree, optionally in one state. */
  pageByRegion(
    regionPrefix: string,
    state: SubsidyApplicationState | null,
    afterId: string | null,
    limit: number,
  ): Promise<SubsidyApplicationRow[]> {
    const qb = this.ds
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .where("a.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    if (state !== null) qb.andWhere('a.state = :state', { state });
    if (afterId !== null) qb.andWhere('a.id > :afterId', { afterId });
    return qb
      .orderBy('a.id', 'ASC')
      .limit(limit + 1)
      .getMany();
  }

  /** Applications per state inside a region subtree, with what they claim. */
  async countByState(
    regionPrefix: string,
  ): Promise<{ state: SubsidyApplicationState; count: number; totalAmountFen: bigint }[]> {
    const rows: { state: SubsidyApplicationState; count: string; total: string }[] = await this.ds.query(
      `SELECT state, count(*) AS count, coalesce(sum(total_amount_fen), 0)::text AS total
         FROM subsidy_applications WHERE region_code LIKE $1 || '%' GROUP BY state`,
      [regionPrefix],
    );
    return rows.map((r) => ({
      state: r.state,
      count: Number(r.count),
      totalAmountFen: fenFromDb(r.total) ?? 0n,
    }));
  }

  async insert(m: EntityManager, a: NewSubsidyApplication): Promise<SubsidyApplicationRow> {
    const repo = m.getRepository(SubsidyApplicationRow);
    const id = a.id ?? uuidv7();
    await repo.insert({
      id,
      institutionId: a.institutionId,
      classId: a.classId,
      regionCode: a.regionCode,
      createdBy: a.createdBy ?? null,
      state: a.state ?? 'DRAFT',
      totalAmountFen: a.totalAmountFen ?? 0n,
      lineCount: a.lineCount ?? 0,
      submittedAt: a.submittedAt ?? null,
      anomalyCount: 0,
      approvedAmountFen: a.approvedAmountFen ?? null,
      budgetRegionCode: a.budgetRegionCode ?? null,
      updatedAt: new Date(),
    });
    return repo.findOneByOrFail({ id });
  }

  /** Vouchers among `voucherIds` held by a line of another application that is not rejected. */
  async heldElsewhere(
    q: Queryable,
    voucherIds: string[],
    applicationId: string,
  ): Promise<{ voucherId: string; applicationId: string }[]> {
    const rows: { voucher_id: string; application_id: string }[] = await q.query(
      `SELECT voucher_id, application_id FROM subsidy_application_lines
        WHERE voucher_id = ANY($1::uuid[]) AND holds_voucher AND application_id <> $2
        ORDER BY voucher_id LIMIT 20`,
      [voucherIds, applicationId],
    );
    return rows.map((r) => ({ voucherId: r.voucher_id, applicationId: r.application_id }));
  }

  /** Vouchers of this application's lines held by another application (before re-holding them). */
  async ownVouchersHeldElsewhere(
    q: Queryable,
    applicationId: string,
  ): Promise<{ voucherId: string; applicationId: string }[]> {
    const rows: { voucher_id: string; application_id: string }[] = await q.query(
      `SELECT o.voucher_id, o.application_id
         FROM subsidy_application_lines l
         JOIN subsidy_application_lines o ON o.voucher_id = l.voucher_id AND o.holds_voucher
        WHERE l.application_id = $1 AND o.application_id <> $1
        ORDER BY o.voucher_id LIMIT 20`,
      [applicationId],
    );
    return rows.map((r) => ({ voucherId: r.voucher_id, applicationId: r.application_id }));
  }

  /** Vouchers among `voucherIds` already on this application. */
  async alreadyListed(q: Queryable, applicationId: string, voucherIds: string[]): Promise<string[]> {
    const rows: { voucher_id: string }[] = await q.query(
      `SELECT voucher_id FROM subsidy_application_lines WHERE application_id = $1 AND voucher_id = ANY($2::uuid[])
        ORDER BY voucher_id LIMIT 20`,
      [applicationId, voucherIds],
    );
    return rows.map((r) => r.voucher_id);
  }

  /** Inserts lines in one statement (10 000 lines in one round trip). */
  async insertLines(q: Queryable, applicationId: string, lines: NewLine[]): Promise<void> {
    if (lines.length === 0) return;
    await q.query(
      `INSERT INTO subsidy_application_lines (id, application_id, person_id, voucher_id, certificate_number)
       SELECT u.id, $1, u.person_id, u.voucher_id, u.certificate_number
         FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) AS u(id, person_id, voucher_id, certificate_number)`,
      [
        applicationId,
        lines.map(() => uuidv7()),
        lines.map((l) => l.personId),
        lines.map((l) => l.voucherId),
        lines.map((l) => l.certificateNumber),
      ],
    );
  }

  async deleteLines(q: Queryable, applicationId: string, lineIds: string[]): Promise<number> {
    // A CTE, so the driver hands back rows (a bare DELETE comes back as [rows, count]).
    const [row]: { n: number }[] = await q.query(
      `WITH d AS (DELETE FROM subsidy_application_lines WHERE application_id = $1 AND id = ANY($2::uuid[]) RETURNING id)
       SELECT count(*)::int AS n FROM d`,
      [applicationId, lineIds],
    );
    return row?.n ?? 0;
  }

  async countLines(q: Queryable, applicationId: string): Promise<number> {
    const [row]: { n: string }[] = await q.query(
      'SELECT count(*) AS n FROM subsidy_application_lines WHERE application_id = $1',
      [applicationId],
    );
    return Number(row?.n ?? 0);
  }

  /** Rejection releases the application's vouchers; resubmission takes them again. */
  async setHolds(q: Queryable, applicationId: string, holds: boolean): Promise<void> {
    await q.query('UPDATE subsidy_application_lines SET holds_voucher = $2 WHERE application_id = $1', [
      applicationId,
      holds,
    ]);
  }

  /** Forgets every review decision (on resubmission). */
  async clearDecisions(q: Queryable, applicationId: string): Promise<void> {
    await q.query(
      `UPDATE subsidy_application_lines SET first_decision = NULL, first_decision_reason = NULL, decision = NULL,
         decision_reason = NULL, approved_amount_fen = NULL
       WHERE application_id = $1`,
      [applicationId],
    );
  }

  /** Stores the evidence snapshot, anomalies and amounts of every line in one statement. */
  async saveEvaluation(q: Queryable, evidence: LineEvidence[], evaluations: LineEvaluation[]): Promise<void> {
    if (evidence.length === 0) return;
    await q.query(
      `UPDATE subsidy_application_lines l SET
         voucher_state = u.voucher_state, function_mode = u.function_mode, face_value_fen = u.face_value_fen,
         used_at_institution_id = u.used_at_institution_id, used_at = u.used_at,
         attendance_rate_bp = u.attendance_rate_bp, passed = u.passed, completed_at = u.completed_at,
         certificate_ids = CASE WHEN u.certificate_ids = '' THEN '{}'::uuid[]
                                ELSE string_to_array(u.certificate_ids, ',')::uuid[] END,
         standard_fen = u.standard_fen, amount_fen = u.amount_fen, anomalies = u.anomalies::jsonb
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::timestamptz[], $7::int[],
                   $8::boolean[], $9::timestamptz[], $10::text[], $11::bigint[], $12::bigint[], $13::text[])
         AS u(id, voucher_state, function_mode, face_value_fen, used_at_institution_id, used_at, attendance_rate_bp,
              passed, completed_at, certificate_ids, standard_fen, amount_fen, anomalies)
       WHERE l.id = u.id`,
      [
        evidence.map((e) => e.lineId),
        evidence.map((e) => e.voucherState),
        evidence.map((e) => e.functionMode),
        evidence.map((e) => fenParam(e.faceValueFen)),
        evidence.map((e) => e.usedAtInstitutionId),
        evidence.map((e) => e.usedAt),
        evidence.map((e) => e.attendanceRateBp),
        evidence.map((e) => e.passed),
        evidence.map((e) => e.completedAt),
        evidence.map((e) => e.certificateIds.join(',')),
        evaluations.map((v) => fenParam(v.standardFen)),
        evaluations.map((v) => v.amountFen.toString()),
        evaluations.map((v) => JSON.stringify(v.anomalies)),
      ],
    );
  }

  /** What a reviewer decides on: every line's amount, anomalies and first decision. */
  async reviewable(q: Queryable, applicationId: string): Promise<LineRow[]> {
    const rows: LineDbRow[] = await q.query(
      'SELECT * FROM subsidy_application_lines WHERE application_id = $1 ORDER BY id',
      [applicationId],
    );
    return rows.map(toLine);
  }

  async saveFirstDecisions(q: Queryable, outcomes: LineOutcome[]): Promise<void> {
    await q.query(
      `UPDATE subsidy_application_lines l SET first_decision = u.decision, first_decision_reason = u.reason
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, decision, reason) WHERE l.id = u.id`,
      [outcomes.map((o) => o.id), outcomes.map((o) => o.decision), outcomes.map((o) => o.reason)],
    );
  }

  async saveFinalDecisions(q: Queryable, outcomes: LineOutcome[]): Promise<void> {
    await q.query(
      `UPDATE subsidy_application_lines l SET decision = u.decision, decision_reason = u.reason,
         approved_amount_fen = u.amount
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) AS u(id, decision, reason, amount)
        WHERE l.id = u.id`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.decision),
        outcomes.map((o) => o.reason),
        outcomes.map((o) => o.approvedAmountFen.toString()),
      ],
    );
  }

  /** One keyset page (limit + 1 rows) of an application's lines. */
  async pageLines(
    applicationId: string,
    afterId: string | null,
    limit: number,
    onlyAnomalous: boolean,
  ): Promise<LineRow[]> {
    const rows: LineDbRow[] = await this.ds.query(
      `SELECT * FROM subsidy_application_lines
        WHERE application_id = $1 AND ($2::uuid IS NULL OR id > $2) AND (NOT $3 OR anomalies <> '[]'::jsonb)
        ORDER BY id LIMIT $4`,
      [applicationId, afterId, onlyAnomalous, limit + 1],
    );
    return rows.map(toLine);
  }

  /** The approved lines' vouchers: what a payment settles. */
  async approvedVoucherIds(q: Queryable, applicationId: string): Promise<string[]> {
    const rows: { voucher_id: string }[] = await q.query(
      `SELECT voucher_id FROM subsidy_application_lines WHERE application_id = $1 AND decision = 'APPROVED'
        ORDER BY voucher_id`,
      [applicationId],
    );
    return rows.map((r) => r.voucher_id);
  }

  /**
   * Records every approved line's voucher as settled by this payment, in one statement. The primary key
   * on voucher_id makes a second payment of any voucher impossible, whatever happened before.
   */
  async settleVouchers(q: Queryable, applicationId: string, disbursementId: string): Promise<number> {
    const rows: unknown[] = await q.query(
      `INSERT INTO settled_vouchers (voucher_id, application_id, disbursement_id, amount_fen)
       SELECT voucher_id, application_id, $2, approved_amount_fen FROM subsidy_application_lines
        WHERE application_id = $1 AND decision = 'APPROVED'
       RETURNING voucher_id`,
      [applicationId, disbursementId],
    );
    return rows.length;
  }
}

export interface NewDisbursement {
  id?: string;
  applicationId: string;
  amountFen: bigint;
  paymentReference: string;
  paidAt: Date;
  budgetRegionCode: string;
  voucherCount: number;
  disbursedBy: string | null;
}

export class DisbursementRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<DisbursementRow | null> {
    return this.ds.getRepository(DisbursementRow).findOneBy({ id });
  }

  byApplication(applicationId: string, m: EntityManager = this.ds.manager): Promise<DisbursementRow | null> {
    return m.getRepository(DisbursementRow).findOneBy({ applicationId });
  }

  byReference(m: EntityManager, paymentReference: string): Promise<DisbursementRow | null> {
    return m.getRepository(DisbursementRow).findOneBy({ paymentReference });
  }

  async insert(m: EntityManager, d: NewDisbursement): Promise<DisbursementRow> {
    const repo = m.getRepository(DisbursementRow);
    const id = d.id ?? uuidv7();
    await repo.insert({
      id,
      applicationId: d.applicationId,
      amountFen: d.amountFen,
      paymentReference: d.paymentReference,
      paidAt: d.paidAt,
      budgetRegionCode: d.budgetRegionCode,
      voucherCount: d.voucherCount,
      disbursedBy: d.disbursedBy,
    });
    return repo.findOneByOrFail({ id });
  }
}
