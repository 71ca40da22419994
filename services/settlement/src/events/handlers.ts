import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  AttendanceRecordedSchema,
  CertificateKind,
  CertificateRecordedSchema,
  ClassPlanApprovedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  FunctionMode,
  InstitutionActivationChangedSchema,
  OperatorMembershipChangedSchema,
  VoucherIssuedSchema,
  VoucherState,
  VoucherStateChangedSchema,
  on,
  type EventRecord,
  type TypedHandler,
} from '@vtv/events';
import { isRegionCode, isUuid, type Logger } from '@vtv/kit';
import type { EvidenceRepository } from '../data/repositories';
import type { EvidenceVoucherState } from '../domain/evaluation';
import { MAX_FEN, type FunctionMode as Mode } from '../domain/money';

/**
 * One idempotent handler per consumed event type, each feeding an evidence projection. The inbox makes
 * every event apply once; the projections' compare-by-time upserts make late arrivals harmless. An event
 * that cannot describe anything (malformed ids) is logged and skipped rather than retried forever.
 */

const time = (ts: Timestamp | undefined, event: EventRecord): Date =>
  ts ? timestampDate(ts) : new Date(event.time);

const uuidOrNull = (v: string): string | null => (v && isUuid(v) ? v.toLowerCase() : null);

const MODES: Partial<Record<FunctionMode, Mode>> = {
  [FunctionMode.FACE_VALUE]: 'FACE_VALUE',
  [FunctionMode.DEDUCTION]: 'DEDUCTION',
};

const STATES: Partial<Record<VoucherState, EvidenceVoucherState>> = {
  [VoucherState.HELD]: 'HELD',
  [VoucherState.USED]: 'USED',
  [VoucherState.SETTLED]: 'SETTLED',
  [VoucherState.EXPIRED]: 'EXPIRED',
  [VoucherState.INVALIDATED]: 'INVALIDATED',
};

const KINDS: Partial<Record<CertificateKind, string>> = {
  [CertificateKind.TRAINING]: 'TRAINING',
  [CertificateKind.VOCATIONAL_QUALIFICATION]: 'VOCATIONAL_QUALIFICATION',
  [CertificateKind.SKILL_LEVEL]: 'SKILL_LEVEL',
};

/** A face value the ledger can hold; anything else is treated as none. */
const faceValue = (v: bigint): bigint => (v >= 0n && v <= MAX_FEN ? v : 0n);

const rate = (bp: number): number => Math.min(10000, Math.max(0, Math.trunc(bp)));

