import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A training institution (培训机构). */
@Entity('institutions')
export class InstitutionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'credit_code' }) creditCode!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') address!: string;
  @Column('double precision') latitude!: number;
  @Column('double precision') longitude!: number;
  /** Linked for voucher issuance (关联部端). */
  @Column('boolean') active!: boolean;
  @Column('timestamptz', { name: 'activation_changed_at', nullable: true }) activationChangedAt!: Date | null;
  @Column('text', { name: 'activation_changed_by', nullable: true }) activationChangedBy!: string | null;
  /** Trainees' scores (1–5) of the institution: count and sum, updated with each evaluation. */
  @Column('integer', { name: 'rating_count' }) ratingCount!: number;
  @Column('integer', { name: 'rating_sum' }) ratingSum!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** An operator (经办人): a person acting for one institution. At most one main operator per institution. */
@Entity('operators')
export class OperatorRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('boolean') main!: boolean;
  @Column('boolean') enabled!: boolean;
  /** What the operator does at the institution (e.g. 教务), never a name or phone. */
  @Column('text', { nullable: true }) position!: string | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

export type ChangeRequestState = 'SUBMITTED' | 'APPROVED' | 'REJECTED';

/** A change of name, location, main operator or operators, approved by the local bureau (Art. 10). */
@Entity('institution_change_requests')
export class ChangeRequestRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') state!: ChangeRequestState;
  @Column('text', { nullable: true }) name!: string | null;
  @Column('text', { nullable: true }) address!: string | null;
  @Column('double precision', { nullable: true }) latitude!: number | null;
  @Column('double precision', { nullable: true }) longitude!: number | null;
  @Column('uuid', { name: 'main_operator_person_id', nullable: true }) mainOperatorPersonId!: string | null;
  @Column('uuid', { name: 'add_operator_person_ids', array: true }) addOperatorPersonIds!: string[];
  @Column('uuid', { name: 'disable_operator_person_ids', array: true }) disableOperatorPersonIds!: string[];
  @Column('text') reason!: string;
  @Column('text', { name: 'requested_by' }) requestedBy!: string;
  @Column('timestamptz', { name: 'requested_at' }) requestedAt!: Date;
  @Column('text', { name: 'reviewed_by', nullable: true }) reviewedBy!: string | null;
  @Column('timestamptz', { name: 'reviewed_at', nullable: true }) reviewedAt!: Date | null;
  @Column('text', { name: 'rejection_reason', nullable: true }) rejectionReason!: string | null;
}

export type ClassPlanState = 'SUBMITTED' | 'APPROVED' | 'REJECTED';

/** A class plan (开班方案) and the class it becomes once approved. */
@Entity('classes')
export class ClassRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) level!: string | null;
  @Column('integer') headcount!: number;
  @Column('date', { name: 'start_date' }) startDate!: string;
  @Column('date', { name: 'end_date' }) endDate!: string;
  @Column('boolean') online!: boolean;
  /** Where the class is held when not at the institution's own address; null: the institution's. */
  @Column('text', { name: 'location_address', nullable: true }) locationAddress!: string | null;
  @Column('double precision', { name: 'location_latitude', nullable: true }) locationLatitude!: number | null;
  @Column('double precision', { name: 'location_longitude', nullable: true }) locationLongitude!:
    number | null;
  @Column('text') state!: ClassPlanState;
  @Column('integer', { name: 'session_count' }) sessionCount!: number;
  /** Trainees in PENDING_IDENTITY_CHECK or ACTIVE enrollments; never above the headcount. */
  @Column('integer', { name: 'enrolled_count' }) enrolledCount!: number;
  /** Active enrollments the institution put on the roster (名单). */
  @Column('integer', { name: 'roster_size' }) rosterSize!: number;
  @Column('text', { name: 'submitted_by', nullable: true }) submittedBy!: string | null;
  @Column('timestamptz', { name: 'approved_at', nullable: true }) approvedAt!: Date | null;
  @Column('text', { name: 'approved_by', nullable: true }) approvedBy!: string | null;
  @Column('timestamptz', { name: 'rejected_at', nullable: true }) rejectedAt!: Date | null;
  @Column('text', { name: 'rejected_by', nullable: true }) rejectedBy!: string | null;
  @Column('text', { name: 'rejection_reason', nullable: true }) rejectionReason!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** A course (课程) of a class. */
