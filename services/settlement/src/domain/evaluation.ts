import { DomainError, ErrorCode } from '@vtv/kit';
import { lineAmount, type FunctionMode } from './money';

export type EvidenceVoucherState = 'HELD' | 'USED' | 'SETTLED' | 'EXPIRED' | 'INVALIDATED';

export type AnomalyCode =
  | 'VOUCHER_NOT_USED_AT_INSTITUTION'
  | 'VOUCHER_NOT_HELD_BY_TRAINEE'
  | 'VOUCHER_ALREADY_SETTLED'
  | 'TRAINEE_FAILED'
  | 'NO_SUBSIDY_STANDARD'
  | 'VOUCHER_USED_FOR_OTHER_CLASS'
  | 'NO_COMPLETION_RESULT'
  | 'LOW_ATTENDANCE'
  | 'DUPLICATE_PERSON';

/** Anomalies that make a line unpayable: a reviewer can only exclude such a line. */
export const BLOCKING: ReadonlySet<AnomalyCode> = new Set<AnomalyCode>([
  'VOUCHER_NOT_USED_AT_INSTITUTION',
  'VOUCHER_NOT_HELD_BY_TRAINEE',
  'VOUCHER_ALREADY_SETTLED',
  'TRAINEE_FAILED',
  'NO_SUBSIDY_STANDARD',
]);

export interface Anomaly {
  code: AnomalyCode;
  blocking: boolean;
  message: string;
}

/** Everything known about one trainee line, gathered from the projections. */
export interface LineEvidence {
  lineId: string;
  personId: string;
  voucherId: string;
  voucherState: EvidenceVoucherState | null;
  holderPersonId: string | null;
  functionMode: FunctionMode | null;
  faceValueFen: bigint | null;
  usedAtInstitutionId: string | null;
  usedForClassId: string | null;
  usedAt: Date | null;
  attendanceRateBp: number | null;
  passed: boolean | null;
  completedAt: Date | null;
  certificateIds: string[];
  /** The voucher was paid by another application (settled_vouchers). */
  settledElsewhere: boolean;
  /** Another non-rejected application for the same class lists the same person. */
  otherApplicationId: string | null;
}

export interface EvaluationContext {
  institutionId: string;
  classId: string;
  minAttendanceBp: number;
  /** The approved standard for the class's region, training type and level; null when none. */
  standardFen: bigint | null;
}

export interface LineEvaluation {
  lineId: string;
  anomalies: Anomaly[];
  standardFen: bigint | null;
  /** What the line claims; 0 when nothing can be computed. */
  amountFen: bigint;
}

const anomaly = (code: AnomalyCode, message: string): Anomaly => ({
  code,
  blocking: BLOCKING.has(code),
  message,
});

const pct = (bp: number) => `${(bp / 100).toFixed(2)} %`;

/** Flags each line and computes its amount. Pure: the same evidence always gives the same result. */
export function evaluateLines(lines: LineEvidence[], ctx: EvaluationContext): LineEvaluation[] {
  const perPerson = new Map<string, number>();
  for (const l of lines) perPerson.set(l.personId, (perPerson.get(l.personId) ?? 0) + 1);

  return lines.map((l) => {
    const found: Anomaly[] = [];
    if (l.settledElsewhere || l.voucherState === 'SETTLED') {
      found.push(anomaly('VOUCHER_ALREADY_SETTLED', 'The voucher has already been settled (已核销)'));
    } else if (l.voucherState === null) {
      found.push(
        anomaly('VOUCHER_NOT_USED_AT_INSTITUTION', 'No record of this voucher having been issued or used'),
      );
    } else if (l.voucherState !== 'USED') {
      found.push(
        anomaly(
          'VOUCHER_NOT_USED_AT_INSTITUTION',
          `The voucher is ${l.voucherState}, not USED at this institution`,
        ),
      );
    } else if (l.usedAtInstitutionId !== ctx.institutionId) {
      found.push(
        anomaly(
          'VOUCHER_NOT_USED_AT_INSTITUTION',
          `The voucher was used at another institution (${l.usedAtInstitutionId ?? 'unknown'})`,
        ),
      );
    } else if (l.usedForClassId && l.usedForClassId !== ctx.classId) {
      found.push(
        anomaly(
          'VOUCHER_USED_FOR_OTHER_CLASS',
          `The voucher was used for another class (${l.usedForClassId})`,
        ),
      );
    }
    if (l.holderPersonId !== null && l.holderPersonId !== l.personId) {
      found.push(
        anomaly('VOUCHER_NOT_HELD_BY_TRAINEE', 'The voucher belongs to someone other than this trainee'),
      );
    }
    if (l.passed === false) {
      found.push(anomaly('TRAINEE_FAILED', 'The trainee failed completion review (结业不合格)'));
    } else if (l.passed === null) {
      found.push(anomaly('NO_COMPLETION_RESULT', 'No completion result (结业结果) recorded for the trainee'));
    }
    if (l.attendanceRateBp === null) {
      found.push(anomaly('LOW_ATTENDANCE', 'No attendance (考勤) recorded for the trainee'));
    } else if (l.attendanceRateBp < ctx.minAttendanceBp) {
      found.push(
        anomaly(
          'LOW_ATTENDANCE',
          `Attendance ${pct(l.attendanceRateBp)} is below the threshold of ${pct(ctx.minAttendanceBp)}`,
        ),
      );
    }
    if ((perPerson.get(l.personId) ?? 0) > 1) {
      found.push(
        anomaly('DUPLICATE_PERSON', 'The trainee appears on more than one line of this application'),
      );
    }
    if (l.otherApplicationId) {
      found.push(
        anomaly(
          'DUPLICATE_PERSON',
          `The trainee is also claimed by application ${l.otherApplicationId} for this class`,
        ),
      );
    }
    let amount: bigint | null = null;
    if (l.functionMode !== null) {
      amount = lineAmount(l.functionMode, l.faceValueFen, ctx.standardFen);
      if (amount === null) {
        found.push(
          anomaly('NO_SUBSIDY_STANDARD', 'No approved subsidy standard (补贴标准) applies to this class'),
        );
      } else if (amount === 0n) {
        found.push(anomaly('NO_SUBSIDY_STANDARD', 'The voucher carries no face value: the amount is zero'));
      }
    }
    return {
      lineId: l.lineId,
      anomalies: found,
      standardFen: ctx.standardFen,
      amountFen: amount ?? 0n,
    };
  });
}