export function evidenceHandlers(evidence: EvidenceRepository, logger: Logger): TypedHandler[] {
  const skip = (event: EventRecord, why: string) =>
    logger.warn({ eventId: event.id, type: event.type, why }, 'event skipped: nothing to project');

  return [
    on(ClassPlanApprovedSchema, async (e, { manager, event }) => {
      const classId = uuidOrNull(e.classId);
      const institutionId = uuidOrNull(e.institutionId);
      if (!classId || !institutionId || !isRegionCode(e.regionCode)) return skip(event, 'class ids');
      await evidence.upsertClass(manager, {
        classId,
        institutionId,
        regionCode: e.regionCode,
        name: e.name,
        occupation: e.occupation,
        trainingType: e.trainingType,
        level: e.level,
        startDate: e.startDate,
        endDate: e.endDate,
        approvedAt: time(e.approvedAt, event),
      });
    }),

    on(InstitutionActivationChangedSchema, async (e, { manager, event }) => {
      const institutionId = uuidOrNull(e.institutionId);
      if (!institutionId || !isRegionCode(e.regionCode)) return skip(event, 'institution ids');
      await evidence.upsertInstitution(manager, {
        institutionId,
        regionCode: e.regionCode,
        active: e.active,
        at: time(e.changedAt, event),
      });
    }),

    on(OperatorMembershipChangedSchema, async (e, { manager, event }) => {
      const institutionId = uuidOrNull(e.institutionId);
      const personId = uuidOrNull(e.operatorPersonId);
      if (!institutionId || !personId) return skip(event, 'operator ids');
      await evidence.upsertOperator(manager, {
        institutionId,
        personId,
        enabled: e.enabled,
        main: e.main,
        at: time(e.changedAt, event),
      });
    }),

    on(VoucherIssuedSchema, async (e, { manager, event }) => {
      const voucherId = uuidOrNull(e.voucherId);
      if (!voucherId) return skip(event, 'voucher id');
      await evidence.voucherIssued(manager, {
        voucherId,
        holderPersonId: uuidOrNull(e.holderPersonId),
        regionCode: e.regionCode,
        functionMode: MODES[e.functionMode] ?? null,
        faceValueFen: faceValue(e.faceValueFen),
        trainingType: e.trainingType,
        occupation: e.occupation,
        classId: uuidOrNull(e.classId),
        at: time(e.issuedAt, event),
      });
    }),

    on(VoucherStateChangedSchema, async (e, { manager, event }) => {
      const voucherId = uuidOrNull(e.voucherId);
      const state = STATES[e.toState];
      if (!voucherId || !state) return skip(event, 'voucher id or state');
      await evidence.voucherStateChanged(manager, {
        voucherId,
        holderPersonId: uuidOrNull(e.holderPersonId),
        regionCode: e.regionCode,
        functionMode: MODES[e.functionMode] ?? null,
        faceValueFen: faceValue(e.faceValueFen),
        trainingType: e.trainingType,
        occupation: '',
        classId: uuidOrNull(e.classId),
        state,
        institutionId: uuidOrNull(e.institutionId),
        enrollmentId: uuidOrNull(e.enrollmentId),
        at: time(e.changedAt, event),
      });
    }),

    on(EnrollmentCreatedSchema, async (e, { manager, event }) => {
      const keys = enrollmentKeys(e);
      if (!keys) return skip(event, 'enrollment ids');
      await evidence.enrollmentCreated(manager, {
        ...keys,
        institutionId: uuidOrNull(e.institutionId),
        at: time(e.enrolledAt, event),
      });
    }),

    on(AttendanceRecordedSchema, async (e, { manager, event }) => {
      const keys = enrollmentKeys(e);
      if (!keys) return skip(event, 'attendance ids');
      await evidence.attendanceRecorded(manager, {
        ...keys,
        rateBp: rate(e.attendanceRateBp),
        at: time(e.checkedInAt, event),
      });
    }),

    on(CompletionRecordedSchema, async (e, { manager, event }) => {
      const keys = enrollmentKeys(e);
      if (!keys) return skip(event, 'completion ids');
      await evidence.completionRecorded(manager, {
        ...keys,
        institutionId: uuidOrNull(e.institutionId),
        passed: e.passed,
        rateBp: rate(e.attendanceRateBp),
        at: time(e.recordedAt, event),
      });
    }),

    on(CertificateRecordedSchema, async (e, { manager, event }) => {
      const certificateId = uuidOrNull(e.certificateId);
      const personId = uuidOrNull(e.personId);
      if (!certificateId || !personId) return skip(event, 'certificate ids');
      await evidence.certificateRecorded(manager, {
        certificateId,
        personId,
        regionCode: e.regionCode,
        kind: KINDS[e.kind] ?? '',
        occupation: e.occupation,
        level: e.level,
        issuedAt: e.issuedAt ? timestampDate(e.issuedAt) : null,
      });
    }),
  ];
}

/** The ids every enrollment-level training event carries; null when any is not a UUID. */
function enrollmentKeys(e: { enrollmentId: string; classId: string; personId: string }) {
  const enrollmentId = uuidOrNull(e.enrollmentId);
  const classId = uuidOrNull(e.classId);
  const personId = uuidOrNull(e.personId);
  return enrollmentId && classId && personId ? { enrollmentId, classId, personId } : null;
}