@Entity('courses')
export class CourseRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('integer') seq!: number;
  @Column('text') name!: string;
  /** Teaching hours (学时). */
  @Column('integer') hours!: number;
  @Column('text', { nullable: true }) description!: string | null;
}

/** A scheduled session (课次) with its time window. */
@Entity('class_sessions')
export class SessionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('integer') seq!: number;
  @Column('timestamptz', { name: 'starts_at' }) startsAt!: Date;
  @Column('timestamptz', { name: 'ends_at' }) endsAt!: Date;
  @Column('uuid', { name: 'course_id', nullable: true }) courseId!: string | null;
}

export type EnrollmentSource = 'ROSTER' | 'ONLINE';
export type EnrollmentState = 'PENDING_IDENTITY_CHECK' | 'ACTIVE' | 'REFUSED' | 'WITHDRAWN';

/** A person's place in a class (报名 / 名单). */
@Entity('enrollments')
export class EnrollmentRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') source!: EnrollmentSource;
  @Column('text') state!: EnrollmentState;
  @Column('timestamptz', { name: 'enrolled_at' }) enrolledAt!: Date;
  @Column('timestamptz', { name: 'identity_checked_at', nullable: true }) identityCheckedAt!: Date | null;
  @Column('text', { name: 'identity_checked_by', nullable: true }) identityCheckedBy!: string | null;
  @Column('integer', { name: 'attended_sessions' }) attendedSessions!: number;
  @Column('boolean', { name: 'completion_passed', nullable: true }) completionPassed!: boolean | null;
  @Column('text', { name: 'completion_reviewed_by', nullable: true }) completionReviewedBy!: string | null;
  @Column('timestamptz', { name: 'completion_reviewed_at', nullable: true })
  completionReviewedAt!: Date | null;
  @Column('text', { name: 'completion_remark', nullable: true }) completionRemark!: string | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

export type CheckInMethodName = 'LOCATION' | 'CLASS_QR' | 'OPERATOR_SCAN';
export type CheckInOutcomeName = 'ON_TIME' | 'LATE';

/** One check-in (打卡) of one person for one session: the outcome, never a position. */
@Entity('attendance')
export class AttendanceRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'enrollment_id' }) enrollmentId!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'session_id' }) sessionId!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') method!: CheckInMethodName;
  @Column('text') outcome!: CheckInOutcomeName;
  /** Distance to the class location rounded up to a bucket; null when not checked in by location. */
  @Column('integer', { name: 'distance_bucket_m', nullable: true }) distanceBucketM!: number | null;
  @Column('timestamptz', { name: 'checked_in_at' }) checkedInAt!: Date;
  @Column('text', { name: 'recorded_by', nullable: true }) recordedBy!: string | null;
}

export type EvaluationDirection = 'TRAINEE_TO_INSTITUTION' | 'INSTITUTION_TO_TRAINEE';

/** A score (1–5) with a comment: a trainee rating the institution, or the institution rating a trainee. */
@Entity('evaluations')
export class EvaluationRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'enrollment_id' }) enrollmentId!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text') direction!: EvaluationDirection;
  @Column('integer') score!: number;
  @Column('text', { nullable: true }) comment!: string | null;
  @Column('text', { name: 'author_id' }) authorId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}

/** Append-only record of every administrative action (who, what, when). */
@Entity('audit_log')
export class AuditRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('timestamptz') at!: Date;
  @Column('text', { name: 'actor_kind' }) actorKind!: string;
  @Column('text', { name: 'actor_id' }) actorId!: string;
  @Column('text') action!: string;
  @Column('text', { name: 'subject_type' }) subjectType!: string;
  @Column('uuid', { name: 'subject_id' }) subjectId!: string;
  @Column('jsonb') detail!: object;
}

export const ENTITIES = [
  InstitutionRow,
  OperatorRow,
  ChangeRequestRow,
  ClassRow,
  CourseRow,
  SessionRow,
  EnrollmentRow,
  AttendanceRow,
  EvaluationRow,
  AuditRow,
];