/** A line as a reviewer decides it. */
export interface ReviewableLine {
  id: string;
  personId: string;
  amountFen: bigint;
  anomalies: Anomaly[];
  /** The first reviewer's decision, which a second reviewer inherits unless they decide otherwise. */
  firstDecision: { approve: boolean; reason: string | null } | null;
}

export interface LineDecisionInput {
  lineId: string;
  approve: boolean;
  reason: string;
}

export interface LineOutcome {
  id: string;
  decision: 'APPROVED' | 'EXCLUDED';
  reason: string | null;
  approvedAmountFen: bigint;
}

const MAX_REASON = 500;

/**
 * Partial approval per trainee. Unlisted lines are approved when they carry no anomaly (or inherit the first
 * reviewer's decision); a flagged line must be decided explicitly, with a reason; a line with a blocking
 * anomaly can only be excluded; a person is paid at most once per application; something must be approved.
 */
export function decideLines(lines: ReviewableLine[], decisions: LineDecisionInput[]): LineOutcome[] {
  const byId = new Map(lines.map((l) => [l.id, l]));
  const given = new Map<string, LineDecisionInput>();
  for (const d of decisions) {
    if (!byId.has(d.lineId))
      throw new DomainError(ErrorCode.NOT_FOUND, `Line ${d.lineId} not found`, 'lines');
    if (given.has(d.lineId))
      throw new DomainError(ErrorCode.BAD_USER_INPUT, `Line ${d.lineId} is decided twice`, 'lines');
    const reason = d.reason.trim();
    if (reason.length === 0 || reason.length > MAX_REASON)
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        `A reason of 1-${MAX_REASON} characters is required`,
        'lines',
      );
    given.set(d.lineId, { ...d, reason });
  }
  // Explicit approvals of unpayable lines first: the most specific error for what the reviewer asked.
  for (const d of given.values()) {
    const l = byId.get(d.lineId)!;
    const blocking = l.anomalies.find((a) => a.blocking);
    if (d.approve && blocking)
      throw new DomainError(
        'LINE_NOT_PAYABLE',
        `Line ${l.id} cannot be approved: ${blocking.code} (${blocking.message})`,
        'lines',
      );
  }
  const approvedPerson = new Set<string>();
  const out: LineOutcome[] = [];
  for (const l of lines) {
    const d = given.get(l.id);
    let approve: boolean;
    let reason: string | null;
    if (d) {
      approve = d.approve;
      reason = d.reason;
    } else if (
      l.firstDecision &&
      (l.anomalies.length === 0 || !l.firstDecision.approve || l.firstDecision.reason !== null)
    ) {
      // Inherit the first review, unless it approved a line silently that has been flagged since.
      approve = l.firstDecision.approve;
      reason = l.firstDecision.reason;
    } else if (l.anomalies.length > 0) {
      throw new DomainError(
        'ANOMALY_UNDECIDED',
        `Line ${l.id} is flagged (${l.anomalies.map((a) => a.code).join(', ')}): decide it explicitly`,
        'lines',
      );
    } else {
      approve = true;
      reason = null;
    }
    if (approve) {
      const blocking = l.anomalies.find((a) => a.blocking);
      if (blocking)
        throw new DomainError(
          'LINE_NOT_PAYABLE',
          `Line ${l.id} cannot be approved: ${blocking.code} (${blocking.message})`,
          'lines',
        );
      if (l.amountFen <= 0n)
        throw new DomainError('LINE_NOT_PAYABLE', `Line ${l.id} has no amount to approve`, 'lines');
      if (approvedPerson.has(l.personId))
        throw new DomainError(
          'DUPLICATE_PERSON',
          `Line ${l.id}: the trainee is already approved on another line; exclude one of them`,
          'lines',
        );
      approvedPerson.add(l.personId);
    }
    out.push({
      id: l.id,
      decision: approve ? 'APPROVED' : 'EXCLUDED',
      reason,
      approvedAmountFen: approve ? l.amountFen : 0n,
    });
  }
  if (!out.some((o) => o.decision === 'APPROVED'))
    throw new DomainError('NOTHING_APPROVED', 'No line is approved: reject the application instead', 'lines');
  return out;
}
