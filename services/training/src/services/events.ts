import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AttendanceRecordedSchema,
  CheckInMethod,
  CheckInOutcome,
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  InstitutionActivationChangedSchema,
  OperatorMembershipChangedSchema,
  RosterChangedSchema,
  TOPICS,
  buildEvent,
  type EventRecord,
} from '@vtv/events';
import type { AttendanceRow, ClassRow, EnrollmentRow, InstitutionRow, OperatorRow } from '../data/entities';
import { SOURCE } from './context';

/**
 * The events training publishes, each on its registered topic and keyed as documented there:
 * training.class.v1 and training.enrollment.v1 by class id, training.institution.v1 by institution id.
 * Only opaque ids: no names, ID numbers or phones.
 */
export const trainingEvents = {
  classPlanApproved(c: ClassRow, rosterPersonIds: string[], at: Date, by: string): EventRecord {
    return buildEvent(
      {
        schema: ClassPlanApprovedSchema,
        topic: TOPICS.trainingClass.name,
        subject: c.id,
        source: SOURCE,
        data: {
          classId: c.id,
          institutionId: c.institutionId,
          regionCode: c.regionCode,
          name: c.name,
          occupation: c.occupation,
          trainingType: c.trainingType,
          level: c.level ?? '',
          headcount: c.headcount,
          startDate: c.startDate,
          endDate: c.endDate,
          rosterPersonIds,
          approvedAt: timestampFromDate(at),
          approvedBy: by,
          online: c.online,
          sessionCount: c.sessionCount,
        },
      },
      at,
    );
  },

  classPlanRejected(c: ClassRow, reason: string, at: Date, by: string): EventRecord {
    return buildEvent(
      {
        schema: ClassPlanRejectedSchema,
        topic: TOPICS.trainingClass.name,
        subject: c.id,
        source: SOURCE,
        data: {
          classId: c.id,
          institutionId: c.institutionId,
          regionCode: c.regionCode,
          reason,
          rejectedAt: timestampFromDate(at),
          rejectedBy: by,
        },
      },
      at,
    );
  },

  rosterChanged(c: ClassRow, added: string[], removed: string[], at: Date, by: string): EventRecord {
    return buildEvent(
      {
        schema: RosterChangedSchema,
        topic: TOPICS.trainingClass.name,
        subject: c.id,
        source: SOURCE,
        data: {
          classId: c.id,
          institutionId: c.institutionId,
          regionCode: c.regionCode,
          addedPersonIds: added,
          removedPersonIds: removed,
          changedAt: timestampFromDate(at),
          changedBy: by,
        },
      },
      at,
    );
  },

  enrollmentCreated(e: EnrollmentRow, c: ClassRow): EventRecord {
    return buildEvent(
      {
        schema: EnrollmentCreatedSchema,
        topic: TOPICS.trainingEnrollment.name,
        subject: c.id,
        source: SOURCE,
        data: {
          enrollmentId: e.id,
          classId: c.id,
          institutionId: c.institutionId,
          personId: e.personId,
          regionCode: c.regionCode,
          occupation: c.occupation,
          trainingType: c.trainingType,
          online: c.online,
          enrolledAt: timestampFromDate(e.enrolledAt),
        },
      },
      e.enrolledAt,
    );
  },

  attendanceRecorded(a: AttendanceRow, c: ClassRow, rateBp: number): EventRecord {
    return buildEvent(
      {
        schema: AttendanceRecordedSchema,
        topic: TOPICS.trainingEnrollment.name,
        subject: c.id,
        source: SOURCE,
        data: {
          enrollmentId: a.enrollmentId,
          classId: c.id,
          personId: a.personId,
          sessionId: a.sessionId,
          method: {
            LOCATION: CheckInMethod.LOCATION,
            CLASS_QR: CheckInMethod.CLASS_QR,
            OPERATOR_SCAN: CheckInMethod.OPERATOR_SCAN,
          }[a.method],
          distanceBucketM: a.distanceBucketM ?? 0,
          attendanceRateBp: rateBp,
          checkedInAt: timestampFromDate(a.checkedInAt),
          institutionId: c.institutionId,
          outcome: a.outcome === 'LATE' ? CheckInOutcome.LATE : CheckInOutcome.ON_TIME,
          recordedBy: a.recordedBy ?? '',
        },
      },
      a.checkedInAt,
    );
  },

  completionRecorded(e: EnrollmentRow, c: ClassRow, rateBp: number): EventRecord {
    const at = e.completionReviewedAt!;
    return buildEvent(
      {
        schema: CompletionRecordedSchema,
        topic: TOPICS.trainingEnrollment.name,
        subject: c.id,
        source: SOURCE,
        data: {
          enrollmentId: e.id,
          classId: c.id,
          institutionId: c.institutionId,
          personId: e.personId,
          regionCode: c.regionCode,
          passed: e.completionPassed === true,
          attendanceRateBp: rateBp,
          reviewerId: e.completionReviewedBy ?? '',
          occupation: c.occupation,
          level: c.level ?? '',
          recordedAt: timestampFromDate(at),
        },
      },
      at,
    );
  },

  institutionActivationChanged(i: InstitutionRow, at: Date, by: string): EventRecord {
    return buildEvent(
      {
        schema: InstitutionActivationChangedSchema,
        topic: TOPICS.trainingInstitution.name,
        subject: i.id,
        source: SOURCE,
        data: {
          institutionId: i.id,
          regionCode: i.regionCode,
          active: i.active,
          changedAt: timestampFromDate(at),
          changedBy: by,
        },
      },
      at,
    );
  },

  operatorMembershipChanged(o: OperatorRow, at: Date, by: string): EventRecord {
    return buildEvent(
      {
        schema: OperatorMembershipChangedSchema,
        topic: TOPICS.trainingInstitution.name,
        subject: o.institutionId,
        source: SOURCE,
        data: {
          institutionId: o.institutionId,
          operatorPersonId: o.personId,
          enabled: o.enabled,
          main: o.main,
          changedAt: timestampFromDate(at),
          changedBy: by,
        },
      },
      at,
    );
  },
};

/** Attended / scheduled sessions in basis points (10000 = 100 %). */
export function attendanceRateBp(attended: number, sessionCount: number): number {
  return sessionCount > 0 ? Math.min(10_000, Math.floor((attended * 10_000) / sessionCount)) : 0;
}
